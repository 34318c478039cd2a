"""Telling people: admin e-mails (or the log, without SMTP) and signed outgoing webhooks.

Webhook events are written as outbox rows in the same transaction as the state change they report and sent by a
job after the commit, retried with back-off; each carries an ``id`` receivers de-duplicate on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import requests
from sqlalchemy import select

from publisher.accounts.models import Unit, User
from publisher.accounts.services import can_see_unit, require_role
from publisher.audit import record
from publisher.channels.models import Channel
from publisher.db import after_commit, db, utcnow
from publisher.scheduler.enqueue import enqueue_job
from publisher.scheduler.models import Delivery, Webhook, WebhookEvent
from publisher.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_TIMEOUT_SECONDS = 10


# --- e-mail ----------------------------------------------------------------------------------------------


def admin_addresses(unit_id: int | None) -> list[str]:
    """Active admins of the unit or any unit above it (their role covers it)."""
    query = select(User.email).where(User.role == "admin", User.active.is_(True))
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is not None and unit.path:
            ancestors = [int(p) for p in unit.path.strip("/").split("/") if p.isdigit()] or [unit.id]
            query = query.where(User.unit_id.in_(ancestors))
    return sorted(db.session.scalars(query))


def send_admin_mail(settings: Settings, unit_id: int | None, subject: str, body: str) -> None:
    """Mail the admins; without an SMTP host (embedded mode) the message is written to the log."""
    recipients = admin_addresses(unit_id)
    if not settings.smtp_host or not recipients:
        log.warning("admin notice (no SMTP host or no admin): %s\n%s", subject, body)
        return
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(recipients)
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not mail the admins (%s): %s\n%s", exc, subject, body)


def _mail_after_commit(settings: Settings, unit_id: int | None, subject: str, body: str) -> None:
    def send() -> None:
        try:
            enqueue_job(settings, "publisher.scheduler.jobs.mail_admins", unit_id, subject, body, queue="default")
        except Exception:  # noqa: BLE001 - Redis away: at least the log has it
            log.error("admin notice not queued: %s\n%s", subject, body)

    after_commit(send)


def channel_needs_reconnect(settings: Settings, channel_id: int, name: str, reason: str) -> None:
    channel = db.session.get(Channel, channel_id)
    subject = f"[Loa] Kênh «{name}» cần kết nối lại / Channel needs reconnecting"
    body = (f"Quyền truy cập kênh «{name}» (#{channel_id}) đã hết hạn. Các bài đã lên lịch được tạm dừng và sẽ "
            f"tự động đăng lại sau khi kết nối lại kênh.\n\nThe channel's authorisation expired: {reason}\n"
            f"Its scheduled deliveries are paused and resume on their own once it is reconnected.\n")
    try:
        enqueue_job(settings, "publisher.scheduler.jobs.mail_admins", channel.unit_id if channel else None,
                    subject, body, queue="default")
    except Exception:  # noqa: BLE001
        log.error("admin notice not queued: %s\n%s", subject, body)


# --- delivery events -------------------------------------------------------------------------------------


def event_payload(delivery: Delivery, event: str, event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "event": event,
        "occurred_at": utcnow().isoformat(),
        "delivery": {
            "id": delivery.id,
            "post_id": delivery.post_id,
            "channel_id": delivery.channel_id,
            "state": event.split(".", 1)[1],
            "remote_id": delivery.remote_id,
            "remote_url": delivery.remote_url,
            "error": delivery.last_error,
        },
    }


def delivery_event(delivery_id: int, event: str) -> None:
    """Record the event for every subscribed webhook (sent after commit) and mail admins of failures."""
    from flask import current_app

    settings: Settings = current_app.extensions["publisher.settings"]
    hooks = list(db.session.scalars(select(Webhook).where(Webhook.active.is_(True))))
    if not hooks and event == "delivery.published":
        return
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        return
    db.session.refresh(delivery)
    event_ids = []
    for hook in hooks:
        if hook.events and event not in hook.events:
            continue
        unit = db.session.get(Unit, hook.unit_id)
        post_unit = delivery.post.unit
        if unit is not None and not (post_unit.path or "").startswith(unit.path or ""):
            continue
        # The event id is stable per delivery, version and event: receivers de-duplicate on it.
        event_id = f"{event}:{delivery.id}:{delivery.version}:{hook.id}"
        if db.session.scalar(select(WebhookEvent.id).where(WebhookEvent.event_id == event_id)) is not None:
            continue
        row = WebhookEvent(webhook_id=hook.id, event_id=event_id, event=event, attempts=0, state="pending",
                           payload=event_payload(delivery, event, event_id), last_error="")
        db.session.add(row)
        db.session.flush()
        event_ids.append(row.id)
    if event_ids:
        def send() -> None:
            for row_id in event_ids:
                try:
                    enqueue_job(settings, "publisher.scheduler.jobs.send_webhook", row_id,
                                job_id=f"webhook-{row_id}-0", queue="default")
                except Exception:  # noqa: BLE001 - the periodic retry picks it up
                    log.warning("webhook event %s not queued now", row_id)

        after_commit(send)
    if event in ("delivery.failed", "delivery.unconfirmed"):
        what = "thất bại / failed" if event == "delivery.failed" else "chưa xác nhận / unconfirmed"
        subject = f"[Loa] Bài «{delivery.post.title[:80]}» trên kênh «{delivery.channel.name}»: {what}"
        body = (f"Delivery #{delivery.id} (post #{delivery.post_id}, channel #{delivery.channel_id}) is "
                f"{event.split('.', 1)[1]}.\nReason: {delivery.last_error or '-'}\n"
                f"Open it in Loa to retry or decide: {settings.public_url}/admin/deliveries/{delivery.id}\n")
        _mail_after_commit(settings, delivery.unit_id, subject, body)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook_event(row_id: int, settings: Settings) -> str:
    """POST one event; on failure schedule the next try (the periodic job resends due ones)."""
    row = db.session.get(WebhookEvent, row_id)
    if row is None or row.state != "pending":
        return "skipped"
    hook = db.session.get(Webhook, row.webhook_id)
    if hook is None or not hook.active:
        row.state = "failed"
        row.last_error = "webhook removed or inactive"
        return "failed"
    body = json.dumps(row.payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "X-Loa-Event": row.event, "X-Loa-Event-Id": row.event_id,
               "X-Loa-Signature": sign(hook.secret, body), "User-Agent": "Loa-Webhooks/1"}
    row.attempts += 1
    try:
        response = requests.post(hook.url, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS)
        ok = 200 <= response.status_code < 300
        error = "" if ok else f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        ok, error = False, exc.__class__.__name__
    if ok:
        row.state = "sent"
        row.last_error = ""
        return "sent"
    row.last_error = error
    if row.attempts >= WEBHOOK_MAX_ATTEMPTS:
        row.state = "failed"
        return "failed"
    row.next_attempt_at = utcnow() + timedelta(seconds=min(3600, settings.retry_base_seconds * 2 ** row.attempts))
    return "retry"


def due_webhook_events(limit: int = 500) -> list[int]:
    now = utcnow()
    return list(db.session.scalars(select(WebhookEvent.id).where(
        WebhookEvent.state == "pending",
        (WebhookEvent.next_attempt_at.is_(None)) | (WebhookEvent.next_attempt_at <= now),
    ).order_by(WebhookEvent.id).limit(limit)))


def create_webhook(unit_id: int, url: str, events: list[str] | None = None, secret: str | None = None) -> Webhook:
    hook = Webhook(unit_id=unit_id, url=url, secret=secret or uuid.uuid4().hex + uuid.uuid4().hex,
                   events=list(events or []), active=True)
    db.session.add(hook)
    db.session.flush()
    return hook


def delete_webhook(webhook_id: int, user: User) -> None:
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        return
    unit = db.session.get(Unit, hook.unit_id)
    if unit is None or not can_see_unit(user, unit.path):
        return
    require_role(user, "admin", unit)
    record(user, "webhook.delete", hook, url=hook.url)
    db.session.delete(hook)
    db.session.flush()
