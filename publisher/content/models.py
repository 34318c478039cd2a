"""Campaigns, posts, their per-channel variants, saved revisions, and media items."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.accounts.models import Unit, User
from publisher.db import JSONType, db, utcnow

POST_STATES = ("draft", "in_review", "approved")
class Campaign(db.Model):
    """A propaganda campaign: a named period with hashtags and a goal that posts belong to."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    hashtags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    goal: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r}>"


class MediaItem(db.Model):
    """An uploaded image or video with its caption, alt text and per-channel renditions.

    ``renditions`` maps a rendition name (``w480``, ``social``, ``youtube_thumb``…) to
    ``{"path", "width", "height", "bytes", "content_type"}``; paths are relative to the media folder.
    """

    __tablename__ = "media_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))  # image | video
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(default=0)
    width: Mapped[int | None]
    height: Mapped[int | None]
    caption: Mapped[str] = mapped_column(Text, default="")
    alt_text: Mapped[str] = mapped_column(String(500), default="")
    renditions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<MediaItem {self.id} {self.kind} {self.original_filename!r}>"


class PostMedia(db.Model):
    """A media item attached to a post, in order."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_items.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    media: Mapped[MediaItem] = relationship(lazy="joined")


class Post(db.Model):
    """One story, written once, with a variant per channel. ``version`` guards against lost updates."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_unit_state", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    cover_media_id: Mapped[int | None] = mapped_column(ForeignKey("media_items.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    byline: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    locality: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    review_note: Mapped[str] = mapped_column(Text, default="")
    # Attribution of a post made from a news-source item (publisher.feeds): the original's link and source name.
    source_url: Mapped[str | None] = mapped_column(String(2000))
    source_name: Mapped[str | None] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")  # kept by publisher.content.queries
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    unit: Mapped[Unit] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    campaign: Mapped[Campaign | None] = relationship()
    cover: Mapped[MediaItem | None] = relationship(foreign_keys=[cover_media_id])
    variants: Mapped[list[Variant]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Variant.channel_kind"
    )
    media_links: Mapped[list[PostMedia]] = relationship(
        cascade="all, delete-orphan", order_by="PostMedia.position"
    )

    @property
    def media(self) -> list[MediaItem]:
        return [link.media for link in self.media_links]

    def variant(self, kind: str) -> dict[str, Any]:
        for v in self.variants:
            if v.channel_kind == kind:
                return dict(v.data or {})
        return {}

    def __repr__(self) -> str:
        return f"<Post {self.id} v{self.version} {self.state} {self.slug!r}>"


class Variant(db.Model):
    """The post as one channel kind shows it (Facebook message; YouTube title, description, tags, privacy…)."""

    __tablename__ = "post_variants"
    __table_args__ = (UniqueConstraint("post_id", "channel_kind", name="uq_post_variants_post_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    channel_kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    post: Mapped[Post] = relationship(back_populates="variants")

    def __repr__(self) -> str:
        return f"<Variant post={self.post_id} {self.channel_kind}>"


class PostRevision(db.Model):
    """Every saved version of a post, as a snapshot of its editable fields."""

    __tablename__ = "post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "version", name="uq_post_revisions_post_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)

    saved_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PostRevision post={self.post_id} v{self.version}>"
