"""Waking workers the moment deliveries are due, and the workers' threads that then claim them from the database.

With PostgreSQL and a real Redis, the scheduler's tick does not queue an RQ job per batch: when anything is due it
sends one wake-up over Redis pub/sub (``WAKE_CHANNEL``), and each ``publisher worker`` keeps a few claim threads
(``PUBLISHER_WORKER_CLAIM_THREADS``) waiting on it. A woken thread claims a batch straight from the table
(``pipeline.claim_due``: ``FOR UPDATE SKIP LOCKED``, committed before any platform call), publishes it, and claims
again until nothing is due; then it waits for the next wake-up, or at most ``POLL_SECONDS`` (a missed wake-up, a
retry whose time came, Redis restarted). The exactly-once rules are those of ``pipeline``: nothing here changes
what a claim, an attempt or an outcome is. RQ still carries retries, periodic jobs and the other queues, and on
SQLite (the embedded mode) the scheduler keeps queueing RQ publish jobs.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask

from publisher.db import db
from publisher.scheduler import pipeline
from publisher.settings import Settings

log = logging.getLogger(__name__)

WAKE_CHANNEL = "loa:publish:wake"
# A claim thread that heard nothing looks at the table anyway after this long (seconds).
POLL_SECONDS = 5.0


def wake_workers(settings: Settings) -> int:
    """Tell every waiting claim thread that deliveries are due; returns how many threads heard it."""
    from publisher.queue import redis_connection

    return int(redis_connection(settings).publish(WAKE_CHANNEL, b"due") or 0)


def wake_if_due(settings: Settings) -> int:
    """The scheduler's tick in the claim-directly mode: one indexed look at the table, one wake-up when anything is
    due; returns 1 when it woke the workers, else 0."""
    due = bool(pipeline.due_pairs(limit=1))
    db.session.rollback()  # end the read transaction
    if not due:
        return 0
    wake_workers(settings)
    return 1


def drain_due(app: Flask, stop: threading.Event | None = None) -> dict[str, int]:
    """Claim and publish batches of due deliveries until none is left (or ``stop`` is set); the outcome counts."""
    settings: Settings = app.extensions["publisher.settings"]
    totals: dict[str, int] = {}
    with app.app_context():
        try:
            while stop is None or not stop.is_set():
                outcomes = pipeline.publish_due(settings.publish_batch_size)
                if not outcomes:
                    break
                for outcome, n in outcomes.items():
                    totals[outcome] = totals.get(outcome, 0) + n
        finally:
            db.session.remove()
    return totals


def _claim_loop(app: Flask, stop: threading.Event) -> None:
    from publisher.queue import redis_connection

    settings: Settings = app.extensions["publisher.settings"]
    pubsub: Any = None
    while not stop.is_set():
        try:
            if pubsub is None:
                pubsub = redis_connection(settings).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(WAKE_CHANNEL)
                pubsub.get_message(timeout=1.0)  # the subscription's confirmation: from now on no wake-up is missed
            drain_due(app, stop)
            pubsub.get_message(timeout=POLL_SECONDS)  # a wake-up, or the poll's time
            while pubsub.get_message(timeout=0) is not None:  # wake-ups sent while this thread was publishing
                pass
        except Exception:  # noqa: BLE001 - Redis or the database away: log, wait, start over; the table keeps the work
            log.exception("claim thread: a round failed; trying again in a second")
            if pubsub is not None:
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001
                    pass
                pubsub = None
            stop.wait(1.0)
    if pubsub is not None:
        pubsub.close()


class ClaimThreads:
    """For ``publisher worker`` in the claim-directly mode: ``PUBLISHER_WORKER_CLAIM_THREADS`` daemon threads that
    wait for wake-ups and drain the due deliveries."""

    def __init__(self, app: Flask) -> None:
        settings: Settings = app.extensions["publisher.settings"]
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=_claim_loop, args=(app, self.stopping), name=f"claim-{n}",
                                         daemon=True) for n in range(settings.worker_claim_threads)]
        for thread in self.threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Claim nothing more and let the batches in flight finish (a worker stopping the ordinary way leaves no
        delivery ``publishing``)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)
