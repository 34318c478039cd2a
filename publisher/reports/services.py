"""Engagement reports. "Gained from ``start`` to ``end``" is, per delivery and measure, the value at the end of
``end`` minus the value before ``start`` (days in the organisation's time zone). Because the collector keeps
per-day gains (``engagement_daily``), that difference is the sum of the period's days, so a report is one
aggregate query over small rows (whole months from the monthly roll-up, edge days from the daily one),
grouped once; every breakdown is summed from that same result, so each one
adds up to the totals.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Date,
    DateTime,
    Double,
    Integer,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    text,
    true,
    tuple_,
    type_coerce,
    union_all,
)

from publisher.accounts.models import Unit, User
from publisher.accounts.services import can_see_unit
from publisher.channels.models import Channel
from publisher.content.models import Campaign, Post
from publisher.content.services import get_campaign
from publisher.db import db
from publisher.engagement.config import REPORTED_MEASURES, engagement_config
from publisher.engagement.models import (
    EngagementChannelFreshness,
    EngagementChannelMonthly,
    EngagementChannelYearly,
    EngagementDaily,
    EngagementMonthly,
    EngagementPostMonthly,
    EngagementPostYearly,
    EngagementTotals,
)
from publisher.errors import NotFound, ValidationFailed
from publisher.ids import parse_id_text
from publisher.scheduler.models import Delivery
from publisher.settings import Settings

MAX_DAYS = 3700
PRESETS = ("month", "previous_month", "quarter", "previous_quarter", "half", "previous_half", "year",
           "previous_year")


@dataclass(frozen=True)
class Period:
    """Days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> int | None:
        """How many whole calendar months the period is, when it is exactly that (a month, quarter, half, year)."""
        if self.start.day != 1 or self.end != _month_end(self.end.year, self.end.month):
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        """The period of the same length just before this one: as many calendar months when the period is whole
        months (the first half-year is compared with the second half of the year before), else as many days."""
        months = self.months
        if months is not None:
            first = self.start.year * 12 + self.start.month - 1 - months
            start = date(first // 12, first % 12 + 1, 1)
            return Period(start, self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def _parse_date(raw: Any) -> date | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip()[:10]) if len(raw.strip()) == 10 else None
    except ValueError:
        return None


def parse_period(start_raw: Any, end_raw: Any) -> Period:
    """A period from two ISO dates; 422 naming the fields that are missing, malformed or out of order."""
    problems: dict[str, Any] = {}
    start, end = _parse_date(start_raw), _parse_date(end_raw)
    for key, raw, value in (("from", start_raw, start), ("to", end_raw, end)):
        if raw in (None, ""):
            problems[key] = _l("A date is required (YYYY-MM-DD).")
        elif value is None:
            problems[key] = _l("Not a valid date; use YYYY-MM-DD.")
    if start and end and end < start:
        problems["to"] = _l("The end date must not be before the start date.")
    if start and end and (end - start).days >= MAX_DAYS:
        problems["to"] = _l("A report covers at most %(n)s days.", n=MAX_DAYS)
    if problems:
        raise ValidationFailed(problems)
    return Period(start, end)  # type: ignore[arg-type]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def preset_period(name: str, today: date) -> Period:
    """Month, quarter, six months (half) or year containing ``today``, or the one before it."""
    if name not in PRESETS:
        raise ValidationFailed({"period": _l("Unknown period.")})
    previous = name.startswith("previous_")
    kind = name.removeprefix("previous_")
    months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[kind]
    first_month = (today.month - 1) // months * months + 1
    year = today.year
    if previous:
        first_month -= months
        if first_month < 1:
            first_month += 12
            year -= 1
    last_month = first_month + months - 1
    return Period(date(year, first_month, 1), _month_end(year, last_month))


# --- scope -----------------------------------------------------------------------------------------------


class UnitRow(NamedTuple):
    """A unit as a report lists it: plain columns (a province's roll-up covers 1,500 units; no ORM objects)."""
    id: int
    name: str
    parent_id: int | None
    path: str


@dataclass(frozen=True)
class Scope:
    unit: Unit
    units: tuple[UnitRow, ...]  # the unit, plus every unit below it when sub-units are included
    include_sub_units: bool
    campaign: Campaign | None

    @property
    def unit_ids(self) -> list[int]:
        return [u.id for u in self.units]

    @property
    def whole_tree(self) -> bool:
        """The root unit with every unit below it: every channel and every unit, no unit condition needed."""
        return self.include_sub_units and self.unit.parent_id is None


def parse_flag(raw: Any, key: str) -> bool:
    if raw is None or raw == "":
        return False
    value = str(raw).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValidationFailed({key: _l("Use true or false.")})


def parse_id(raw: Any, key: str) -> int | None:
    """An id from a query string (within the id columns' range: 422, never a database error)."""
    return parse_id_text(None if raw is None else str(raw), key)


def resolve_scope(user: User, unit_id: int | None = None, include_sub_units: bool = False,
                  campaign_id: int | None = None) -> Scope:
    """The units (and campaign) a report covers; 404 for anything the user may not see."""
    unit = user.unit if unit_id is None else db.session.get(Unit, unit_id)
    if unit is None or not can_see_unit(user, unit.path):
        raise NotFound(_l("No such organisation unit."))
    if include_sub_units:
        units = tuple(map(UnitRow._make, db.session.connection().execute(
            select(Unit.id, Unit.name, Unit.parent_id, Unit.path)
            .where(Unit.path.startswith(unit.path, autoescape=True)).order_by(Unit.path)).all()))
    else:
        units = (UnitRow(unit.id, unit.name, unit.parent_id, unit.path),)
    campaign = get_campaign(campaign_id, user) if campaign_id is not None else None
    return Scope(unit, units, include_sub_units, campaign)


# --- the aggregate ---------------------------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _whole_months(period: Period) -> tuple[date, date] | None:
    """The first and last day of the whole calendar months inside the period, if there is one."""
    first = period.start if period.start.day == 1 else _month_end(period.start.year, period.start.month) + timedelta(1)
    last = period.end if period.end == _month_end(period.end.year, period.end.month) else \
        _month_start(period.end) - timedelta(days=1)
    return (first, last) if first <= last else None


COORDINATES = ("channel_id", "post_id", "unit_id", "campaign_id")

# What a gains source can be read at: per delivery (every coordinate), per post, or per channel (with unit and
# campaign). Each has its own monthly roll-up; the days at a period's edges come from the per-delivery daily one.
GRAINS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "delivery": (EngagementMonthly, ("delivery_id", *COORDINATES)),
    "post": (EngagementPostMonthly, ("post_id", "unit_id", "campaign_id")),
    "channel": (EngagementChannelMonthly, ("channel_id", "unit_id", "campaign_id")),
}


def _scope_filter(model: Any, scope: Scope | None, named: bool = False) -> list[Any]:
    """The scope as conditions on a roll-up table's own copies of unit and campaign (no joins). ``named``: the
    values are the bind parameters of ``_scope_binds`` (one array for a subtree, whatever its size), so a
    statement built once serves every scope of the same shape."""
    if scope is None:
        return []
    conditions = []
    if not scope.include_sub_units:
        conditions.append(model.unit_id == (bindparam("scope_unit", type_=Integer) if named else scope.unit.id))
    elif scope.unit.parent_id is not None:  # the root's subtree is every unit: nothing to filter
        conditions.append(model.unit_id == func.any(bindparam("scope_units", type_=ARRAY(Integer))) if named
                          else model.unit_id.in_(scope.unit_ids))
    if scope.campaign is not None:
        conditions.append(model.campaign_id == (bindparam("scope_campaign", type_=Integer) if named
                                                else scope.campaign.id))
    return conditions


def _scope_binds(scope: Scope) -> dict[str, Any]:
    """The values of ``_scope_filter(..., named=True)``'s bind parameters (and the scope's unit list)."""
    return {"scope_unit": scope.unit.id, "scope_units": scope.unit_ids,
            "scope_campaign": scope.campaign.id if scope.campaign is not None else None}


def _scope_shape(scope: Scope) -> tuple[bool, bool, bool]:
    """What decides the scope's conditions (not their values)."""
    return scope.include_sub_units, scope.unit.parent_id is None, scope.campaign is not None


def _calendar_year(period: Period) -> int | None:
    """The year, when the period is exactly one calendar year (the per-post years then hold its posts' gains)."""
    year = period.start.year
    return year if (period.start, period.end) == (date(year, 1, 1), date(year, 12, 31)) else None


def _uses_channel_years(period: Period, scope: Scope) -> bool:
    """Whether a report's channel and unit breakdowns come from the per-channel years: a calendar year, for a
    scope outside any one campaign (those rows have no campaign)."""
    return _calendar_year(period) is not None and scope.campaign is None


def period_bounds(period: Period, monthly: bool = True) -> dict[str, date]:
    """The days and months a gains source reads for the period: ``start``–``end`` from the daily roll-up when it
    has no whole month (or ``monthly`` is off); else the whole months ``first``–``last_month`` (first days) from a
    monthly one, and the edge days ``start`` until ``before`` and after ``after`` until ``end``. The keys present
    are the source's shape; their values its bind parameters."""
    whole = _whole_months(period) if monthly else None
    if whole is None:
        return {"start": period.start, "end": period.end}
    first, last = whole
    bounds = {"first": first, "last_month": _month_start(last)}
    if period.start < first:
        bounds.update(start=period.start, before=first)
    if period.end > last:
        bounds.update(after=last, end=period.end)
    return bounds


def gains_source(period: Period, *, monthly: bool = True, scope: Scope | None = None, grain: str = "delivery",
                 measures: tuple[str, ...] = REPORTED_MEASURES, named: str | None = None) -> Any:
    """What was gained within the period (and scope), per day or month and per ``grain`` (see ``GRAINS``):
    whole months from that grain's monthly roll-up, the days at either edge from the daily one; a UNION ALL
    subquery with the grain's columns, ``day`` and the measures. The roll-ups carry their own copies of the
    channel, post, unit and campaign, so no other table is read.

    ``named``: the period's days are bind parameters named ``{named}_{key}`` after ``period_bounds`` and the
    scope's those of ``_scope_binds`` (for a statement built once per shape)."""
    d = EngagementDaily
    m, names = GRAINS[grain]
    bounds = period_bounds(period, monthly)

    def at(key: str) -> Any:
        return bindparam(f"{named}_{key}", bounds[key], type_=Date) if named else bounds[key]

    def part(model: Any, day: Any) -> Any:
        return select(*[getattr(model, name) for name in names], day.label("day"),
                      *[getattr(model, name) for name in measures]).where(*_scope_filter(model, scope, bool(named)))

    if "first" not in bounds:
        return part(d, d.day).where(d.day >= at("start"), d.day <= at("end")).subquery("gains")
    parts = [part(m, m.month).where(m.month >= at("first"), m.month <= at("last_month"))]
    if "before" in bounds:
        parts.append(part(d, d.day).where(d.day >= at("start"), d.day < at("before")))
    if "after" in bounds:
        parts.append(part(d, d.day).where(d.day > at("after"), d.day <= at("end")))
    if len(parts) == 1:
        return parts[0].subquery("gains")
    return union_all(*parts).subquery("gains")


def _sums(source: Any, measures: tuple[str, ...] = REPORTED_MEASURES) -> list[Any]:
    # cast: PostgreSQL's sum(bigint) is numeric, which would arrive as Decimal
    return [cast(func.coalesce(func.sum(source.c[name]), 0), BigInteger).label(name) for name in measures]


def _float_sum(column: Any) -> Any:
    """PostgreSQL: the sum of a bigint column added up as double precision. sum(bigint) keeps a 128-bit state per
    group and call; a double is added in place, which made the province's grouping sets and the top posts'
    aggregate about 40 % cheaper (EXPLAIN ANALYZE on bench/hierarchy_dashboard.py's tree). Exact: a double holds
    every integer up to 2**53 (9 * 10**15), far beyond any sum of views of a union's channels."""
    return func.sum(cast(column, Double))


def _fast_sums(source: Any, measures: tuple[str, ...] = REPORTED_MEASURES) -> list[Any]:
    """``_sums`` for PostgreSQL's breakdown statement (``_float_sum``), as bigint again."""
    return [cast(func.coalesce(_float_sum(source.c[name]), 0), BigInteger).label(name) for name in measures]


def gained_rows(scope: Scope, period: Period) -> list[Any]:
    """ONE aggregate query: gains per (channel, post, unit, campaign) within the period and scope."""
    source = gains_source(period, scope=scope)
    keys = [source.c[name] for name in COORDINATES]
    return list(db.session.execute(select(*keys, *_sums(source)).group_by(*keys)))


def period_totals(scope: Scope, period: Period) -> dict[str, int]:
    source = gains_source(period, scope=scope, grain="channel")
    row = db.session.execute(select(*_sums(source))).one()
    return {m: int(getattr(row, m) or 0) for m in REPORTED_MEASURES}


def trend(scope: Scope, period: Period, bucket: str = "auto") -> tuple[str, list[dict[str, Any]]]:
    """Gains per day, week (starting Monday) or month across the period, every bucket present (zeros too)."""
    bucket = resolve_bucket(period, bucket)
    source = gains_source(period, monthly=bucket == "month", scope=scope, grain="channel")
    stmt = select(source.c.day, *_sums(source)).group_by(source.c.day)
    rows = [(row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day)[:10]),
             tuple(int(v or 0) for v in row[1:])) for row in db.session.execute(stmt)]
    return bucket, _series(period, bucket, rows)


def _zero() -> dict[str, int]:
    return dict.fromkeys(REPORTED_MEASURES, 0)


def _add(into: dict[str, int], row: Any) -> None:
    for m in REPORTED_MEASURES:
        into[m] += int(getattr(row, m) or 0)


def change(current: dict[str, int], previous: dict[str, int]) -> dict[str, float | None]:
    """Relative change per measure (0.25 = +25 %); None when the previous period had nothing."""
    return {m: (current[m] - previous[m]) / previous[m] if previous[m] else None for m in REPORTED_MEASURES}


# Which breakdown a row of ``breakdown_rows`` belongs to: PostgreSQL's GROUPING() bit mask over
# (post, channel, unit, campaign, day); a set's own column is a 0 bit.
_SETS = {0b01111: "post", 0b10111: "channel", 0b11011: "unit", 0b11101: "campaign", 0b11110: "day",
         0b11111: "total"}


def _titles(post_ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(select(Post.id, Post.title).where(Post.id.in_(post_ids))).all()) if post_ids else {}


def _post_order(totals: dict[str, int], post_id: int) -> tuple[int, int, int]:
    """Top posts first: most views, then most engagement of every kind, then the oldest post."""
    return (-totals["views"], -sum(totals.values()), post_id)


_POST_ROW, _PREVIOUS_ROW, _CHANNEL_ROW = -2, -1, -4  # the "mask" of the rows that are not grouping sets


def _channel_branch(scope: Scope, sets: Any, channel_mask: int, measures: tuple[str, ...]) -> Any:
    """The statement's branch listing the scope's channels, ONE row each with its figures (the per-channel rows of
    the grouping sets ``sets``, joined here so that the client reads a channel once) and its freshness (as
    ``channel_freshness`` gives it), joined from the channels' freshness rows the collector keeps (one row per
    channel: a province joins 4,600 of them instead of aggregating 55,000 deliveries' totals). The scope's units
    are the bind parameter ``scope_units``."""
    c, f = Channel, EngagementChannelFreshness
    on = (sets.c.channel_id == c.id) & (sets.c.mask == channel_mask)
    figures = [sets.c[name] for name in measures]  # NULL: no figures in the period
    as_time = DateTime(timezone=True)  # psycopg reads timestamptz as aware datetimes: no per-row conversion
    stmt = (select(literal(_CHANNEL_ROW, Integer), literal(None, Integer), c.id, c.unit_id, literal(None, Integer),
                   literal(None, Date), c.name, c.kind, type_coerce(f.oldest, as_time), type_coerce(f.newest, as_time),
                   *figures, func.coalesce(f.failing, 0), func.coalesce(f.removed, 0),
                   case((f.channel_id.is_(None), 0), else_=1))
            .select_from(c).outerjoin(sets, on))
    if scope.whole_tree:  # the whole tree: every channel
        return stmt.outerjoin(f, f.channel_id == c.id)
    # Channels of the scope's units and any other channel that gained within it; the freshness of the scope's units
    units = func.any(bindparam("scope_units", type_=ARRAY(Integer)))
    return (stmt.outerjoin(f, (f.channel_id == c.id) & (f.unit_id == units))
            .where((c.unit_id == units) | sets.c.channel_id.is_not(None)))


def _breakdown_statement(scope: Scope, period: Period, *, days: bool, previous: Period | None,
                         top_posts: int | None, watch_time: bool, names: bool
                         ) -> tuple[Any, dict[int, tuple[str, int | None]]]:
    """``breakdown_rows``' PostgreSQL statement for the shape of these arguments, every value a bind parameter
    (``cur_*``/``prev_*`` after ``period_bounds``, ``scope_*``, ``top_posts``), and what each row's mask means:
    (breakdown, position of its key). Columns: mask, post, channel, unit, campaign, day, title, label, two times,
    the measures, and with ``names`` three counts (a channel row's failing, removed, has totals)."""
    measures = (*REPORTED_MEASURES, "watch_time") if watch_time else REPORTED_MEASURES
    none_int, none_date, none_text = literal(None, Integer), literal(None, Date), literal(None, String)
    none_time = literal(None, DateTime(timezone=True))
    counts = [literal(None, BigInteger)] * 3 if names else []  # the channel rows' freshness counts
    # The grouping sets over the per-channel monthly rows, which are few; when the period has edge days, their
    # per-delivery rows are first hashed once into (channel, unit, campaign[, day]), so the grouping sets hash that
    # small result instead. Each grouping set costs every row an aggregate step per measure, so the rows are
    # grouped into three sets only: the channel, the unit, and the campaign with the day; the campaign, day and
    # total breakdowns are then summed from the few (campaign, day) rows.
    keys = ("channel_id", "unit_id", "campaign_id", "day") if days else ("channel_id", "unit_id", "campaign_id")
    gains = gains_source(period, scope=scope, grain="channel", measures=measures, named="cur")
    if _whole_months(period) == (period.start, period.end):
        coarse = gains
    else:
        coarse = select(*[gains.c[n] for n in keys], *_fast_sums(gains, measures)) \
            .group_by(*[gains.c[n] for n in keys]).subquery("coarse")
    grouped = [coarse.c[n] for n in keys]
    # GROUPING(a, b, …) has a 1 bit for every column a row is not grouped by; a set's own column is its 0.
    full = (1 << len(grouped)) - 1
    kind_by_mask: dict[int, str] = {_POST_ROW: "post", _PREVIOUS_ROW: "previous", _CHANNEL_ROW: "channel_row",
                                    full: "total"}
    for i, name in enumerate(keys):
        kind_by_mask[full & ~(1 << (len(grouped) - 1 - i))] = name.removesuffix("_id")
    campaign_mask = next(mask for mask, kind in kind_by_mask.items() if kind == "campaign")
    channel_mask = next(mask for mask, kind in kind_by_mask.items() if kind == "channel")
    unit_mask = next(mask for mask, kind in kind_by_mask.items() if kind == "unit")
    campaign_day_mask = 0b1100  # the (campaign, day) set, summed again below (not a breakdown of its own)
    mask = func.grouping(*grouped)

    def campaign_name(campaign_id: Any, on_campaign_rows: Any) -> Any:
        # the campaign's name on the campaign rows only (a few dozen lookups, not one per row)
        if not names:
            return none_text
        return case((on_campaign_rows, select(Campaign.name).where(Campaign.id == campaign_id).scalar_subquery()),
                    else_=None)

    campaign_set = tuple_(coarse.c.campaign_id, coarse.c.day) if days else tuple_(coarse.c.campaign_id)
    if _uses_channel_years(period, scope):
        # A calendar year outside any one campaign: the channel and unit rows from the per-channel years (one row
        # per channel: 4,600 for a province instead of grouping its 62,000 months), the (campaign[, month]) rows
        # grouped once from the per-post months (the same sums, 26,000 rows instead of 62,000); the same rows,
        # masks and columns as the grouping sets give.
        cy = EngagementChannelYearly
        of_year = [cy.year == bindparam("cur_year", type_=Integer), *_scope_filter(cy, scope, named=True)]
        year_sums = [cast(_float_sum(getattr(cy, name)), BigInteger).label(name) for name in measures]
        coarse = gains_source(period, scope=scope, grain="post", measures=measures, named="cur")
        by_campaign = [coarse.c.campaign_id, coarse.c.day] if days else [coarse.c.campaign_id]
        sets = union_all(
            select(literal(channel_mask, Integer).label("mask"), none_int.label("post_id"),
                   cy.channel_id.label("channel_id"), none_int.label("unit_id"), none_int.label("campaign_id"),
                   none_date.label("day"), none_text.label("title"), none_text.label("label"), none_time.label("t1"),
                   none_time.label("t2"), *year_sums).where(*of_year).group_by(cy.channel_id),
            select(literal(unit_mask, Integer), none_int, none_int, cy.unit_id, none_int,
                   none_date, none_text, none_text, none_time, none_time, *year_sums)
            .where(*of_year).group_by(cy.unit_id),
            select(literal(campaign_day_mask if days else campaign_mask, Integer), none_int, none_int, none_int,
                   coarse.c.campaign_id, coarse.c.day if days else none_date,
                   none_text if days else campaign_name(coarse.c.campaign_id, true()), none_text, none_time,
                   none_time, *_fast_sums(coarse, measures)).group_by(*by_campaign),
        ).cte("sets")
    else:
        sets = (select(mask.label("mask"), none_int.label("post_id"), coarse.c.channel_id,
                       coarse.c.unit_id, coarse.c.campaign_id, (coarse.c.day if days else none_date).label("day"),
                       (none_text if days else campaign_name(coarse.c.campaign_id, mask == campaign_mask))
                       .label("title"), none_text.label("label"), none_time.label("t1"), none_time.label("t2"),
                       *_fast_sums(coarse, measures))
                .group_by(func.grouping_sets(tuple_(coarse.c.channel_id), tuple_(coarse.c.unit_id), campaign_set))
                .cte("sets"))
    passed = sets.c.mask != campaign_day_mask if days else true()
    if names:
        # The channels' own rows carry their figures (one row per channel, not two): the channel branch joins
        # them, so they are not listed here.
        passed = passed & (sets.c.mask != channel_mask)
    branches = [select(*sets.c, *counts).where(passed)]
    of_campaigns = sets.c.mask == (campaign_day_mask if days else campaign_mask)
    if days:  # campaign, day and total from the (campaign, day) rows; the mask as if grouped above
        by = func.grouping(sets.c.campaign_id, sets.c.day)
        branches.append(select((literal(campaign_day_mask, Integer) + by).label("mask"), none_int, none_int,
                               none_int, sets.c.campaign_id, sets.c.day, campaign_name(sets.c.campaign_id, by == 1),
                               none_text, none_time, none_time, *_sums(sets, measures), *counts)
                        .where(of_campaigns)
                        .group_by(func.grouping_sets(tuple_(sets.c.campaign_id), tuple_(sets.c.day), tuple_())))
    else:  # the total from the campaign rows
        branches.append(select(literal(full, Integer), none_int, none_int, none_int, none_int, none_date,
                               none_text, none_text, none_time, none_time, *_sums(sets, measures), *counts)
                        .where(of_campaigns))
    if top_posts is not None and top_posts != 0 and _calendar_year(period) is not None:
        # A calendar year's top posts: the first rows of the per-post years' index in views order (per unit, or
        # for the whole tree), not an aggregate of every post's months
        y = EngagementPostYearly
        everything = y.views + y.reactions + y.comments + y.shares
        agg = (select(y.post_id, *[getattr(y, name) for name in REPORTED_MEASURES])
               .where(y.year == bindparam("cur_year", type_=Integer), *_scope_filter(y, scope, named=True))
               .order_by(y.views.desc(), everything.desc(), y.post_id)
               .limit(bindparam("top_posts", type_=Integer)).subquery("per_post"))
        branches.append(select(literal(_POST_ROW, Integer), agg.c.post_id, none_int, none_int, none_int,
                               none_date, Post.title, none_text, none_time, none_time,
                               *[agg.c[name] for name in REPORTED_MEASURES],
                               *([literal(0, BigInteger)] if watch_time else []), *counts)
                        .outerjoin(Post, Post.id == agg.c.post_id))
    elif top_posts != 0:
        posts_source = gains_source(period, scope=scope, grain="post", named="cur")
        sums = _fast_sums(posts_source)
        per_post = select(posts_source.c.post_id, *sums).group_by(posts_source.c.post_id)
        if top_posts is not None:  # the order of _post_order
            plain = [_float_sum(posts_source.c[name]) for name in REPORTED_MEASURES]
            everything = plain[0]
            for term in plain[1:]:
                everything = everything + term
            per_post = per_post.order_by(plain[0].desc(), everything.desc(),
                                         posts_source.c.post_id).limit(bindparam("top_posts", type_=Integer))
        agg = per_post.subquery("per_post")
        # The titles join the (small) aggregate, not the roll-up rows.
        branches.append(select(literal(_POST_ROW, Integer), agg.c.post_id, none_int, none_int, none_int,
                               none_date, Post.title, none_text, none_time, none_time,
                               *[agg.c[name] for name in REPORTED_MEASURES],
                               *([literal(0, BigInteger)] if watch_time else []), *counts)
                        .outerjoin(Post, Post.id == agg.c.post_id))
    if previous is not None:
        branches.append(select(literal(_PREVIOUS_ROW, Integer), none_int, none_int, none_int, none_int, none_date,
                               none_text, none_text, none_time, none_time,
                               *_fast_sums(gains_source(previous, scope=scope, grain="channel",
                                                       measures=measures, named="prev"), measures), *counts))
    if names:
        branches.append(_channel_branch(scope, sets, channel_mask, measures))
    stmt = union_all(*branches) if len(branches) > 1 else branches[0]
    key_at = {"post": 1, "channel": 2, "unit": 3, "campaign": 4, "day": 5}
    return stmt, {mask: (kind, key_at.get(kind)) for mask, kind in kind_by_mask.items()}


# breakdown_rows' PostgreSQL statements by shape (a few dozen at most: which views, bounds and scope kind)
_BREAKDOWN_STATEMENTS: dict[tuple[Any, ...], tuple[Any, dict[int, tuple[str, int | None]]]] = {}


def breakdown_rows(scope: Scope, period: Period, *, days: bool = False, previous: Period | None = None,
                   top_posts: int | None = None, watch_time: bool = False, names: bool = False
                   ) -> list[tuple[str, Any, str | None, tuple[Any, ...]]]:
    """ONE statement over the roll-ups alone (no joins before grouping): the period's gains per channel, per unit,
    per campaign, in total, and (``days``) per day of the gains source (whole months appear as their first day);
    per post with the posts' titles (every post, or only the ``top_posts`` first in the order of
    ``_post_order``); and (``previous``) one "previous" row: the totals of that other period.

    Every breakdown but the posts' reads the per-channel roll-up (a few rows per channel, campaign and month), the
    posts the per-post one. On PostgreSQL the statement is a UNION ALL of independent branches (the grouping sets,
    the posts, the previous period); elsewhere (SQLite) every breakdown is its own part of a UNION ALL.
    Returns (breakdown, key, post title, (views, reactions, comments, shares)); with ``watch_time`` each figures
    tuple ends with the minutes watched too (0 on the posts' rows), so the page's watch time needs no statement of
    its own.

    ``names`` (PostgreSQL; elsewhere the caller reads them itself): the campaigns' rows carry the campaign's name
    (None once it was deleted), and "channel_row" rows list the channels of the scope instead of "channel" rows,
    one row per channel with its figures (key: the channel's id, title: its name, figures: (unit id, kind,
    oldest, newest, failing, removed, has totals (1 when the channel has a freshness row, else 0), then its gains
    in every measure: None when it has no figures in the period)), so a dashboard is ONE statement.
    """
    measures = (*REPORTED_MEASURES, "watch_time") if watch_time else REPORTED_MEASURES
    if top_posts is not None and top_posts < 0:
        raise ValueError("top_posts must not be negative")
    out: list[tuple[str, Any, str | None, tuple[int, ...]]] = []
    if db.session.get_bind().dialect.name == "postgresql":
        # The posts' hash holds every post of the period: room in memory, or PostgreSQL sorts on disk. The
        # transaction's time zone UTC: psycopg then reads the channels' two freshness times (9,000 values for a
        # province) with its fast UTC path, a third of the time a named zone such as Etc/UTC takes; the same
        # instants, with datetime.timezone.utc as UTCDateTime gives them. No statement of Loa's depends on the
        # session's zone (days and months are the organisation's, computed in Python).
        db.session.execute(text("SELECT set_config('work_mem', '64MB', true), set_config('TimeZone', 'UTC', true)"))
        bounds = period_bounds(period)
        previous_bounds = period_bounds(previous) if previous is not None else None
        shape = (days, watch_time, names, top_posts is None, top_posts == 0, tuple(bounds),
                 tuple(previous_bounds) if previous_bounds is not None else None, _scope_shape(scope),
                 _calendar_year(period) is not None)
        built = _BREAKDOWN_STATEMENTS.get(shape)
        if built is None:  # the statement is built once per shape; its values are bind parameters
            built = _BREAKDOWN_STATEMENTS[shape] = _breakdown_statement(
                scope, period, days=days, previous=previous, top_posts=top_posts, watch_time=watch_time,
                names=names)
        stmt, columns = built
        params = {**{f"cur_{key}": value for key, value in bounds.items()}, **_scope_binds(scope),
                  "top_posts": top_posts, "cur_year": period.start.year}
        if previous_bounds is not None:
            params.update({f"prev_{key}": value for key, value in previous_bounds.items()})
        # Plain tuples and positions; one fetch, not a round of fetchone calls, and per row only what formats it.
        append = out.append
        n = 10 + len(measures)  # where the figures end (and a channel row's counts begin)
        for row in db.session.connection().execute(stmt, params).all():
            kind, at = columns[row[0]]
            if kind == "channel_row":
                append((kind, row[2], row[6], (row[3], row[7], row[8], row[9], row[n], row[n + 1], row[n + 2],
                                               *row[10:n])))
            elif kind == "post":
                append((kind, row[1], row[6] or "", tuple(row[10:n])))
            else:
                append((kind, None if at is None else row[at], row[6] if kind == "campaign" else None,
                        tuple(row[10:n])))
        return out
    source = gains_source(period, scope=scope, grain="channel", measures=measures)
    posts_source = gains_source(period, scope=scope, grain="post", measures=measures)
    parts = []
    groups: list[tuple[str, Any, Any]] = [("post", posts_source.c.post_id, posts_source)] if top_posts != 0 else []
    groups += [("channel", source.c.channel_id, source), ("unit", source.c.unit_id, source),
               ("campaign", source.c.campaign_id, source), ("total", None, source)]
    if days:
        groups.append(("day", source.c.day, source))
    for kind, column, origin in groups:
        key = column if column is not None else literal(None, Integer)
        if kind == "day":
            key = func.cast(column, String)
        part = select(literal(kind).label("kind"), key.label("key"), *_sums(origin, measures))
        parts.append(part.group_by(column) if column is not None else part)
    if previous is not None:
        parts.append(select(literal("previous").label("kind"), literal(None, Integer).label("key"),
                            *_sums(gains_source(previous, scope=scope, grain="channel", measures=measures),
                                   measures)))
    for row in db.session.execute(union_all(*parts)):
        key = date.fromisoformat(str(row.key)[:10]) if row.kind == "day" else row.key
        if row.kind in ("post", "channel", "unit", "campaign") and key is not None:
            key = int(key)
        values = tuple(int(v or 0) for v in row[-len(measures):])
        out.append((row.kind, key, None, values[:4] + (0,) if watch_time and row.kind == "post" else values))
    if top_posts:
        ranked = sorted((row for row in out if row[0] == "post"),
                        key=lambda row: _post_order(dict(zip(REPORTED_MEASURES, row[3][:4], strict=True)), row[1]))
        out = [row for row in out if row[0] != "post"] + ranked[:top_posts]
    titles = _titles([key for kind, key, _title, _values in out if kind == "post"])
    return [(kind, key, titles.get(key, "") if kind == "post" else None, values) for kind, key, _t, values in out]


def resolve_bucket(period: Period, bucket: str) -> str:
    if bucket == "auto":
        return "day" if period.days <= 62 else "week" if period.days <= 190 else "month"
    return bucket


def _series(period: Period, bucket: str, rows: list[tuple[date, tuple[int, ...]]],
            measures: tuple[str, ...] = REPORTED_MEASURES) -> list[dict[str, Any]]:
    def key(day: date) -> date:
        if bucket == "week":
            return day - timedelta(days=day.weekday())
        if bucket == "month":
            return day.replace(day=1)
        return day

    # Every bucket the period touches, zeros too: one step per bucket (a year's months: 12 steps, not 365 days)
    series: dict[date, dict[str, int]] = {}
    start = key(period.start)
    while start <= period.end:
        series[start] = dict.fromkeys(measures, 0)
        if bucket == "month":
            start = (start + timedelta(days=31)).replace(day=1)
        else:
            start += timedelta(days=7 if bucket == "week" else 1)
    for day, values in rows:
        bucket_values = series[key(day)]
        for m, v in zip(measures, values, strict=True):
            bucket_values[m] += v
    return [{"start": start, **values} for start, values in sorted(series.items())]


def engagement_report(scope: Scope, period: Period, settings: Settings | None = None, *,
                      with_previous: bool = True, trend_bucket: str | None = None,
                      top_posts: int | None = None) -> dict[str, Any]:
    return _engagement_report(scope, period, settings, with_previous=with_previous, trend_bucket=trend_bucket,
                              top_posts=top_posts)[0]


def _engagement_report(scope: Scope, period: Period, settings: Settings | None = None, *,
                       with_previous: bool = True, trend_bucket: str | None = None,
                       top_posts: int | None = None) -> tuple[dict[str, Any], dict[int, dict[str, Any]] | None]:
    """Totals, by channel, by post, by campaign and (with sub-units) by unit, plus the previous period; with
    ``trend_bucket`` also the trend series under "trend" (a monthly trend comes out of the same statement), and
    the watch time (a monthly trend's minutes come out of that statement too).

    ``by_post`` lists every post that gained anything (so that it sums to the totals), or with ``top_posts`` only
    that many, the top ones (what a page shows; PostgreSQL then returns only those).

    The report is assembled from the statement's rows: one pass over them, then one over the channels' and units'
    plain rows (a province's roll-up lists 4,600 channels and 1,500 units), with no query or lookup per row."""
    bucket = resolve_bucket(period, trend_bucket) if trend_bucket else None
    # A monthly trend with the previous period: the watch time rides in the breakdown statement
    folded_watch = bucket == "month" and with_previous
    totals = _zero()
    day_rows: list[tuple[date, tuple[int, ...]]] = []
    by_channel: dict[int, dict[str, int]] = {}
    by_unit: dict[int, dict[str, int]] = {}
    by_campaign: dict[int | None, dict[str, int]] = {}
    post_list: list[dict[str, Any]] = []
    previous_totals = _zero()
    watch_by_channel: dict[int, int] = {}
    watch_days: list[tuple[date, tuple[int, ...]]] = []
    watch_total = watch_previous = 0
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    rows = breakdown_rows(scope, period, days=bucket == "month", previous=period.previous() if with_previous else None,
                          top_posts=top_posts, watch_time=folded_watch, names=postgresql)
    measures = REPORTED_MEASURES
    channel_rows: list[tuple[int, str, tuple[Any, ...]]] = []
    names: dict[int, str] = {}
    for kind, key, title, values in rows:
        if kind == "channel_row":
            channel_rows.append((key, title or "", values))
            continue
        figures = dict(zip(measures, values[:4], strict=True))
        if kind == "previous":
            previous_totals = figures
            if folded_watch:
                watch_previous = values[4]
        elif kind == "day":
            day_rows.append((key, values[:4]))
            if folded_watch:
                watch_days.append((key, (values[4],)))
        elif kind == "post":
            post_list.append({"post_id": key, "title": title or "", "totals": figures})
        elif kind == "channel":
            by_channel[key] = figures
            if folded_watch:
                watch_by_channel[key] = values[4]
        elif kind == "unit":
            by_unit[key] = figures
        elif kind == "campaign":
            by_campaign[key] = figures
            if title is not None:
                names[key] = title
        else:
            totals = figures
            if folded_watch:
                watch_total = values[4]
    post_list.sort(key=lambda p: _post_order(p["totals"], p["post_id"]))

    watch: dict[str, Any] | None = None
    series: list[dict[str, Any]] | None = None
    used_bucket = bucket
    if bucket == "month":
        series = _series(period, bucket, day_rows)
    elif bucket:
        used_bucket, series = trend(scope, period, bucket)
    if bucket:
        if folded_watch:
            watch = {"total": watch_total, "previous": watch_previous, "by_channel": watch_by_channel,
                     "series": _series(period, "month", watch_days, ("watch_time",))}
        else:
            watch = watch_time_report(scope, period, used_bucket)  # type: ignore[arg-type]

    config = engagement_config(settings)
    # Plain columns through the connection (a province has thousands of channels: no ORM objects or row
    # processing, no secrets decoded)
    freshness: dict[int, dict[str, Any]] | None = None
    states: dict[str, dict[str, str]] = {}
    watch_states: dict[str, str] = {}

    def kind_states(kind: str) -> dict[str, str]:
        if kind not in states:
            mapping = config.mapping(kind)
            states[kind] = {m: mapping.state(m) for m in REPORTED_MEASURES}
            watch_states[kind] = mapping.state("watch_time")
        return states[kind]

    channel_list = []
    with_watch = watch is not None
    watch_minutes = watch["by_channel"] if watch is not None else {}
    if postgresql:
        # The channels came with the statement, one row each with its figures and its freshness: each becomes its
        # entry directly, in channel order (then most views first, below).
        channel_rows.sort(key=itemgetter(0))
        fresh: dict[int, dict[str, Any]] = {}
        freshness = fresh
        # values: (unit id, kind, oldest, newest, failing, removed, has totals, then the figures), read by position
        # (4,600 channels a province: no starred unpacking, which builds a list per row)
        for channel_id, name, values in channel_rows:
            kind = values[1]
            if values[7] is None:  # no figures in the period
                gained = _zero()
            else:
                gained = {"views": values[7], "reactions": values[8], "comments": values[9], "shares": values[10]}
                if folded_watch:
                    watch_by_channel[channel_id] = values[11]
            entry = {"channel_id": channel_id, "kind": kind, "name": name, "unit_id": values[0], "totals": gained,
                     "measure_states": dict(states[kind] if kind in states else kind_states(kind))}
            if with_watch:
                entry["watch_time"] = watch_minutes.get(channel_id, 0)
                entry["watch_time_state"] = watch_states[kind]
            channel_list.append(entry)
            if values[6]:
                fresh[channel_id] = {"oldest": values[2], "newest": values[3], "failing": int(values[4] or 0),
                                     "removed": int(values[5] or 0)}
    else:
        channel_stmt = select(Channel.id, Channel.kind, Channel.name, Channel.unit_id)
        if not scope.whole_tree:  # the root's subtree is every channel
            channel_stmt = channel_stmt.where(
                (Channel.unit_id.in_(scope.unit_ids)) | (Channel.id.in_(list(by_channel) or [0])))
        for channel_id, kind, name, unit_id in sorted(db.session.connection().execute(channel_stmt).all(),
                                                      key=itemgetter(0)):
            entry = {"channel_id": channel_id, "kind": kind, "name": name, "unit_id": unit_id,
                     "totals": by_channel.get(channel_id) or _zero(), "measure_states": dict(kind_states(kind))}
            if with_watch:
                entry["watch_time"] = watch_minutes.get(channel_id, 0)
                entry["watch_time_state"] = watch_states[kind]
            channel_list.append(entry)
    channel_list.sort(key=lambda c: c["totals"]["views"], reverse=True)  # most views first; stable: then by id

    if not postgresql:
        names = dict(db.session.execute(select(Campaign.id, Campaign.name).where(
            Campaign.id.in_([c for c in by_campaign if c is not None] or [0]))).all())
    for cid in [c for c in by_campaign if c is not None and c not in names]:
        # a deleted campaign's posts are outside any campaign now (the per-channel roll-up keeps its old key)
        gone = by_campaign.pop(cid)
        kept = by_campaign.setdefault(None, _zero())
        for m in REPORTED_MEASURES:
            kept[m] += gone[m]
    campaign_list = [{"campaign_id": cid, "name": names.get(cid, "") if cid is not None else None, "totals": t}
                     for cid, t in by_campaign.items()]
    campaign_list.sort(key=lambda c: (-c["totals"]["views"], c["campaign_id"] or 0))

    report: dict[str, Any] = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "unit_id": scope.unit.id,
        "campaign_id": scope.campaign.id if scope.campaign else None,
        "totals": totals,
        "by_channel": channel_list,
        "by_post": post_list,
        "by_campaign": campaign_list,
    }
    if scope.include_sub_units:
        report["by_unit"] = [{"unit_id": u.id, "name": u.name, "parent_id": u.parent_id,
                              "totals": by_unit.get(u.id) or _zero()} for u in scope.units]
    if bucket and series is not None and watch is not None:
        report["trend"] = {"bucket": used_bucket, "series": series}
        # The page and the documents (the API's shape stays as it is)
        for point, minutes in zip(series, watch.pop("series"), strict=True):
            point["watch_time"] = minutes["watch_time"]
        # Shown where a channel's platform gives watch time (YouTube), or wherever some was collected
        watch["available"] = bool(watch["total"] or watch["previous"]) or "ok" in watch_states.values()
        report["watch_time"] = watch
    if with_previous:
        previous = period.previous()
        report["previous"] = {"from": previous.start.isoformat(), "to": previous.end.isoformat(),
                              "totals": previous_totals, "change": change(totals, previous_totals)}
    return report, freshness


def watch_time_report(scope: Scope, period: Period, bucket: str) -> dict[str, Any]:
    """Minutes of video watched (where a platform gives them: YouTube's ``estimatedMinutesWatched``), beside the
    report's other figures and not inside its ``totals``: in total, per channel, per trend bucket and in the
    previous period. ONE statement over the per-channel roll-up (a UNION ALL of the three groupings)."""
    only = ("watch_time",)
    source = gains_source(period, monthly=bucket == "month", scope=scope, grain="channel", measures=only)
    previous = gains_source(period.previous(), scope=scope, grain="channel", measures=only)
    total = cast(func.coalesce(func.sum(source.c.watch_time), 0), BigInteger)
    stmt = union_all(
        select(literal("channel").label("kind"), source.c.channel_id.label("channel_id"),
               literal(None, String).label("day"), total.label("minutes")).group_by(source.c.channel_id),
        select(literal("day"), literal(None, Integer), func.cast(source.c.day, String), total).group_by(source.c.day),
        select(literal("previous"), literal(None, Integer), literal(None, String),
               cast(func.coalesce(func.sum(previous.c.watch_time), 0), BigInteger)))
    by_channel: dict[int, int] = {}
    days: list[tuple[date, tuple[int, ...]]] = []
    before = 0
    for kind, channel_id, day, minutes in db.session.execute(stmt).all():
        if kind == "channel":
            by_channel[int(channel_id)] = int(minutes or 0)
        elif kind == "day":
            days.append((date.fromisoformat(str(day)[:10]), (int(minutes or 0),)))
        else:
            before = int(minutes or 0)
    return {"total": sum(by_channel.values()), "previous": before, "by_channel": by_channel,
            "series": _series(period, bucket, days, only)}


DASHBOARD_TOP_POSTS = 10  # posts the dashboard (and the PDF report) lists


def dashboard_report(scope: Scope, period: Period, settings: Settings | None = None, bucket: str = "auto"
                     ) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """Everything the leadership dashboard asks the database for: the report with its top posts and trend, and
    the channels' freshness."""
    report, freshness = _engagement_report(scope, period, settings, trend_bucket=bucket,
                                           top_posts=DASHBOARD_TOP_POSTS)
    if freshness is None:  # not in the report's statement (SQLite)
        freshness = channel_freshness(scope)
    return report, freshness


def channel_freshness(scope: Scope) -> dict[int, dict[str, Any]]:
    """Per channel of the scope's units: the oldest figures' time, deliveries whose last read failed, remote posts
    removed; read from the channels' freshness rows the collector keeps (one per channel with totals)."""
    f = EngagementChannelFreshness
    oldest, newest = f.oldest, f.newest
    if db.session.get_bind().dialect.name == "postgresql":
        # psycopg already reads timestamptz as aware datetimes: skip UTCDateTime's per-row conversion (a province
        # has 4,600 channels); SQLite's naive values still go through it.
        oldest, newest = type_coerce(oldest, DateTime(timezone=True)), type_coerce(newest, DateTime(timezone=True))
    stmt = select(f.channel_id, oldest, newest, f.failing, f.removed)
    if not scope.whole_tree:
        stmt = stmt.where(f.unit_id.in_(scope.unit_ids))
    return {cid: {"oldest": oldest, "newest": newest, "failing": int(failing or 0), "removed": int(removed or 0)}
            for cid, oldest, newest, failing, removed in db.session.connection().execute(stmt).all()}


def campaign_posts_report(scope: Scope) -> list[dict[str, Any]]:
    """A campaign's posts with, per channel, their latest totals (reach and engagement), age and removal."""
    assert scope.campaign is not None
    stmt = (select(Post, Delivery, Channel, EngagementTotals)
            .join(Delivery, Delivery.post_id == Post.id)
            .join(Channel, Channel.id == Delivery.channel_id)
            .outerjoin(EngagementTotals, EngagementTotals.delivery_id == Delivery.id)
            .where(Post.campaign_id == scope.campaign.id, Delivery.unit_id.in_(scope.unit_ids),
                   Delivery.state.in_(("published", "unpublished")))
            .order_by(Post.id, Channel.id))
    posts: dict[int, dict[str, Any]] = {}
    for post, delivery, channel, totals in db.session.execute(stmt):
        entry = posts.setdefault(post.id, {"post": post, "channels": [], "totals": _zero()})
        figures = {m: (totals.value(m) if totals else 0) for m in REPORTED_MEASURES}
        for m in REPORTED_MEASURES:
            entry["totals"][m] += figures[m]
        entry["channels"].append({"delivery": delivery, "channel": channel, "figures": figures,
                                  "collected_at": totals.collected_at if totals else None,
                                  "removed": bool(totals and totals.removed),
                                  "error": totals.last_error if totals else None,
                                  "states": dict(totals.measure_states or {}) if totals else {}})
    return list(posts.values())


def detail_rows(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """The underlying figures: one row per (channel, post) with what it gained in the period, named."""
    rows = gained_rows(scope, period)
    merged: dict[tuple[int, int, int], dict[str, Any]] = {}
    for row in rows:
        entry = merged.setdefault((row.channel_id, row.post_id, row.unit_id),
                                  {"channel_id": row.channel_id, "post_id": row.post_id, "unit_id": row.unit_id,
                                   "campaign_id": row.campaign_id, **_zero()})
        _add(entry, row)
    channel_ids = {k[0] for k in merged}
    post_ids = {k[1] for k in merged}
    unit_ids = {k[2] for k in merged}
    channels = {c.id: c for c in db.session.scalars(select(Channel).where(Channel.id.in_(channel_ids or {0})))}
    posts = dict(db.session.execute(select(Post.id, Post.title).where(Post.id.in_(post_ids or {0}))).all())
    units = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids or {0}))).all())
    campaign_ids = {e["campaign_id"] for e in merged.values() if e["campaign_id"]}
    campaigns = dict(db.session.execute(select(Campaign.id, Campaign.name)
                                        .where(Campaign.id.in_(campaign_ids or {0}))).all())
    out = []
    for entry in merged.values():
        channel = channels.get(entry["channel_id"])
        out.append({**entry, "channel": channel.name if channel else "", "kind": channel.kind if channel else "",
                    "title": posts.get(entry["post_id"], ""), "unit": units.get(entry["unit_id"], ""),
                    "campaign": campaigns.get(entry["campaign_id"], "") if entry["campaign_id"] else ""})
    out.sort(key=lambda e: (e["unit"], e["channel"], -e["views"], e["post_id"]))
    return out


def period_campaigns(scope: Scope, period: Period, by_campaign: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The campaigns of the period: those of the scope's units whose dates meet the period, and any other that
    gained something in it (``by_campaign`` of the report), with their gains; most views first."""
    gained = {c["campaign_id"]: c["totals"] for c in by_campaign if c["campaign_id"] is not None}
    stmt = select(Campaign).where(
        (Campaign.id.in_(list(gained) or [0]))
        | (Campaign.unit_id.in_(scope.unit_ids)
           & ((Campaign.starts_on.is_(None)) | (Campaign.starts_on <= period.end))
           & ((Campaign.ends_on.is_(None)) | (Campaign.ends_on >= period.start))
           & ((Campaign.starts_on.is_not(None)) | (Campaign.ends_on.is_not(None)))))
    if scope.campaign is not None:
        stmt = stmt.where(Campaign.id == scope.campaign.id)
    out = [{"campaign_id": c.id, "name": c.name, "starts_on": c.starts_on, "ends_on": c.ends_on,
            "totals": dict(gained.get(c.id, _zero()))} for c in db.session.scalars(stmt)]
    out.sort(key=lambda c: (-c["totals"]["views"], c["name"]))
    return out

