"""Engagement collection: which deliveries are due, reading their figures through the channel adapters in
batches, storing snapshots, daily gains and latest totals; and the comments inbox.

Figures never go backwards: a read lower than the stored value (a partial or lagging answer) is ignored. A
channel that fails to answer leaves the last known figures in place (their ``collected_at`` tells their age);
a remote post reported as removed keeps its figures and history and is no longer collected.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Integer, case, cast, delete, exists, extract, func, insert, or_, select

from publisher.accounts.models import User
from publisher.accounts.services import can_see_unit, require_role, visible_filter
from publisher.audit import record
from publisher.channels.base import ChannelError, ErrorKind, Metrics, RemoteComment
from publisher.channels.models import Channel
from publisher.channels.services import adapter_for
from publisher.content.models import Post
from publisher.db import db, utcnow
from publisher.engagement.config import MEASURE_CODES, MEASURES, EngagementConfig, engagement_config
from publisher.engagement.models import (
    CHANNEL_MONTHLY_KEY,
    EngagementChannelFreshness,
    EngagementChannelMonthly,
    EngagementChannelYearly,
    EngagementDaily,
    EngagementMonthly,
    EngagementPostMonthly,
    EngagementPostYearly,
    EngagementSnapshot,
    EngagementTotals,
    InboxComment,
    add_rows,
    channel_month,
)
from publisher.errors import NotFound, ValidationFailed
from publisher.scheduler.models import Delivery
from publisher.settings import Settings

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(minutes=15)
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
CLAIM_FOR = timedelta(minutes=10)  # a round's jobs own their deliveries this long before another round may


@dataclass
class RoundResult:
    """What one collection round (or one channel batch job) did, in deliveries."""

    updated: int = 0
    failed: int = 0
    deferred: int = 0
    removed: int = 0
    comments: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: RoundResult) -> None:
        self.updated += other.updated
        self.failed += other.failed
        self.deferred += other.deferred
        self.removed += other.removed
        self.comments += other.comments
        self.errors.extend(other.errors)


def current_settings() -> Settings:
    return current_app.extensions["publisher.settings"]


def local_day(moment: datetime, settings: Settings) -> date:
    return moment.astimezone(settings.zone).date()


# --- picking what to collect -----------------------------------------------------------------------------


def due_deliveries(now: datetime, *, every_published: bool = False) -> dict[int, list[int]]:
    """Published deliveries due for collection, grouped by channel: {channel_id: [delivery_id, ...]}.

    Due means never collected, or ``next_due_at`` reached; ``every_published`` takes every published delivery
    whose remote post has not been removed, whatever its cadence.
    """
    stmt = (select(Delivery.channel_id, Delivery.id)
            .outerjoin(EngagementTotals, EngagementTotals.delivery_id == Delivery.id)
            .where(Delivery.state == "published", Delivery.remote_id.is_not(None),
                   or_(EngagementTotals.delivery_id.is_(None), EngagementTotals.removed.is_(False))))
    if not every_published:
        stmt = stmt.where(or_(EngagementTotals.delivery_id.is_(None), EngagementTotals.next_due_at <= now))
    grouped: dict[int, list[int]] = defaultdict(list)
    for channel_id, delivery_id in db.session.execute(stmt.order_by(Delivery.channel_id, Delivery.id)):
        grouped[channel_id].append(delivery_id)
    return dict(grouped)


def next_due(delivery: Delivery, now: datetime, config: EngagementConfig) -> datetime | None:
    """When to collect again: by the post's age (frequent while fresh); None past the last cadence step."""
    published = delivery.published_at or now
    interval = config.interval(now - published)
    return now + interval if interval is not None else None


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _totals_for(delivery_ids: list[int]) -> dict[int, EngagementTotals]:
    """The latest-totals row of each delivery, inserted at zero where there is none yet. The insert ignores rows
    that another scheduler or job inserted since this one looked (two rounds may plan the same deliveries), and
    those rows are then read like the others."""
    rows = db.session.scalars(select(EngagementTotals).where(EngagementTotals.delivery_id.in_(delivery_ids)))
    found = {row.delivery_id: row for row in rows}
    missing = [i for i in delivery_ids if i not in found]
    if not missing:
        return found
    zero = {"views": 0, "reactions": 0, "comments": 0, "shares": 0, "removed": False, "measure_states": {}}
    _upsert(EngagementTotals, [
        {"delivery_id": delivery_id, "channel_id": channel_id, "unit_id": unit_id, **zero}
        for delivery_id, channel_id, unit_id in db.session.execute(
            select(Delivery.id, Delivery.channel_id, Delivery.unit_id).where(Delivery.id.in_(missing))
            .order_by(Delivery.id))], ["delivery_id"])
    found.update((row.delivery_id, row) for row in db.session.scalars(
        select(EngagementTotals).where(EngagementTotals.delivery_id.in_(missing))))
    return found


def claim_deliveries(delivery_ids: list[int], now: datetime) -> None:
    """Hold deliveries for the jobs just planned, so the next periodic round does not queue them again."""
    for totals in _totals_for(delivery_ids).values():
        totals.next_due_at = now + CLAIM_FOR
    db.session.flush()


# --- collecting ------------------------------------------------------------------------------------------


def _upsert(model: type, rows: list[dict[str, Any]], keys: list[str], add_columns: tuple[str, ...] = ()) -> None:
    """INSERT … ON CONFLICT on PostgreSQL and SQLite: ignore duplicates, or add ``add_columns`` to the stored row."""
    add_rows(db.session.connection(), model.__table__, rows, keys, add_columns)  # type: ignore[attr-defined]


def _gains_row(rows: dict[Any, dict[str, Any]], key: Any, **coordinates: Any) -> dict[str, Any]:
    """The roll-up row for ``key`` among ``rows``, added with its coordinates and every measure at 0 when it is not
    there yet (``channel_month`` does the same for the per-channel months' key)."""
    return rows.setdefault(key, {**coordinates, **dict.fromkeys(MEASURES, 0)})


class PeriodRollups:
    """Gains for the roll-ups that several deliveries share (per post and month, per post and year; per channel,
    unit, campaign and month; per channel, unit and year), gathered over a batch and written at its end, once per
    row and in key order (the post's months, its years, the channels' months, then their years): concurrent jobs (another chunk of the same channel,
    another channel of the same post) then lock shared rows in one order, so they wait for each other instead of
    deadlocking."""

    def __init__(self) -> None:
        self.posts: dict[tuple[int, date], dict[str, Any]] = {}
        self.years: dict[tuple[int, int], dict[str, Any]] = {}
        self.channels: dict[tuple[date, int, int, int], dict[str, Any]] = {}
        self.channel_years: dict[tuple[int, int, int], dict[str, Any]] = {}

    def add(self, where: dict[str, Any], month: date, gains: dict[str, int]) -> None:
        post, campaign = {"post_id": where["post_id"], "unit_id": where["unit_id"]}, where["campaign_id"]
        rows = (_gains_row(self.posts, (where["post_id"], month), **post, month=month, campaign_id=campaign),
                _gains_row(self.years, (where["post_id"], month.year), **post, year=month.year, campaign_id=campaign),
                channel_month(self.channels, month, where["channel_id"], where["unit_id"], campaign),
                _gains_row(self.channel_years, (month.year, where["channel_id"], where["unit_id"]), year=month.year,
                           channel_id=where["channel_id"], unit_id=where["unit_id"]))
        for name in MEASURES:
            for row in rows:
                row[name] += gains.get(name, 0)

    def write(self) -> None:
        _upsert(EngagementPostMonthly, [self.posts[k] for k in sorted(self.posts)], ["post_id", "month"], MEASURES)
        _upsert(EngagementPostYearly, [self.years[k] for k in sorted(self.years)], ["post_id", "year"], MEASURES)
        _upsert(EngagementChannelMonthly, [self.channels[k] for k in sorted(self.channels)], CHANNEL_MONTHLY_KEY,
                MEASURES)
        _upsert(EngagementChannelYearly, [self.channel_years[k] for k in sorted(self.channel_years)],
                ["year", "channel_id", "unit_id"], MEASURES)
        self.posts.clear()
        self.years.clear()
        self.channels.clear()
        self.channel_years.clear()


def _sums_of(model: type) -> list[Any]:
    """``sum(measure)`` of every measure of a roll-up model, in ``MEASURES`` order."""
    return [func.sum(getattr(model, name)) for name in MEASURES]


def rebuild_period_rollups() -> None:
    """Recompute the per-post monthly and yearly and the per-channel monthly and yearly roll-ups from the
    per-delivery monthly rows (a repair, and how bulk loads fill them)."""
    m = EngagementMonthly
    sums = _sums_of(m)
    db.session.execute(delete(EngagementPostMonthly))
    db.session.execute(delete(EngagementPostYearly))
    db.session.execute(delete(EngagementChannelMonthly))
    db.session.execute(delete(EngagementChannelYearly))
    db.session.execute(insert(EngagementPostMonthly).from_select(
        ["post_id", "month", "unit_id", "campaign_id", *MEASURES],
        select(m.post_id, m.month, func.min(m.unit_id), func.min(m.campaign_id), *sums).group_by(m.post_id, m.month)))
    p = EngagementPostMonthly  # the years from the (fewer) per-post months just written
    year = cast(extract("year", p.month), Integer)
    db.session.execute(insert(EngagementPostYearly).from_select(
        ["post_id", "year", "unit_id", "campaign_id", *MEASURES],
        select(p.post_id, year, func.min(p.unit_id), func.min(p.campaign_id),
               *_sums_of(p)).group_by(p.post_id, year)))
    campaign_key = func.coalesce(m.campaign_id, 0)
    db.session.execute(insert(EngagementChannelMonthly).from_select(
        [*CHANNEL_MONTHLY_KEY, *MEASURES],
        select(m.month, m.channel_id, m.unit_id, campaign_key, *sums)
        .group_by(m.month, m.channel_id, m.unit_id, campaign_key)))
    c = EngagementChannelMonthly  # the channels' years from their months just written
    channel_year = cast(extract("year", c.month), Integer)
    db.session.execute(insert(EngagementChannelYearly).from_select(
        ["year", "channel_id", "unit_id", *MEASURES],
        select(channel_year, c.channel_id, c.unit_id, *_sums_of(c))
        .group_by(channel_year, c.channel_id, c.unit_id)))


def _freshness_columns(channel_id: Any) -> dict[str, Any]:
    """A channel's freshness over its deliveries' totals, as expressions: each is a probe of one of the totals'
    indexes (the oldest and newest read, then the nearly empty partial indexes of failed reads and removed posts),
    not a pass over the channel's deliveries."""
    t = EngagementTotals
    mine = t.channel_id == channel_id
    return {"oldest": select(func.min(t.collected_at)).where(mine).scalar_subquery(),
            "newest": select(func.max(t.collected_at)).where(mine).scalar_subquery(),
            "failing": select(func.count()).where(mine, t.last_error.is_not(None)).scalar_subquery(),
            "removed": select(func.count()).where(mine, t.removed).scalar_subquery()}


def refresh_channel_freshness(channel_ids: Iterable[int]) -> None:
    """Rewrite these channels' freshness rows from their deliveries' totals (the collector calls it as the last
    write of a channel's collection; flushes, never commits). Each row is locked before its figures are read, so
    of two jobs of one channel the second reads what the first committed; the rows are taken in channel order
    and nothing else is locked after them, so jobs wait for each other and never deadlock."""
    db.session.flush()  # the totals the ORM still holds
    connection = db.session.connection()
    f = EngagementChannelFreshness.__table__
    t = EngagementTotals
    for channel_id in sorted(set(channel_ids)):
        unit_id = db.session.scalar(select(Channel.unit_id).where(Channel.id == channel_id))
        if unit_id is None:  # the channel is gone (its row went with it)
            continue
        add_rows(connection, f, [{"channel_id": channel_id, "unit_id": unit_id, "oldest": None, "newest": None,
                                  "failing": 0, "removed": 0}], ["channel_id"])
        connection.execute(select(f.c.channel_id).where(f.c.channel_id == channel_id).with_for_update())
        connection.execute(f.update().where(f.c.channel_id == channel_id)
                           .values(unit_id=unit_id, **_freshness_columns(channel_id)))
        connection.execute(f.delete().where(f.c.channel_id == channel_id,
                                            ~exists().where(t.channel_id == channel_id)))


def rebuild_channel_freshness() -> int:
    """Recompute every channel's freshness row from the deliveries' totals in one pass (a repair, and how bulk
    loads fill them). Returns how many channels have one."""
    t = EngagementTotals
    db.session.execute(delete(EngagementChannelFreshness))
    db.session.execute(insert(EngagementChannelFreshness).from_select(
        ["channel_id", "unit_id", "oldest", "newest", "failing", "removed"],
        select(t.channel_id, func.min(t.unit_id), func.min(t.collected_at), func.max(t.collected_at),
               func.count(t.last_error), cast(func.sum(case((t.removed, 1), else_=0)), BigInteger))
        .group_by(t.channel_id)))
    return int(db.session.scalar(select(func.count()).select_from(EngagementChannelFreshness)) or 0)


def rollup_coordinates(delivery: Delivery) -> dict[str, int | None]:
    """The copies a roll-up row carries so reports read it without joins (channel, post, unit, campaign)."""
    post = db.session.get(Post, delivery.post_id)
    return {"channel_id": delivery.channel_id, "post_id": delivery.post_id, "unit_id": delivery.unit_id,
            "campaign_id": post.campaign_id if post is not None else None}


def store_metrics(delivery: Delivery, kind: str, metrics: Metrics, totals: EngagementTotals, now: datetime,
                  config: EngagementConfig, settings: Settings, rollups: PeriodRollups | None = None
                  ) -> tuple[bool, bool]:
    """Store one answer for one delivery. Returns (figures read, comment count rose). With ``rollups`` the shared
    roll-ups' gains are gathered there for the caller to write; without, they are written now."""
    totals.attempted_at = now
    if metrics.removed:
        if not totals.removed:
            totals.removed, totals.removed_at = True, now
            log.info("delivery %s: remote post %s removed; figures and history kept", delivery.id, delivery.remote_id)
        totals.next_due_at = None
        totals.last_error = None
        return True, False
    mapping = config.mapping(kind)
    values = mapping.read(dict(metrics.values or {}))
    states: dict[str, str] = {}
    snapshots: list[dict[str, Any]] = []
    gains = dict.fromkeys(MEASURES, 0)
    day = local_day(now, settings)
    comments_rose = False
    for measure in MEASURES:
        state = mapping.state(measure)
        if state != "ok":
            if state == "retired":
                states[measure] = "retired"
            continue
        new = values.get(measure)
        if new is None:
            states[measure] = "missing"  # the platform did not say: keep the last known value
            continue
        old = getattr(totals, measure)
        if old is not None and new <= old:
            continue  # unchanged, or a partial read lower than what we know: figures never go backwards
        gained = new - (old or 0)
        setattr(totals, measure, new)
        code = MEASURE_CODES[measure]
        snapshots.append({"delivery_id": delivery.id, "measure": code, "collected_at": now, "value": new})
        gains[measure] = gained
        if measure == "comments" and gained:
            comments_rose = True
    _upsert(EngagementSnapshot, snapshots, ["delivery_id", "measure", "collected_at"])
    if any(gains.values()):
        where = rollup_coordinates(delivery)
        _upsert(EngagementDaily, [{"delivery_id": delivery.id, "day": day, **where, **gains}], ["delivery_id", "day"],
                MEASURES)
        _upsert(EngagementMonthly, [{"delivery_id": delivery.id, "month": day.replace(day=1), **where, **gains}],
                ["delivery_id", "month"], MEASURES)
        shared = rollups if rollups is not None else PeriodRollups()
        shared.add(where, day.replace(day=1), gains)
        if rollups is None:
            shared.write()
    totals.measure_states = states
    totals.collected_at = now
    totals.last_error = None
    totals.next_due_at = next_due(delivery, now, config)
    return True, comments_rose


def _mark_failed(totals: EngagementTotals, now: datetime, message: str, retry_at: datetime) -> None:
    totals.attempted_at = now
    totals.last_error = message[:2000]
    totals.next_due_at = retry_at


def collect_channel(channel_id: int, delivery_ids: list[int], now: datetime | None = None,
                    settings: Settings | None = None) -> RoundResult:
    """Read the figures of these deliveries of one channel, in batches; quota-aware; then the channel's
    freshness. Flushes, never commits."""
    result = _collect_channel(channel_id, delivery_ids, now, settings)
    refresh_channel_freshness([channel_id])
    return result


def _collect_channel(channel_id: int, delivery_ids: list[int], now: datetime | None = None,
                     settings: Settings | None = None) -> RoundResult:
    """``collect_channel`` but the channel's freshness (its totals only)."""
    now = now or utcnow()
    settings = settings or current_settings()
    config = engagement_config(settings)
    result = RoundResult()
    channel = db.session.get(Channel, channel_id)
    if channel is None or not delivery_ids:
        return result
    deliveries = list(db.session.scalars(
        select(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.channel_id == channel_id,
                               Delivery.state == "published", Delivery.remote_id.is_not(None))
        .order_by(Delivery.id)))
    totals = _totals_for([d.id for d in deliveries])
    deliveries = [d for d in deliveries if not totals[d.id].removed]
    if not deliveries:
        return result
    try:
        adapter = adapter_for(channel, settings)
    except Exception as exc:  # unknown kind, undecryptable secrets: keep figures, say why
        log.warning("channel %s: no adapter for engagement: %s", channel_id, exc)
        for d in deliveries:
            _mark_failed(totals[d.id], now, str(exc), now + RETRY_AFTER_FAILURE)
        result.failed += len(deliveries)
        result.errors.append(f"channel {channel_id}: {exc}")
        return result

    adapter.wanted_metrics = config.mapping(channel.kind).wanted  # engagement.toml names what to read
    batches = list(_chunks(deliveries, config.batch_size(channel.kind)))
    comment_fetches: list[Delivery] = []
    rollups = PeriodRollups()
    for index, batch in enumerate(batches):
        try:
            answers = adapter.fetch_metrics([d.remote_id for d in batch if d.remote_id])
        except ChannelError as exc:
            if exc.kind == ErrorKind.RATE_LIMITED:
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else DEFAULT_RATE_LIMIT_WAIT
                rest = [d for later in batches[index:] for d in later]
                for d in rest:
                    _mark_failed(totals[d.id], now, str(exc), now + wait)
                result.deferred += len(rest)
                result.errors.append(f"channel {channel_id}: rate limited, retry after {wait}")
                log.info("channel %s: rate limited; %s deliveries deferred by %s", channel_id, len(rest), wait)
                break
            retry = now + RETRY_AFTER_FAILURE
            stop = exc.kind == ErrorKind.AUTH_EXPIRED
            failing = [d for later in batches[index:] for d in later] if stop else batch
            for d in failing:
                _mark_failed(totals[d.id], now, str(exc), retry)
            result.failed += len(failing)
            result.errors.append(f"channel {channel_id}: {exc}")
            log.warning("channel %s: engagement read failed (%s): %s", channel_id, exc.kind, exc)
            if stop:
                break
            continue
        except Exception as exc:  # a time-out or an adapter bug: this batch keeps its last figures
            log.warning("channel %s: engagement read failed: %r", channel_id, exc)
            for d in batch:
                _mark_failed(totals[d.id], now, f"{exc.__class__.__name__}: {exc}", now + RETRY_AFTER_FAILURE)
            result.failed += len(batch)
            result.errors.append(f"channel {channel_id}: {exc.__class__.__name__}")
            continue
        for d in batch:
            metrics = answers.get(d.remote_id) if isinstance(answers, dict) else None
            if metrics is None:
                _mark_failed(totals[d.id], now, "the platform gave no figures for this post", now + RETRY_AFTER_FAILURE)
                result.failed += 1
                continue
            if metrics.error is not None:  # this post's read failed; the others of its batch keep their figures
                error = metrics.error
                wait = RETRY_AFTER_FAILURE
                if error.kind == ErrorKind.RATE_LIMITED:
                    wait = timedelta(seconds=error.retry_after) if error.retry_after else DEFAULT_RATE_LIMIT_WAIT
                _mark_failed(totals[d.id], now, str(error), now + wait)
                result.failed += 1
                result.errors.append(f"channel {channel_id}: delivery {d.id}: {error}")
                log.info("channel %s: delivery %s not read (%s): %s", channel_id, d.id, error.kind, error)
                continue
            _read, comments_rose = store_metrics(d, channel.kind, metrics, totals[d.id], now, config, settings,
                                                 rollups)
            if metrics.removed:
                result.removed += 1
            else:
                result.updated += 1
            if comments_rose:
                comment_fetches.append(d)
    rollups.write()
    for d in comment_fetches:
        result.comments += pull_comments(d, adapter, channel, now)
    db.session.flush()
    return result


def collect_engagement(now: datetime | None = None, *, every_published: bool = False,
                       settings: Settings | None = None) -> RoundResult:
    """One collection round, inline: every due delivery (or every published one), channel by channel, then the
    channels' freshness (all at the end: a channel job waiting for one of those rows holds nothing the round
    still needs)."""
    now = now or utcnow()
    result = RoundResult()
    due = due_deliveries(now, every_published=every_published)
    for channel_id, delivery_ids in due.items():
        result.add(_collect_channel(channel_id, delivery_ids, now, settings))
    refresh_channel_freshness(due)
    return result


# --- comments inbox --------------------------------------------------------------------------------------


def pull_comments(delivery: Delivery, adapter: Any, channel: Channel, now: datetime) -> int:
    """Fetch new comments of one delivery into the inbox; a failure is logged and leaves the inbox as it was."""
    since = db.session.scalar(select(func.max(InboxComment.created_at))
                              .where(InboxComment.delivery_id == delivery.id, InboxComment.state != "reply"))
    try:
        remote: list[RemoteComment] = adapter.fetch_comments(delivery.remote_id, since=since)
    except (ChannelError, NotImplementedError) as exc:
        log.info("delivery %s: comments not fetched: %s", delivery.id, exc)
        return 0
    except Exception as exc:
        log.warning("delivery %s: comments not fetched: %r", delivery.id, exc)
        return 0
    return store_comments(delivery, channel, remote, now)


def store_comments(delivery: Delivery, channel: Channel, remote: list[RemoteComment], now: datetime) -> int:
    known = set(db.session.scalars(select(InboxComment.remote_id).where(
        InboxComment.channel_id == channel.id, InboxComment.remote_id.in_([c.remote_id for c in remote] or [""]))))
    added = 0
    for comment in remote:
        if comment.remote_id in known:
            continue
        created = comment.created_at if comment.created_at.tzinfo else comment.created_at.replace(tzinfo=UTC)
        parent_id = None
        if comment.parent_remote_id:
            parent_id = db.session.scalar(select(InboxComment.id).where(
                InboxComment.channel_id == channel.id, InboxComment.remote_id == comment.parent_remote_id))
        db.session.add(InboxComment(
            channel_id=channel.id, unit_id=delivery.unit_id, delivery_id=delivery.id, post_id=delivery.post_id,
            remote_id=comment.remote_id[:200], parent_remote_id=comment.parent_remote_id, parent_id=parent_id,
            author_name=(comment.author_name or "")[:200], message=comment.message or "", created_at=created,
            fetched_at=now, state="new"))
        known.add(comment.remote_id)
        added += 1
    db.session.flush()
    return added


def inbox_comments(user: User, *, channel_id: int | None = None, post_id: int | None = None,
                   campaign_id: int | None = None, limit: int = 100, offset: int = 0) -> list[InboxComment]:
    """The comments the user may see (not staff answers: those show under their comment), newest first,
    filtered by channel, post and campaign."""
    stmt = select(InboxComment).where(visible_filter(user, InboxComment.unit_id), InboxComment.state != "reply")
    if channel_id is not None:
        stmt = stmt.where(InboxComment.channel_id == channel_id)
    if post_id is not None:
        stmt = stmt.where(InboxComment.post_id == post_id)
    if campaign_id is not None:
        stmt = stmt.where(InboxComment.post_id.in_(select(Post.id).where(Post.campaign_id == campaign_id)))
    stmt = stmt.order_by(InboxComment.created_at.desc(), InboxComment.id.desc()).limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


def get_comment(comment_id: int, user: User) -> InboxComment:
    comment = db.session.get(InboxComment, comment_id)
    if comment is None:
        raise NotFound(_l("No such comment."))
    channel = db.session.get(Channel, comment.channel_id)
    if channel is None or not can_see_unit(user, channel.unit.path):
        raise NotFound(_l("No such comment."))
    return comment


def answer_comment(comment: InboxComment, user: User, message: str, settings: Settings | None = None) -> InboxComment:
    """Post a staff answer on the platform, then keep it in the inbox (only once the platform took it).

    Raises ChannelError when the platform refuses or does not answer; nothing is stored then.
    """
    channel = db.session.get(Channel, comment.channel_id)
    require_role(user, "editor", channel.unit)
    message = (message or "").strip()
    if not message:
        raise ValidationFailed({"message": _l("Write an answer first.")})
    if len(message) > 8000:
        raise ValidationFailed({"message": _l("At most %(n)s characters.", n=8000)})
    adapter = adapter_for(channel, settings or current_settings())
    remote_id = adapter.reply_comment(comment.remote_id, message)
    now = utcnow()
    reply = InboxComment(channel_id=comment.channel_id, unit_id=comment.unit_id, delivery_id=comment.delivery_id,
                         post_id=comment.post_id, remote_id=str(remote_id)[:200], parent_id=comment.id,
                         parent_remote_id=comment.remote_id, author_name=user.display_name[:200], message=message,
                         created_at=now, fetched_at=now, state="reply", staff_user_id=user.id)
    db.session.add(reply)
    comment.state = "answered"
    db.session.flush()
    record(user, "comment.answer", comment, reply_remote_id=reply.remote_id)
    return reply


def replies_to(comment_ids: list[int]) -> dict[int, list[InboxComment]]:
    if not comment_ids:
        return {}
    out: dict[int, list[InboxComment]] = defaultdict(list)
    for reply in db.session.scalars(select(InboxComment).where(InboxComment.parent_id.in_(comment_ids))
                                    .order_by(InboxComment.created_at)):
        out[reply.parent_id].append(reply)  # type: ignore[index]
    return out


def totals_for_deliveries(delivery_ids: list[int]) -> dict[int, EngagementTotals]:
    if not delivery_ids:
        return {}
    return {row.delivery_id: row for row in db.session.scalars(
        select(EngagementTotals).where(EngagementTotals.delivery_id.in_(delivery_ids)))}


__all__ = ["RoundResult", "collect_engagement", "collect_channel", "due_deliveries", "store_metrics",
           "inbox_comments", "answer_comment", "get_comment", "refresh_channel_freshness", "rebuild_channel_freshness",
           "rebuild_period_rollups"]
