"""Every periodic job of Loa, declared in ONE list, and the scheduler loop that runs them.

``inline`` jobs are database-to-Redis bookkeeping run in the scheduler process itself (queueing due deliveries,
recovering stale leases); the others are enqueued for the workers (the heartbeat must be: it proves workers
consume). Other areas append their entries to ``PERIODIC_JOBS``.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from publisher.db import db
from publisher.scheduler.enqueue import enqueue_job
from publisher.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    target: str  # "module:function"
    every_seconds: float | Callable[[Settings], float]
    inline: bool = False
    queue: str = "default"

    def interval(self, settings: Settings) -> float:
        return self.every_seconds(settings) if callable(self.every_seconds) else self.every_seconds

    def function(self) -> Callable[..., object]:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("deliveries.enqueue_due", "publisher.scheduler.jobs:dispatch_due",
                lambda s: s.scheduler_interval_seconds, inline=True),
    PeriodicJob("deliveries.recover_stale", "publisher.scheduler.jobs:recover_stale",
                lambda s: max(1.0, min(30.0, s.delivery_lease_seconds / 4)), inline=True),
    PeriodicJob("workers.heartbeat", "publisher.scheduler.jobs:heartbeat", 10.0, queue="publish"),
    PeriodicJob("webhooks.resend", "publisher.scheduler.jobs:resend_webhooks", 30.0, queue="default"),
    # Other areas: each entry queues that area's own jobs (idempotent job ids), in the scheduler's process.
    PeriodicJob("feeds.enqueue_due", "publisher.feeds.jobs:enqueue_due_fetches", 60.0, inline=True),
    PeriodicJob("engagement.enqueue_round", "publisher.engagement.jobs:enqueue_engagement_round", 300.0, inline=True),
    PeriodicJob("privacy.apply_retention", "publisher.privacy.jobs:apply_retention", 3600.0, queue="default"),
    PeriodicJob("channels.facebook_token_health", "publisher.scheduler.token_health:check_facebook_tokens", 86400.0),
]


def run_periodic_job(app: Flask, job: PeriodicJob) -> None:
    settings: Settings = app.extensions["publisher.settings"]
    if job.inline:
        with app.app_context():
            try:
                job.function()()
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
        return
    interval = job.interval(settings)
    slot = int(time.time() // max(interval, 1.0))
    kwargs = {"sent_at": time.time()} if job.name == "workers.heartbeat" else {}
    job_id = f"periodic-{job.name.replace('.', '_')}-{slot}"
    enqueue_job(settings, job.target.replace(":", "."), queue=job.queue, job_id=job_id, **kwargs)


def run_scheduler(app: Flask, stop: threading.Event | None = None) -> None:
    """The scheduler loop (``publisher scheduler``, or a thread of ``publisher run``): each job at its interval.

    Rounds keep to the wall clock: a job with a 1-second interval runs just after each whole second, so a delivery
    scheduled for 07:30:00 is queued within milliseconds of 07:30:00 rather than up to a second later.
    A failing round (database or Redis away) is logged and tried again at the next interval; nothing is lost,
    because what is due is always read from the database."""
    stop = stop or threading.Event()
    settings: Settings = app.extensions["publisher.settings"]
    last: dict[str, int] = {}
    failing: set[str] = set()
    log.info("scheduler started: %s", ", ".join(j.name for j in PERIODIC_JOBS))
    while not stop.is_set():
        for job in list(PERIODIC_JOBS):
            slot = int(time.time() // _round_length(job, settings))
            if last.get(job.name) == slot:
                continue
            last[job.name] = slot
            try:
                run_periodic_job(app, job)
                if job.name in failing:
                    failing.discard(job.name)
                    log.info("periodic job %s works again", job.name)
            except Exception as exc:  # noqa: BLE001 - keep the loop alive; the next round retries
                if job.name not in failing:
                    log.exception("periodic job %s failed: %s", job.name, exc)
                failing.add(job.name)
        stop.wait(_until_next_round(settings))


def _round_length(job: PeriodicJob, settings: Settings) -> float:
    """The job's interval as the loop keeps it on the wall clock (never shorter than 50 ms)."""
    return max(job.interval(settings), 0.05)


def _until_next_round(settings: Settings) -> float:
    """Seconds until the next interval boundary of any periodic job (a few milliseconds after it), at most 1."""
    now = time.time()
    boundaries = []
    for job in PERIODIC_JOBS:
        length = _round_length(job, settings)
        boundaries.append((now // length + 1) * length)
    return min(1.0, max(0.0, min(boundaries, default=now + 1.0) - now + 0.003))


def start_scheduler_thread(app: Flask) -> threading.Event:
    """For ``publisher run``: the scheduler in a daemon thread next to the in-process worker."""
    stop = threading.Event()
    threading.Thread(target=run_scheduler, args=(app, stop), name="scheduler", daemon=True).start()
    return stop
