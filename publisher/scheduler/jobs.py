"""RQ jobs of the publishing pipeline: small functions taking ids, reloading rows, safe to run twice.

Queueing them is :mod:`publisher.scheduler.enqueue` (the one place that binds queue names, time-outs and failure
TTLs). Job ids derive from (delivery id, version), so a job queued twice for the same version does its work once
(the claim is atomic).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime
from typing import Any

from flask import current_app

from publisher.channels.base import ChannelError
from publisher.channels.services import adapter_for
from publisher.db import db, utcnow
from publisher.scheduler import notify, pipeline, wake
from publisher.scheduler.enqueue import ENQUEUED_MARKER_SECONDS, enqueue_deliveries
from publisher.scheduler.models import Delivery, DeliveryAttempt
from publisher.scheduler.services import build_request
from publisher.settings import Settings

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "loa:heartbeat"
# --- jobs ------------------------------------------------------------------------------------------------


def _settings() -> Settings:
    return current_app.extensions["publisher.settings"]


def publish_deliveries(pairs: list[list[int]]) -> dict[str, int]:
    """Claim and publish a batch of due deliveries; a version that changed meanwhile is skipped."""
    return pipeline.publish_deliveries([(int(i), int(v)) for i, v in pairs])


def publish_delivery(delivery_id: int, version: int) -> dict[str, int]:
    return pipeline.publish_deliveries([(delivery_id, version)])


EPOCH_KEY = "loa:scheduler:epoch"


class EnqueuedMemory:
    """A scheduler process's memory of the (id, version) pairs it queued in the last ENQUEUED_MARKER_SECONDS, so a
    tick does not ask Redis about every due delivery again while thousands wait for a worker. Redis keeps an epoch
    key: when it is gone (Redis emptied or restarted) the memory is forgotten with the jobs, and the next tick
    queues every due delivery again from the database; the Redis markers still keep several schedulers from
    queueing the same pair twice."""

    def __init__(self) -> None:
        self.until: dict[tuple[int, int], float] = {}
        self.epoch: bytes | None = None
        self.pruned_at = 0.0

    def fresh(self, conn: Any, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The pairs not queued recently, as far as this process knows."""
        conn.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
        epoch = conn.get(EPOCH_KEY)
        now = time.monotonic()
        if epoch != self.epoch:
            self.until.clear()
            self.epoch = epoch
        elif now - self.pruned_at > 60:
            self.until = {pair: until for pair, until in self.until.items() if until > now}
            self.pruned_at = now
        return [pair for pair in pairs if self.until.get(pair, 0.0) <= now]

    def remember(self, pairs: list[tuple[int, int]]) -> None:
        until = time.monotonic() + ENQUEUED_MARKER_SECONDS
        self.until.update(dict.fromkeys(pairs, until))


def enqueue_due(now: datetime | None = None) -> int:
    """The scheduler's tick: queue every due delivery from the database (the source of truth) that this process
    did not queue already (see ``EnqueuedMemory``)."""
    from publisher.queue import redis_connection

    settings = _settings()
    pairs = [(i, v) for i, v, _c in pipeline.due_pairs(now)]
    db.session.rollback()  # end the read transaction
    memory: EnqueuedMemory = current_app.extensions.setdefault("publisher.enqueued", EnqueuedMemory())
    pairs = memory.fresh(redis_connection(settings), pairs)
    queued = enqueue_deliveries(settings, pairs)
    memory.remember(pairs)
    return queued


def dispatch_due(now: datetime | None = None) -> int:
    """The scheduler's tick for due deliveries. With PostgreSQL and Redis the workers claim due work from the
    database themselves: the tick only wakes them when something is due (``wake.wake_if_due``). Otherwise (SQLite,
    the embedded mode) it queues RQ publish jobs (``enqueue_due``)."""
    settings = _settings()
    if pipeline.claims_directly(settings):
        return wake.wake_if_due(settings)
    return enqueue_due(now)


def recover_stale() -> list[int]:
    """Periodic: deliveries whose worker died mid-publish are looked up again; paused deliveries of channels
    reconnected without the reconnect hooks resume."""
    pipeline.resume_reconnected()
    return pipeline.recover_stale(_settings())


def heartbeat(sent_at: float | None = None) -> float:
    """Proof that workers consume the queues: the health check reads when this last ran."""
    from publisher.queue import redis_connection

    now = time.time()
    redis_connection(_settings()).set(HEARTBEAT_KEY, json.dumps({"at": now, "sent_at": sent_at}), ex=86400)
    return now


def unpublish_delivery(delivery_id: int, version: int) -> str:
    """Remove an unpublished delivery's remote copy (already removed is fine); retried by RQ on failure."""
    settings = _settings()
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.state != "unpublished" or delivery.version != version or not delivery.remote_id:
        return "skipped"
    if any(a.action == "unpublish" and a.outcome == "unpublished" and a.details.get("version") == version
           for a in delivery.history):
        return "skipped"
    attempt = DeliveryAttempt(delivery_id=delivery.id, action="unpublish", worker=pipeline.worker_name()[:200],
                              outcome="running", started_at=utcnow(), remote_id=delivery.remote_id,
                              details={"version": version})
    db.session.add(attempt)
    db.session.commit()
    try:
        adapter_for(delivery.channel, settings).unpublish(delivery.remote_id)
    except ChannelError as exc:
        code, message = pipeline.error_fields(exc)
        attempt.outcome, attempt.code, attempt.message, attempt.ended_at = "error", code, message, utcnow()
        delivery.last_error = f"unpublish: {code}: {message}"
        db.session.commit()
        raise
    attempt.outcome, attempt.ended_at = "unpublished", utcnow()
    db.session.commit()
    return "unpublished"


def update_delivery(delivery_id: int, post_version: int) -> str:
    """Push an approved edit of a published post to its channel, if the channel supports edits."""
    settings = _settings()
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.state != "published" or delivery.post_version >= post_version:
        return "skipped"
    post = delivery.post
    if post.version != post_version or post.state != "approved":
        return "skipped"
    adapter = adapter_for(delivery.channel, settings)
    attempt = DeliveryAttempt(delivery_id=delivery.id, action="update", worker=pipeline.worker_name()[:200],
                              outcome="running", started_at=utcnow(), remote_id=delivery.remote_id,
                              details={"post_version": post_version})
    db.session.add(attempt)
    if not adapter.supports_update:
        attempt.outcome, attempt.ended_at = "unsupported", utcnow()
        attempt.message = "this channel does not support editing published posts"
        delivery.post_version = post_version
        db.session.commit()
        return "unsupported"
    db.session.commit()
    try:
        result = adapter.update(delivery.remote_id or "", build_request(post, delivery.channel,
                                                                        delivery.idempotency_key, settings))
    except ChannelError as exc:
        code, message = pipeline.error_fields(exc)
        attempt.outcome, attempt.code, attempt.message, attempt.ended_at = "error", code, message, utcnow()
        db.session.commit()
        raise
    attempt.outcome, attempt.ended_at = "updated", utcnow()
    attempt.remote_id, attempt.remote_url = result.remote_id, result.remote_url or None
    delivery.post_version = post_version
    if result.remote_url:
        delivery.remote_url = result.remote_url
    db.session.commit()
    return "updated"


def mail_admins(unit_id: int | None, subject: str, body: str) -> None:
    notify.send_admin_mail(_settings(), unit_id, subject, body)


def send_webhook(row_id: int) -> str:
    outcome = notify.send_webhook_event(row_id, _settings())
    db.session.commit()
    return outcome


def resend_webhooks() -> int:
    """Periodic: send webhook events whose next try is due."""
    ids = notify.due_webhook_events()
    for row_id in ids:
        send_webhook(row_id)
    return len(ids)


def noop() -> None:
    """Does nothing: the benchmark's measure of what one RQ job costs (the ceiling of one job per delivery)."""
