"""YouTube Data API quota: units used per channel per Pacific day, and refusing schedules that would exceed it.

Costs are YouTube's documented ones (developers.google.com/youtube/data/determine_quota_cost, checked against
the Data API revision history on 2026-12-02):

- 4 December 2025: the quota-cost page lowers what a video upload costs (about 100 units, was about 1,600);
- 1 June 2026: a granular quota system, starting with ``videos.insert`` and ``search.list``: "API calls to the
  videos.insert and search.list methods will be charged to their respective quota buckets"; every other method
  stays in the 10,000-unit daily bucket. Today's page: 100 ``videos.insert`` calls a day, 1 per call, in the
  uploads bucket (:data:`UPLOAD_METHODS`, counted as uploads, not units);
- 3 June 2026: ``videos.batchGetStats`` (video statistics) costs 1 unit in a bucket of its own, 10,000 units a
  day by default (:data:`OWN_BUCKET_METHODS`: counted per method, never against the units bucket).

Every request, even an invalid one, costs at least one unit. Quotas reset at midnight Pacific Time. A project
still on an older allocation sets ``PUBLISHER_YOUTUBE_DAILY_QUOTA`` / ``PUBLISHER_YOUTUBE_DAILY_UPLOADS``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import JSONType, db, utcnow
from publisher.errors import ValidationFailed
from publisher.settings import Settings

PACIFIC = ZoneInfo("America/Los_Angeles")

# method -> units from the daily 10,000-unit bucket; videos.insert counts in the uploads bucket instead, and
# videos.batchGetStats in its own (revision history, 1 and 3 June 2026).
COSTS: dict[str, int] = {
    "videos.insert": 0,
    "videos.batchGetStats": 0,
    "videos.list": 1,
    "videos.update": 50,
    "videos.delete": 50,
    "thumbnails.set": 50,
    "playlists.list": 1,
    "playlists.insert": 50,
    "playlistItems.list": 1,
    "playlistItems.insert": 50,
    "commentThreads.list": 1,
    "comments.list": 1,
    "comments.insert": 50,
    "channels.list": 1,
}
UPLOAD_METHODS = ("videos.insert",)
OWN_BUCKET_METHODS = ("videos.batchGetStats",)  # 1 unit a call from a 10,000-unit bucket of its own
# What one scheduled video costs from the units bucket: thumbnail, find the campaign playlist, add to it.
UNITS_PER_UPLOAD = COSTS["thumbnails.set"] + COSTS["playlists.list"] + COSTS["playlistItems.insert"]


class YouTubeQuotaUsage(db.Model):
    """Units and uploads one channel spent on one Pacific day, with a per-method breakdown."""

    __tablename__ = "youtube_quota_usage"
    __table_args__ = (UniqueConstraint("channel_id", "day", name="uq_youtube_quota_usage_channel_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(default=0)
    uploads: Mapped[int] = mapped_column(default=0)
    by_method: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<YouTubeQuotaUsage channel={self.channel_id} {self.day} {self.units}u {self.uploads}up>"


def pacific_day(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(PACIFIC).date()


def seconds_until_quota_reset(at: datetime | None = None) -> float:
    """Seconds from ``at`` (now) until the next midnight Pacific Time, when YouTube resets daily quotas."""
    now = (at or utcnow()).astimezone(PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
    return max((midnight - now).total_seconds(), 1.0)


def _usage(channel_id: int, day: date) -> YouTubeQuotaUsage | None:
    return db.session.scalar(
        select(YouTubeQuotaUsage).where(YouTubeQuotaUsage.channel_id == channel_id, YouTubeQuotaUsage.day == day)
    )


def record_quota_use(channel_id: int, method: str, calls: int = 1, at: datetime | None = None) -> None:
    """Count ``calls`` calls of ``method`` against today's quota of the channel (flushes, never commits)."""
    day = pacific_day(at)
    usage = _usage(channel_id, day)
    if usage is None:
        usage = YouTubeQuotaUsage(channel_id=channel_id, day=day, units=0, uploads=0, by_method={})
        db.session.add(usage)
        db.session.flush()
    # SQL-side increments (units = units + n), so that two workers counting at once lose nothing
    if method in UPLOAD_METHODS:
        usage.uploads = YouTubeQuotaUsage.uploads + calls
    elif method in OWN_BUCKET_METHODS:
        pass  # its own bucket: only the per-method count below
    else:
        usage.units = YouTubeQuotaUsage.units + COSTS.get(method, 1) * calls
    by_method = dict(usage.by_method or {})
    by_method[method] = by_method.get(method, 0) + calls
    usage.by_method = by_method
    db.session.flush()


def quota_used(channel: Any, day: date | None = None) -> tuple[int, int]:
    """(units, uploads) the channel used on that Pacific day (today)."""
    usage = _usage(channel.id, day or pacific_day())
    return (usage.units, usage.uploads) if usage else (0, 0)


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from flask import current_app

    return current_app.extensions["publisher.settings"]


def quota_left(channel: Any, settings: Settings | None = None, day: date | None = None) -> dict[str, int]:
    """``{"units": …, "uploads": …}`` still available to the channel on that Pacific day (today)."""
    settings = _settings(settings)
    units, uploads = quota_used(channel, day)
    return {"units": max(settings.youtube_daily_quota - units, 0),
            "uploads": max(settings.youtube_daily_uploads - uploads, 0)}


def check_schedule_quota(channel: Any, uploads: int, settings: Settings | None = None,
                         day: date | None = None) -> None:
    """Refuse (ValidationFailed) a schedule of ``uploads`` more videos on the channel that day's quota can't carry.

    ``day`` is the Pacific day the uploads would run (default today); the pipeline calls this before it
    schedules YouTube deliveries.
    """
    if uploads <= 0:
        return
    settings = _settings(settings)
    left = quota_left(channel, settings, day)
    needed_units = uploads * UNITS_PER_UPLOAD
    if uploads > left["uploads"]:
        raise ValidationFailed(
            {"channel_ids": [_l("YouTube allows %(limit)s uploads a day on channel “%(name)s”; %(left)s are left "
                                "today and this schedule needs %(needed)s. Spread the videos over several days.",
                                limit=settings.youtube_daily_uploads, name=channel.name, left=left["uploads"],
                                needed=uploads)]},
            message=_l("The YouTube daily quota would be exceeded."),
        )
    if needed_units > left["units"]:
        raise ValidationFailed(
            {"channel_ids": [_l("The YouTube API quota of channel “%(name)s” has %(left)s of %(limit)s units left "
                                "today (Pacific time); %(uploads)s videos need about %(needed)s. Spread the videos "
                                "over several days.", name=channel.name, left=left["units"],
                                limit=settings.youtube_daily_quota, uploads=uploads, needed=needed_units)]},
            message=_l("The YouTube daily quota would be exceeded."),
        )


def quota_for_channel_list(channel: Any, settings: Settings) -> dict[str, Any]:
    """What the channel list shows as "quota used today" (the YouTube description's ``quota``)."""
    units, uploads = quota_used(channel)
    return {"used": units, "limit": settings.youtube_daily_quota, "uploads": uploads,
            "uploads_limit": settings.youtube_daily_uploads}
