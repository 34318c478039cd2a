"""RQ jobs of engagement collection: one job per channel batch per round, and the periodic round itself.

Job ids derive from (channel, round) so a round queued twice does not run twice; a job reloads its rows, reads
the figures, commits, and is safe to run again (figures never go backwards, snapshots are keyed by time).
"""

from __future__ import annotations

import logging
from datetime import datetime

from publisher.db import after_commit, db, utcnow
from publisher.engagement.services import (
    RoundResult,
    claim_deliveries,
    collect_channel,
    current_settings,
    due_deliveries,
)

log = logging.getLogger(__name__)

QUEUE = "engagement"
ROUND_SECONDS = 300  # how often the scheduler plans a round
JOB_TIMEOUT = 600


def round_key(now: datetime) -> str:
    """The round a moment belongs to, e.g. ``20261126T1405``."""
    floored = int(now.timestamp()) // ROUND_SECONDS * ROUND_SECONDS
    return datetime.fromtimestamp(floored, tz=now.tzinfo).strftime("%Y%m%dT%H%M")


def job_id(channel_id: int, key: str, part: int = 0) -> str:
    return f"engagement-{channel_id}-{key}-{part}"


def collect_channel_job(channel_id: int, delivery_ids: list[int], now_iso: str | None = None) -> dict[str, int]:
    """The job: collect one channel's due deliveries, then commit (the edge of the job)."""
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    try:
        result = collect_channel(channel_id, delivery_ids, max(now, utcnow()))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info("engagement job channel=%s: %s updated, %s failed, %s deferred", channel_id, result.updated,
             result.failed, result.deferred)
    return {"updated": result.updated, "failed": result.failed, "deferred": result.deferred}


PART_SIZE = 1000  # deliveries per job; a channel with more gets several jobs


def enqueue_engagement_round(now: datetime | None = None) -> int:
    """Plan one round: claim every due delivery and queue one job per channel (after the commit).
    Returns how many deliveries were queued. The periodic entry point: commits its own work."""
    now = now or utcnow()
    settings = current_settings()
    due = due_deliveries(now)
    key = round_key(now)
    planned: list[tuple[str, int, list[int]]] = []
    for channel_id, ids in due.items():
        for part, start in enumerate(range(0, len(ids), PART_SIZE)):
            chunk = ids[start:start + PART_SIZE]
            claim_deliveries(chunk, now)
            planned.append((job_id(channel_id, key, part), channel_id, chunk))

    def enqueue() -> None:
        from rq.exceptions import DuplicateJobError

        from publisher.queue import get_queue

        queue = get_queue(settings, QUEUE)
        for jid, channel_id, chunk in planned:
            try:
                queue.enqueue(collect_channel_job, channel_id, chunk, now.isoformat(), job_id=jid, unique=True,
                              job_timeout=JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400)
            except DuplicateJobError:
                log.info("engagement job %s already queued", jid)

    after_commit(enqueue)
    db.session.commit()
    return sum(len(chunk) for _jid, _c, chunk in planned)


def run_round_inline(now: datetime | None = None, every_published: bool = True) -> RoundResult:
    """`publisher engagement collect`: one round now, in this process (no worker needed)."""
    from publisher.engagement.services import collect_engagement

    return collect_engagement(now, every_published=every_published)


# Every periodic job of this area: (interval in seconds, callable taking no arguments, run in an app context).
PERIODIC = [(ROUND_SECONDS, enqueue_engagement_round)]
