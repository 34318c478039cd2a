"""News sources (RSS/Atom feeds an organisation unit follows) and the items fetched from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.accounts.models import Unit, User
from publisher.content.models import Post
from publisher.db import db, utcnow

# last_fetch_status: None before the first fetch, then one of these.
FETCH_STATUSES = ("ok", "not_modified", "warning", "error")


class Source(db.Model):
    """A feed an organisation unit follows. ``last_fetch_status`` / ``last_error`` tell how the last fetch went;
    ``etag`` / ``last_modified`` make the next one conditional."""

    __tablename__ = "feed_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    fetch_interval_minutes: Mapped[int] = mapped_column(default=60)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    auto_draft: Mapped[bool] = mapped_column(default=False)
    allow_private_address: Mapped[bool] = mapped_column(default=False)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_fetch_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_fetch_status: Mapped[str | None] = mapped_column(String(20))
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_new_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Source {self.id} {self.name!r}>"


class Item(db.Model):
    """One entry of a feed. ``dedupe_key`` is the digest of its identity (guid, else link, else title + date),
    unique per source, so that fetching the same feed twice stores nothing twice."""

    __tablename__ = "feed_items"
    __table_args__ = (
        UniqueConstraint("source_id", "dedupe_key", name="uq_feed_items_source_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("feed_sources.id", ondelete="CASCADE"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(64))
    guid: Mapped[str | None] = mapped_column(String(1000))
    link: Mapped[str] = mapped_column(String(2000), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    image_url: Mapped[str] = mapped_column(String(2000), default="")
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    draft_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"), index=True)

    source: Mapped[Source] = relationship()
    draft_post: Mapped[Post | None] = relationship()

    def __repr__(self) -> str:
        return f"<Item {self.id} source={self.source_id} {self.title[:30]!r}>"
