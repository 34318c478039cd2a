"""Finding posts again: lists with filters, a search that ignores diacritics and case, dashboard lists
(the scheduler's own, such as approved posts not yet scheduled, are in :mod:`publisher.scheduler.queries`).

``Post.search_text`` holds the post's words without tone marks and in lower case; a ``before_flush`` listener keeps
it up to date whoever changes the post (the UI, the API, a job), so a search is one indexed-free LIKE on one column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from publisher.accounts.models import Unit, User
from publisher.accounts.services import visible_filter
from publisher.content.models import POST_STATES, Campaign, MediaItem, Post
from publisher.db import db

PAGE_SIZE = 25
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def unaccent(text: str) -> str:
    """Lower-case text without Vietnamese tone and vowel marks: "Công đoàn" -> "cong doan"."""
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped.lower()).strip()


def post_search_text(post: Post) -> str:
    parts = [post.title or "", post.summary or "", _TAGS.sub(" ", post.body_html or ""), " ".join(post.tags or []),
             post.slug or "", post.category or "", post.locality or ""]
    return unaccent(" ".join(parts))


@event.listens_for(Session, "before_flush")
def _refresh_search_text(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Post):
            text = post_search_text(obj)
            if obj.search_text != text:
                obj.search_text = text


@dataclass
class PostFilters:
    """What a posts list is narrowed to; every field optional."""

    q: str = ""
    state: str = ""
    campaign_id: int | None = None
    author_id: int | None = None
    unit_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Any) -> PostFilters:
        """Parse query-string arguments; a value that does not parse is dropped and noted in ``errors``."""
        f = cls(q=(args.get("q") or "").strip()[:200])
        state = args.get("state") or ""
        f.state = state if state in POST_STATES else ""
        for name in ("campaign_id", "author_id", "unit_id"):
            raw = args.get(name) or ""
            if raw.isdigit():
                setattr(f, name, int(raw))
        for name in ("date_from", "date_to"):
            raw = args.get(name) or ""
            if raw:
                try:
                    setattr(f, name, date.fromisoformat(raw))
                except ValueError:
                    f.errors[name] = raw
        page = args.get("page") or "1"
        f.page = max(int(page), 1) if page.isdigit() else 1
        return f


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def visible_posts(user: User):  # type: ignore[no-untyped-def]
    """A select of the posts in the user's scope."""
    return select(Post).where(visible_filter(user, Post.unit_id))


def without_bodies(query):  # type: ignore[no-untyped-def]
    """Lists never load whole bodies (up to 2 MB each, and their search text as much again): only what they show."""
    return query.options(defer(Post.body_html), defer(Post.search_text))


def with_relations(query):  # type: ignore[no-untyped-def]
    """A list's query: no bodies, with the author, unit and campaign each list shows."""
    return without_bodies(query).options(joinedload(Post.author), joinedload(Post.unit), joinedload(Post.campaign))


def list_posts(user: User, filters: PostFilters, tz: ZoneInfo, per_page: int = PAGE_SIZE) -> Page:
    """The posts the user may see, narrowed by ``filters``, newest change first, one page of them."""
    query = visible_posts(user)
    if filters.q:
        for word in unaccent(filters.q).split(" "):
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Post.search_text.like(f"%{escaped}%", escape="\\"))
    if filters.state:
        query = query.where(Post.state == filters.state)
    if filters.campaign_id:
        query = query.where(Post.campaign_id == filters.campaign_id)
    if filters.author_id:
        query = query.where(Post.author_id == filters.author_id)
    if filters.unit_id:
        unit = db.session.get(Unit, filters.unit_id)
        if unit is not None:
            query = query.where(Post.unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path))))
    if filters.date_from:
        query = query.where(Post.updated_at >= datetime.combine(filters.date_from, time.min, tz))
    if filters.date_to:
        query = query.where(Post.updated_at < datetime.combine(filters.date_to + timedelta(days=1), time.min, tz))
    total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(Post.id).subquery())) or 0
    per_page = max(per_page, 1)
    page = min(filters.page, max((total + per_page - 1) // per_page, 1))
    items = db.session.scalars(
        with_relations(query).order_by(Post.updated_at.desc(), Post.id.desc()).limit(per_page)
        .offset((page - 1) * per_page)
    ).unique().all()
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def my_drafts(user: User, limit: int = 20) -> list[Post]:
    query = with_relations(select(Post).where(Post.author_id == user.id, Post.state == "draft"))
    return list(db.session.scalars(query.order_by(Post.updated_at.desc()).limit(limit)).unique())


def review_queue(user: User, limit: int | None = None) -> list[Post]:
    """Posts waiting for review in the units the user may approve in (empty below the approver role)."""
    if not user.has_role("approver"):
        return []
    query = with_relations(visible_posts(user).where(Post.state == "in_review")).order_by(Post.submitted_at)
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query).unique())


def recently_changed(user: User, limit: int = 10) -> list[Post]:
    query = with_relations(visible_posts(user)).order_by(Post.updated_at.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def visible_campaigns(user: User) -> list[Campaign]:
    query = select(Campaign).where(visible_filter(user, Campaign.unit_id)).options(joinedload(Campaign.unit))
    return list(db.session.scalars(query.order_by(Campaign.starts_on.desc(), Campaign.name)).unique())


def visible_authors(user: User) -> list[User]:
    query = select(User).where(visible_filter(user, User.unit_id)).order_by(User.name, User.email)
    return list(db.session.scalars(query).unique())


def campaign_posts(campaign: Campaign, user: User) -> list[Post]:
    query = with_relations(visible_posts(user).where(Post.campaign_id == campaign.id))
    return list(db.session.scalars(query.order_by(Post.updated_at.desc())).unique())


def media_library(user: User, limit: int = 200) -> list[MediaItem]:
    query = select(MediaItem).where(visible_filter(user, MediaItem.unit_id)).order_by(MediaItem.created_at.desc())
    return list(db.session.scalars(query.limit(limit)))


def media_items_visible(user: User, ids: list[int]) -> list[MediaItem]:
    """The media items among ``ids`` that the user may see (unknown or out-of-scope ids are left out)."""
    if not ids:
        return []
    query = select(MediaItem).where(MediaItem.id.in_(ids[:200]), visible_filter(user, MediaItem.unit_id))
    return list(db.session.scalars(query))


def load_post_for_edit(post_id: int) -> Post | None:
    query = select(Post).where(Post.id == post_id).options(
        joinedload(Post.unit), joinedload(Post.author), joinedload(Post.campaign), joinedload(Post.cover),
        selectinload(Post.variants), selectinload(Post.media_links),
    )
    return db.session.scalars(query).unique().first()


def users_by_id(ids: set[int]) -> list[User]:
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids))).unique())
