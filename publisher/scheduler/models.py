"""Deliveries: one post on one channel at one time, and every attempt made to publish it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.channels.models import Channel
from publisher.content.models import Post
from publisher.db import JSONType, db, utcnow

# ``paused``: the channel needs reconnecting (resumes on its own once reconnected); ``held``: a person paused it
# (only a person resumes it; a channel reconnect leaves it alone).
DELIVERY_STATES = ("scheduled", "publishing", "published", "failed", "paused", "unconfirmed", "cancelled",
                   "unpublished", "held")


class Delivery(db.Model):
    """The database is the source of truth for what must go out: the queue is rebuilt from these rows.

    ``version`` changes on every reschedule, cancel or edit, so a queued job for an older version does nothing.
    ``idempotency_key`` travels with the publish so that recovery can ask the platform whether it went out.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state_at", "state", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="scheduled")
    scheduled_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)
    post_version: Mapped[int] = mapped_column(default=1)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_url: Mapped[str | None] = mapped_column(String(1000))
    published_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(100))
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Set when a publish may have reached the platform without an answer (a time-out, a killed worker): the next
    # attempt asks the channel by idempotency key before publishing again.
    needs_lookup: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    post: Mapped[Post] = relationship()
    channel: Mapped[Channel] = relationship()
    history: Mapped[list[DeliveryAttempt]] = relationship(back_populates="delivery", order_by="DeliveryAttempt.id",
                                                          cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Delivery {self.id} post={self.post_id} channel={self.channel_id} {self.state} v{self.version}>"


class DeliveryAttempt(db.Model):
    """One try at publishing (or updating, unpublishing, looking up) a delivery."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20), default="publish")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    worker: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(30), default="running")
    code: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_url: Mapped[str | None] = mapped_column(String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    delivery: Mapped[Delivery] = relationship(back_populates="history")

    def __repr__(self) -> str:
        return f"<DeliveryAttempt {self.id} delivery={self.delivery_id} {self.action} {self.outcome}>"


WEBHOOK_EVENTS = ("delivery.published", "delivery.failed", "delivery.unconfirmed")


class Webhook(db.Model):
    """An outgoing webhook configured by an admin: signed JSON events POSTed to ``url``."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Webhook {self.id} {self.url!r}>"


class WebhookEvent(db.Model):
    """One event for one webhook (an outbox row): retried until the receiver answers 2xx or attempts run out."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<WebhookEvent {self.id} {self.event} {self.state}>"
