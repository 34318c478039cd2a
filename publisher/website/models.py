"""The public website's own store: what is published on it, what readers write under it, how often it is read.

An article is a snapshot of a post taken when the website adapter publishes or updates it, so the site
shows exactly what was delivered even while the post is edited again in the newsroom.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import JSONType, db, utcnow

ARTICLE_STATES = ("published", "removed")
COMMENT_STATES = ("pending", "approved", "rejected")


class Article(db.Model):
    """One article on the public site at ``/tin/<slug>``; ``version`` changes with anything the page shows."""

    __tablename__ = "website_articles"
    __table_args__ = (Index("ix_website_articles_state_published", "state", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    byline: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    category_slug: Mapped[str] = mapped_column(String(120), default="", index=True)
    locality: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    cover: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    search_text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="published")
    version: Mapped[int] = mapped_column(default=1)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # any change the site shows

    comments: Mapped[list[ReaderComment]] = relationship(back_populates="article", cascade="all, delete-orphan",
                                                         order_by="ReaderComment.id")

    @property
    def is_live(self) -> bool:
        return self.state == "published"

    def __repr__(self) -> str:
        return f"<Article {self.id} v{self.version} {self.state} {self.slug!r}>"


class ReaderComment(db.Model):
    """A reader's comment (moderated before it shows) or a staff answer under one (``is_staff``)."""

    __tablename__ = "website_comments"
    __table_args__ = (Index("ix_website_comments_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("website_articles.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("website_comments.id", ondelete="CASCADE"),
                                                  index=True)
    author_name: Mapped[str] = mapped_column(String(100))
    # Given by the reader (optional, never shown): how an erasure or export request finds their comments.
    author_email: Mapped[str | None] = mapped_column(String(320), index=True)
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    is_staff: Mapped[bool] = mapped_column(default=False)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The reader's consent to the notice shown with the form (its version), and when it was given.
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(20))
    # Set when the reader's identity and text were removed (on request or by retention); the row stays so that
    # figures (comment counts) do not change, but nothing of it is shown any more.
    anonymised_at: Mapped[datetime | None]

    article: Mapped[Article] = relationship(back_populates="comments")
    replies: Mapped[list[ReaderComment]] = relationship(order_by="ReaderComment.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<ReaderComment {self.id} article={self.article_id} {self.state}>"


class ArticleViewDay(db.Model):
    """Page views of one article on one day (the organisation's time zone); no reader is identified."""

    __tablename__ = "website_article_views"

    article_id: Mapped[int] = mapped_column(ForeignKey("website_articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    views: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ArticleViewDay {self.article_id} {self.day} {self.views}>"
