"""Feed jobs on RQ: one fetch per source, and the periodic round that queues the sources that are due.

Jobs take ids, reload their rows and commit once at the end; fetching a source twice stores nothing twice
(items are deduplicated), so every job here is safe to run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from publisher.db import db, utcnow
from publisher.feeds.models import Source
from publisher.feeds.services import (
    FetchOutcome,
    due_at,
    due_sources,
    fetch_source_now,
    message_for,
    record_fetch_failure,
)

log = logging.getLogger(__name__)

QUEUE = "feeds"
JOB_TIMEOUT = 300  # seconds; a fetch is bounded by publisher.feeds.fetch.TOTAL_TIMEOUT well below this
RESULT_TTL = 600
FAILURE_TTL = 3600


def run_fetch(source_id: int) -> FetchOutcome | None:
    """Fetch one source and commit. Any failure is recorded on the source and never raised, so a round over
    many sources goes on. None when the source no longer exists."""
    source = db.session.get(Source, source_id)
    if source is None:
        return None
    name = source.name
    try:
        outcome = fetch_source_now(source)
        db.session.commit()
        return outcome
    except Exception as exc:  # one broken source must not stop the others
        db.session.rollback()
        log.exception("fetching source %s failed unexpectedly", source_id)
        try:
            source = db.session.get(Source, source_id)
            if source is None:
                return None
            outcome = record_fetch_failure(source, "internal", message_for("internal"))
            db.session.commit()
            return outcome
        except SQLAlchemyError:
            db.session.rollback()
            return FetchOutcome(source_id=source_id, source_name=name, status="error", error_code="internal",
                                message=f"{exc.__class__.__name__}: {exc}")


def fetch_source(source_id: int, force: bool = False) -> dict[str, Any]:
    """The RQ job: fetch one source now (a deleted source is skipped, an inactive one too unless ``force``)."""
    source = db.session.get(Source, source_id)
    if source is None or not (source.active or force):
        return {"source_id": source_id, "skipped": True}
    outcome = run_fetch(source_id)
    if outcome is None:
        return {"source_id": source_id, "skipped": True}
    return {"source_id": source_id, "status": outcome.status, "new": len(outcome.new_items),
            "error": outcome.error_code}


def job_id_for(source_id: int, due: datetime) -> str:
    """One job per source and due time: the same due source is never queued twice."""
    return f"feeds-fetch-{source_id}-{int(due.timestamp())}"


def _enqueue(job_id: str, source_id: int, force: bool = False, **options: Any) -> bool:
    from rq.exceptions import DuplicateJobError

    from publisher.queue import get_queue

    queue = get_queue(current_app.extensions["publisher.settings"], QUEUE)
    try:
        queue.enqueue(fetch_source, source_id, force, job_id=job_id, unique=True, job_timeout=JOB_TIMEOUT,
                      failure_ttl=FAILURE_TTL, **{"result_ttl": RESULT_TTL, **options})
    except DuplicateJobError:
        return False
    return True


def enqueue_due_fetches() -> int:
    """Queue a fetch for every active source that is due; returns how many were queued now."""
    queued = 0
    now = utcnow()
    for source in due_sources(now):
        if _enqueue(job_id_for(source.id, due_at(source)), source.id):
            queued += 1
    return queued


def enqueue_fetch_now(source_id: int) -> bool:
    """Queue an immediate fetch ("fetch now", inactive sources too); False when one is already waiting."""
    return _enqueue(f"feeds-fetch-{source_id}-now", source_id, force=True, result_ttl=0)


# Periodic jobs of this area, for the scheduler: (interval in seconds, callable run in the app context).
PERIODIC: list[tuple[int, Callable[[], Any]]] = [(60, enqueue_due_fetches)]
