"""Connected channels: the website, a Facebook Page, a YouTube channel — each belonging to one unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.accounts.models import Unit
from publisher.db import JSONType, db, utcnow

CHANNEL_STATES = ("connected", "needs_reconnect", "disconnected")
# States in which nothing goes out on a channel: its waiting deliveries are ``paused`` until it is connected again.
PAUSING_STATES = ("needs_reconnect", "disconnected")


class Channel(db.Model):
    """``settings`` holds what may be shown (page id, channel id); ``secrets_encrypted`` the tokens, encrypted."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="connected")
    last_checked_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<Channel {self.id} {self.kind} {self.name!r} {self.state}>"
