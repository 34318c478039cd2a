"""RQ workers for Loa's queues. Each job runs inside the app's context and ends with a clean session."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.job import Job

from publisher.db import db
from publisher.queue import QUEUE_NAMES, get_queue, redis_connection

log = logging.getLogger(__name__)

_app: Flask | None = None


class AppJob(Job):
    """A job that runs in the worker's Flask app context; its session is discarded afterwards."""

    def perform(self) -> Any:
        if _app is None:
            return super().perform()
        with _app.app_context():
            try:
                return super().perform()
            finally:
                db.session.remove()


def _worker(app: Flask) -> SimpleWorker:
    global _app
    _app = app
    settings = app.extensions["publisher.settings"]
    queues = [get_queue(settings, name) for name in QUEUE_NAMES]
    # SimpleWorker runs jobs in this process: ~5x the throughput of forking, and no forked database
    # connections; jobs are short, idempotent, and time-limited by RQ's SIGALRM death penalty.
    return SimpleWorker(queues, connection=redis_connection(settings), job_class=AppJob)


def run_worker(app: Flask, burst: bool = False) -> None:
    """The production worker: any number of these on any number of machines against one Redis."""
    _worker(app).work(burst=burst, with_scheduler=True, logging_level="INFO")


def run_embedded_worker(app: Flask) -> None:
    """The worker of `publisher run`, in the main thread against the in-process Redis stand-in.

    RQ's own scheduler (delayed retries of jobs) runs in a thread here: RQ would fork it into a process, whose
    copy of the in-process stand-in the worker never sees (and forking a threaded process can hang shutdown)."""
    worker = _worker(app)
    scheduler = embedded_rq_scheduler(worker)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(1.0):
            try:
                tick_rq_scheduler(scheduler)
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("embedded RQ scheduler tick failed")

    threading.Thread(target=loop, name="rq-scheduler", daemon=True).start()
    try:
        worker.work(burst=False, with_scheduler=False, logging_level="WARNING")
    finally:
        stop.set()


def embedded_rq_scheduler(worker: SimpleWorker) -> Any:
    from rq.scheduler import RQScheduler

    scheduler = RQScheduler(worker.queues, connection=worker.connection)
    scheduler._connection = worker.connection  # the shared in-process server, not a new client of its own
    return scheduler


def tick_rq_scheduler(scheduler: Any) -> None:
    """Move jobs whose scheduled time has come (RQ's delayed retries) onto their queues."""
    scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()
