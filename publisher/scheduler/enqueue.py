"""Queueing the scheduler's jobs: the one place that binds queue names, time-outs and failure TTLs.

A low module of its own: services, notices and periodic definitions queue jobs through it without importing the
jobs (which import them). Jobs are named by dotted path, so nothing here imports what it queues.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from publisher.queue import get_queue, redis_connection
from publisher.settings import Settings

ENQUEUED_MARKER_SECONDS = 300


def job_options(settings: Settings, queue: str) -> dict[str, Any]:
    """Time-out and TTLs per queue. A publish job may upload a video: it gets most of the delivery lease."""
    if queue == "publish":
        timeout = int(max(60, settings.delivery_lease_seconds - 30))
    else:
        timeout = 300
    return {"job_timeout": timeout, "result_ttl": 600, "failure_ttl": 7 * 86400, "ttl": 86400}


def enqueue_job(settings: Settings, func: str, *args: Any, queue: str = "default", job_id: str | None = None,
                retries: int = 0, **kwargs: Any) -> Any:
    """Queue ``func`` (a dotted path) with the queue's time-out and TTLs; ``retries`` re-runs a failed job with
    growing pauses (RQ's scheduler, which every Loa worker runs)."""
    from rq import Retry  # imported when first used, as publisher.queue does with rq

    retry = Retry(max=retries, interval=[min(3600, 30 * 2**i) for i in range(retries)]) if retries else None
    return get_queue(settings, queue).enqueue(func, args=args, kwargs=kwargs, job_id=job_id, retry=retry,
                                              **job_options(settings, queue))


def _batch_job_id(pairs: list[tuple[int, int]]) -> str:
    if len(pairs) == 1:
        return f"delivery-{pairs[0][0]}-v{pairs[0][1]}"
    digest = hashlib.sha1(json.dumps(sorted(pairs)).encode()).hexdigest()[:16]
    return f"deliveries-{pairs[0][0]}-v{pairs[0][1]}-{digest}"


def enqueue_deliveries(settings: Settings, pairs: list[tuple[int, int]]) -> int:
    """Queue publish jobs for (id, version) pairs not queued already, in batches; returns how many were new.

    A marker per (id, version) in Redis keeps the scheduler from queueing the same version every tick; if Redis
    is emptied the markers go with the jobs, and the next tick queues them again from the database."""
    if not pairs:
        return 0
    conn = redis_connection(settings)
    pipe = conn.pipeline(transaction=False)
    for delivery_id, version in pairs:
        pipe.set(f"loa:enqueued:{delivery_id}:{version}", 1, nx=True, ex=ENQUEUED_MARKER_SECONDS)
    fresh = [pair for pair, is_new in zip(pairs, pipe.execute(), strict=True) if is_new]
    size = max(1, settings.publish_batch_size)
    for start in range(0, len(fresh), size):
        batch = [list(p) for p in fresh[start:start + size]]
        enqueue_job(settings, "publisher.scheduler.jobs.publish_deliveries", batch, queue="publish",
                    job_id=_batch_job_id([tuple(p) for p in batch]))
    return len(fresh)
