"""The engagement store: change-point snapshots per delivery and measure, daily and monthly roll-ups of gains
(per delivery, and per month also per post and per channel and campaign; per year per post), the latest totals
per delivery and each channel's freshness over them, and the unified comments inbox.

Sized for tens of millions of snapshot rows on PostgreSQL: rows are narrow (no surrogate key; the measure is a
small integer, see ``config.MEASURE_CODES``), the primary key is the (delivery, measure, time) index that
"value at a moment" lookups need, and period aggregates read covering indexes. See the README for monthly
partitioning.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from publisher.db import JSONType, db, utcnow
from publisher.engagement.config import MEASURES

COMMENT_STATES = ("new", "answered", "reply", "hidden")


class EngagementSnapshot(db.Model):
    """A measure's cumulative value for one delivery at one moment. Only changes are stored (a collection that
    reads the same figure adds no row), and values never go down, so "the value at T" is the newest row at or
    before T."""

    __tablename__ = "engagement_snapshots"
    __table_args__ = (
        Index("ix_engagement_snapshots_period", "collected_at",
              postgresql_include=["delivery_id", "measure", "value"]),
    )

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    measure: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    collected_at: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<EngagementSnapshot d={self.delivery_id} m={self.measure} {self.collected_at:%Y-%m-%d %H:%M} {self.value}>"


class _Gains:
    """What was gained in each measure (one row per delivery and period: narrower than a row per measure)."""

    views: Mapped[int] = mapped_column(BigInteger, default=0)
    reactions: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_time: Mapped[int] = mapped_column(BigInteger, default=0)


class _Coordinates:
    """Copies of the delivery's channel, post and unit and of the post's campaign, written with the roll-up row,
    so a period report reads one table without joins (the campaign follows the post: see ``follow_campaign``)."""

    channel_id: Mapped[int] = mapped_column(Integer)
    post_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)

    @declared_attr
    def campaign_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))


_GAINS = ["channel_id", "post_id", "campaign_id", "views", "reactions", "comments", "shares"]
_COVERED = ["unit_id", *_GAINS]  # index-only scans for a period, whatever the units
_POST_GAINS = ["post_id", "campaign_id", "views", "reactions", "comments", "shares"]
_POST_COVERED = ["unit_id", *_POST_GAINS]


class EngagementDaily(_Gains, _Coordinates, db.Model):
    """What a delivery gained on one day (the organisation's time zone): the increase of its snapshots over that
    day. A period's gain (value at its end minus value before its start) is the sum of its days, so reports read
    these rows (and the monthly ones for whole months) instead of scanning snapshots."""

    __tablename__ = "engagement_daily"
    __table_args__ = (
        Index("ix_engagement_daily_period", "day", postgresql_include=_COVERED),
        Index("ix_engagement_daily_unit_period", "unit_id", "day", postgresql_include=_GAINS),
    )

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)

    def __repr__(self) -> str:
        return f"<EngagementDaily d={self.delivery_id} {self.day} +{self.views}>"


class EngagementMonthly(_Gains, _Coordinates, db.Model):
    """The same gains per calendar month (``month`` is its first day), so a year is about four rows per post."""

    __tablename__ = "engagement_monthly"
    __table_args__ = (
        Index("ix_engagement_monthly_period", "month", postgresql_include=_COVERED),
        Index("ix_engagement_monthly_unit_period", "unit_id", "month", postgresql_include=_GAINS),
    )

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)

    def __repr__(self) -> str:
        return f"<EngagementMonthly d={self.delivery_id} {self.month} +{self.views}>"


class EngagementPostMonthly(_Gains, db.Model):
    """A post's gains per calendar month over all its channels (the sum of its deliveries' monthly rows): the
    top-posts list reads about a third of the rows the per-delivery table has, already one row per post and month.
    Kept by the collector with the per-delivery rows (``PeriodRollups``); the campaign follows the post."""

    __tablename__ = "engagement_post_monthly"
    __table_args__ = (
        Index("ix_engagement_post_monthly_period", "month", postgresql_include=_POST_COVERED),
        Index("ix_engagement_post_monthly_unit_period", "unit_id", "month", postgresql_include=_POST_GAINS),
    )

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)  # the post's unit (every delivery of a post is in its unit)

    @declared_attr
    def campaign_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<EngagementPostMonthly p={self.post_id} {self.month} +{self.views}>"


class EngagementPostYearly(_Gains, db.Model):
    """A post's gains per calendar year (the organisation's time zone) over all its channels: the sum of its
    per-post months of that year. A year's top posts are the first rows of an index in views order instead of an
    aggregate of every post's months (18,000 posts a year for a province). Kept by the collector beside the
    per-post months (``PeriodRollups``); the campaign follows the post."""

    __tablename__ = "engagement_post_yearly"
    __table_args__ = (
        Index("ix_engagement_post_yearly_top", "year", "views", postgresql_include=_POST_COVERED),
        Index("ix_engagement_post_yearly_unit_top", "unit_id", "year", "views", postgresql_include=_POST_GAINS),
    )

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)  # the post's unit

    @declared_attr
    def campaign_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<EngagementPostYearly p={self.post_id} {self.year} +{self.views}>"


class EngagementChannelMonthly(_Gains, db.Model):
    """Gains per channel, unit, campaign and calendar month (the sum of the per-delivery monthly rows): every
    breakdown but the posts' (channel, unit, campaign, month, totals, the previous period) reads these few rows.
    ``campaign_key`` is the campaign's id, or 0 for posts outside any campaign (it is part of the key)."""

    __tablename__ = "engagement_channel_monthly"

    month: Mapped[date] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_key: Mapped[int] = mapped_column(Integer, primary_key=True)

    @hybrid_property
    def campaign_id(self) -> int | None:
        """The campaign as the other roll-ups give it: its id, or None for posts outside any campaign."""
        return self.campaign_key or None

    @campaign_id.inplace.expression
    @classmethod
    def _campaign_id_expression(cls) -> ColumnElement[int | None]:
        return func.nullif(cls.campaign_key, 0).label("campaign_id")

    def __repr__(self) -> str:
        return f"<EngagementChannelMonthly c={self.channel_id} k={self.campaign_key} {self.month} +{self.views}>"


class EngagementChannelYearly(_Gains, db.Model):
    """Gains per channel, unit and calendar year (the sum of the per-channel months of that year, every campaign
    together): a calendar year's breakdowns per channel and per unit read one row per channel instead of grouping
    its months (62,000 for a province's year). No campaign in the key, so a post moving between campaigns leaves
    these rows as they are; a report for one campaign reads the months."""

    __tablename__ = "engagement_channel_yearly"
    __table_args__ = (Index("ix_engagement_channel_yearly_unit", "unit_id", "year"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)

    def __repr__(self) -> str:
        return f"<EngagementChannelYearly c={self.channel_id} {self.year} +{self.views}>"


class EngagementTotals(db.Model):
    """The latest known figures of one delivery, with when they were read (their age), the last failed
    attempt, when the next collection is due, and whether the remote post was removed."""

    __tablename__ = "engagement_totals"
    __table_args__ = (
        # The dashboards' freshness per channel reads this index alone (no join to the deliveries).
        Index("ix_engagement_totals_channel", "channel_id",
              postgresql_include=["unit_id", "collected_at", "removed", "next_due_at"]),
        # A dashboard over a few channels reads each one's freshness by index probes instead of a scan of every
        # delivery's totals: the oldest and newest figures (ordered by channel, then time), and the rare
        # deliveries whose last read failed or whose remote post was removed (partial indexes, nearly empty).
        Index("ix_engagement_totals_channel_collected", "channel_id", "collected_at", postgresql_include=["unit_id"]),
        Index("ix_engagement_totals_channel_failing", "channel_id", "unit_id",
              postgresql_where=text("last_error IS NOT NULL"), sqlite_where=text("last_error IS NOT NULL")),
        Index("ix_engagement_totals_channel_removed", "channel_id", "unit_id",
              postgresql_where=text("removed"), sqlite_where=text("removed")),
    )

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    # Copies of the delivery's channel and unit (they never change), like the roll-ups' coordinates.
    channel_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    reactions: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_time: Mapped[int | None] = mapped_column(BigInteger)
    collected_at: Mapped[datetime | None]  # the figures above were read then
    attempted_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    removed: Mapped[bool] = mapped_column(default=False)
    removed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    measure_states: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # {"views": "retired"}

    def value(self, measure: str) -> int:
        return int(getattr(self, measure) or 0)

    def age(self, now: datetime | None = None) -> timedelta | None:
        if self.collected_at is None:
            return None
        return (now or datetime.now(UTC)) - self.collected_at

    def __repr__(self) -> str:
        return f"<EngagementTotals d={self.delivery_id} v={self.views} r={self.reactions} removed={self.removed}>"


class EngagementChannelFreshness(db.Model):
    """How fresh one channel's figures are, over its deliveries' totals: the oldest and newest figures' times,
    how many deliveries' last read failed and how many remote posts were removed. A row per channel with totals
    (none before its first), rewritten by the collector at the end of each of the channel's collections
    (``refresh_channel_freshness``), so a province's dashboard joins 4,600 of these instead of aggregating every
    delivery's totals. ``publisher engagement rebuild-rollups`` recomputes them (e.g. after deliveries were
    deleted, which leaves a channel's row as it was until its next collection)."""

    __tablename__ = "engagement_channel_freshness"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)  # the channel's unit, as its totals carry it
    oldest: Mapped[datetime | None]  # min(collected_at); None while no delivery of the channel was read yet
    newest: Mapped[datetime | None]  # max(collected_at)
    failing: Mapped[int] = mapped_column(Integer, default=0)  # deliveries whose last read failed
    removed: Mapped[int] = mapped_column(Integer, default=0)  # deliveries whose remote post was removed

    def __repr__(self) -> str:
        return f"<EngagementChannelFreshness c={self.channel_id} oldest={self.oldest} failing={self.failing}>"


class InboxComment(db.Model):
    """A comment from any channel (Facebook, YouTube, the website), or a staff answer sent from Loa."""

    __tablename__ = "engagement_comments"
    __table_args__ = (
        UniqueConstraint("channel_id", "remote_id", name="uq_engagement_comments_channel_remote"),
        Index("ix_engagement_comments_unit_created", "unit_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"), index=True)
    remote_id: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("engagement_comments.id", ondelete="SET NULL"))
    parent_remote_id: Mapped[str | None] = mapped_column(String(200))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default="new")
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    parent: Mapped[InboxComment | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<InboxComment {self.id} channel={self.channel_id} {self.state}>"


def add_rows(connection: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str],
             add_columns: tuple[str, ...] = ()) -> None:
    """INSERT … ON CONFLICT on PostgreSQL and SQLite: ignore rows already there, or add ``add_columns`` to the
    stored row. ``rows`` must not repeat a key (one statement may not touch a row twice)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(rows)
    if not add_columns:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    else:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={
            name: table.c[name] + stmt.excluded[name] for name in add_columns})
    connection.execute(stmt)


CHANNEL_MONTHLY_KEY = ["month", "channel_id", "unit_id", "campaign_key"]


def channel_month(rows: dict[tuple[Any, ...], dict[str, Any]], month: date, channel_id: int, unit_id: int,
                  campaign_id: int | None) -> dict[str, Any]:
    """The per-channel monthly row for this key among ``rows`` (keyed in ``CHANNEL_MONTHLY_KEY`` order), added
    with every measure at 0 when it is not there yet."""
    key = (month, channel_id, unit_id, campaign_id or 0)
    return rows.setdefault(key, {**dict(zip(CHANNEL_MONTHLY_KEY, key, strict=True)), **dict.fromkeys(MEASURES, 0)})


@event.listens_for(Session, "after_flush")
def follow_campaign(session: Session, _context: object) -> None:
    """A post moved to another campaign (or out of one) takes its figures with it: the roll-ups' copy of the
    campaign is rewritten, and the post's gains move between campaigns in the per-channel roll-up, in the same
    transaction, so reports always use the post's current campaign."""
    from publisher.content.models import Post

    moved = []
    for obj in session.dirty:
        if isinstance(obj, Post):
            history = inspect(obj).attrs.campaign_id.history
            if history.added or history.deleted:
                moved.append((obj.id, obj.campaign_id))
    if not moved:
        return
    connection = session.connection()
    daily, monthly = EngagementDaily.__table__, EngagementMonthly.__table__
    post_monthly, cube = EngagementPostMonthly.__table__, EngagementChannelMonthly.__table__
    # Rows are locked in the collector's order (a delivery's daily and monthly rows, the post's months and years,
    # then the per-channel months in key order), so a collection running meanwhile is waited for, never deadlocked with,
    # and the gains it commits are in what moves (its monthly rows are read only once locked).
    for post_id, campaign_id in moved:
        connection.execute(daily.update().where(daily.c.post_id == post_id).values(campaign_id=campaign_id))
    # Per (channel, unit, month): what a moved post holds under its old campaign leaves it for the new one.
    shifts: dict[tuple[Any, ...], dict[str, Any]] = {}
    for post_id, campaign_id in moved:
        for channel_id, unit_id, old, month, *values in connection.execute(
                select(monthly.c.channel_id, monthly.c.unit_id, monthly.c.campaign_id, monthly.c.month,
                       *[monthly.c[name] for name in MEASURES])
                .where(monthly.c.post_id == post_id)
                .order_by(monthly.c.delivery_id, monthly.c.month).with_for_update()):
            if (old or 0) == (campaign_id or 0):
                continue
            for campaign, sign in ((old, -1), (campaign_id, 1)):
                row = channel_month(shifts, month, channel_id, unit_id, campaign)
                for name, value in zip(MEASURES, values, strict=True):
                    row[name] += sign * int(value or 0)
    for table in (monthly, post_monthly, EngagementPostYearly.__table__):
        for post_id, campaign_id in moved:
            connection.execute(table.update().where(table.c.post_id == post_id).values(campaign_id=campaign_id))
    add_rows(connection, cube, [shifts[key] for key in sorted(shifts)], CHANNEL_MONTHLY_KEY, MEASURES)
    for month, channel_id, unit_id, key in sorted(shifts):  # rows left with nothing are gone, as if never written
        connection.execute(cube.delete().where(
            cube.c.month == month, cube.c.channel_id == channel_id, cube.c.unit_id == unit_id,
            cube.c.campaign_key == key, *[cube.c[name] == 0 for name in MEASURES]))
