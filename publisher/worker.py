"""RQ workers for Loa's queues. Each job runs inside the app's context and ends with a clean session.

RQ's own scheduler (it moves delayed jobs, such as retries, onto their queues) runs in a thread of the worker
process, never in a forked child: a child outlived a SIGKILLed worker and held every scheduler lock with no parent
to stop it. A thread dies with its worker, and a lock whose holder is a dead process on this machine (or one that
has stopped its heartbeat) is taken over at once by the next worker instead of waiting for the lock to expire."""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.job import Job
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.utils import now

from publisher.db import db
from publisher.queue import QUEUE_NAMES, get_queue, redis_connection

log = logging.getLogger(__name__)

_app: Flask | None = None

# A live scheduler thread beats every second; one silent this long is dead even where its process cannot be seen.
STALE_HEARTBEAT_SECONDS = 15


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
    _run(_worker(app), burst=burst, logging_level="INFO")


def run_embedded_worker(app: Flask) -> None:
    """The worker of `publisher run`, in the main thread against the in-process Redis stand-in."""
    _run(_worker(app), burst=False, logging_level="WARNING")


def _run(worker: SimpleWorker, *, burst: bool, logging_level: str) -> None:
    scheduler = rq_scheduler(worker)
    if burst:  # one pass, as RQ's own burst mode does: what is due now goes onto the queues, then the jobs run
        tick_rq_scheduler(scheduler)
        release_rq_scheduler(scheduler)
        worker.work(burst=True, with_scheduler=False, logging_level=logging_level)
        return
    stop = threading.Event()
    thread = threading.Thread(target=_scheduler_loop, args=(scheduler, stop), name="rq-scheduler", daemon=True)
    thread.start()
    try:
        worker.work(burst=False, with_scheduler=False, logging_level=logging_level)
    finally:
        stop.set()
        thread.join(5)
        release_rq_scheduler(scheduler)


def _scheduler_loop(scheduler: RQScheduler, stop: threading.Event) -> None:
    while True:
        try:
            tick_rq_scheduler(scheduler)
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("RQ scheduler tick failed")
        if stop.wait(scheduler.interval):
            return


def rq_scheduler(worker: SimpleWorker) -> RQScheduler:
    """RQ's scheduler for the worker's queues, on the worker's own connection (in embedded mode the shared
    in-process server, which a client of its own would not see)."""
    scheduler = RQScheduler(worker.queues, connection=worker.connection)
    scheduler._connection = worker.connection
    scheduler.pid = os.getpid()
    return scheduler


def tick_rq_scheduler(scheduler: RQScheduler) -> None:
    """Hold (or take, or take over from a dead holder) the scheduler locks, say this scheduler is alive, and move
    jobs whose scheduled time has come onto their queues."""
    connection = scheduler.connection
    scheduler.last_heartbeat = now()
    scheduler.save()
    held = scheduler.acquire_locks()
    for name in set(scheduler._queue_names) - held:
        key = scheduler.get_locking_key(name)
        holder = connection.get(key)
        if holder is not None and _holder_is_dead(connection, holder.decode(), scheduler.hostname):
            log.warning("taking over the RQ scheduler lock for %s from a dead scheduler", name)
            release_lock(connection, key, holder.decode())
    if len(held) < len(scheduler._queue_names):
        scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()


def release_rq_scheduler(scheduler: RQScheduler) -> None:
    """Give the locks back and forget this scheduler (a worker stopping the ordinary way)."""
    try:
        scheduler.release_locks()
        scheduler.register_death()
    except Exception:  # noqa: BLE001 - the locks expire on their own
        log.exception("could not release the RQ scheduler locks")


def _holder_is_dead(connection: Any, holder: str, hostname: str) -> bool:
    """Whether the scheduler named ``holder`` is gone: a process of this machine that no longer exists, or a
    scheduler whose heartbeat stopped. One that never said where it runs is left to its lock's expiry."""
    raw = connection.hgetall(SCHEDULER_KEY_TEMPLATE % holder)
    if not raw:
        return False
    meta = {k.decode(): v.decode() for k, v in raw.items()}
    beat = meta.get("last_heartbeat")
    if beat:
        try:
            last = datetime.fromisoformat(beat.replace("Z", "+00:00"))
            if last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            if (datetime.now(UTC) - last).total_seconds() > STALE_HEARTBEAT_SECONDS:
                return True
        except ValueError:
            pass
    if meta.get("hostname") == hostname and meta.get("pid", "").isdigit():
        return not _process_exists(int(meta["pid"]))
    return False


def _process_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is dead too
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True

