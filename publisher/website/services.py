"""The public website's operations: publishing articles from delivered posts, reading them back for the public
pages, readers' comments and their moderation, and page-view counting.

Services flush, never commit. Errors the website adapter must classify are the ``WebsiteError`` subclasses
below; moderation errors are Loa's domain errors.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from flask_babel import lazy_gettext as _l
from slugify import slugify
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError

from publisher.accounts.models import Unit, User
from publisher.accounts.services import ROOT_UNIT_NAME, can_see_unit, get_unit, has_role_in, visible_filter
from publisher.audit import record
from publisher.content.media import media_path
from publisher.content.models import MediaItem, Post
from publisher.content.sanitize import clean_html, clean_text, find_dangerous_markup
from publisher.content.slugs import is_valid_slug
from publisher.db import db, utcnow
from publisher.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from publisher.publish_request import MediaFile, PublishRequest
from publisher.settings import Settings
from publisher.website.models import Article, ArticleViewDay, ReaderComment

log = logging.getLogger(__name__)

TITLE_MAX = 300
SUMMARY_MAX = 1000
BODY_MAX_BYTES = 100_000  # keeps an article page within its 150 KB budget before images
COMMENT_NAME_MAX = 100
COMMENT_MAX = 2000
REPLY_MAX = 4000
COMMENTS_SHOWN = 50
COMMENTS_BUDGET_BYTES = 30_000  # with the largest body, the page stays under 150 KB
COMMENT_LIMIT = 5  # comments from one reader per window
COMMENT_WINDOW_SECONDS = 600
COMMENT_EMAIL_MAX = 320
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# The version of the notice shown above the comment form's consent box (templates/public/_comment_notice.html);
# change it whenever the notice's content changes, so each comment says which text its reader agreed to.
COMMENT_NOTICE_VERSION = "2026-12-02"
LIST_PAGE_SIZE = 12  # articles per page of the front page's list, a category, search results
WEB_RENDITIONS = ("w480", "w960", "w1600")
IMAGE_SIZES = "(max-width: 800px) 100vw, 760px"

BOT_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|facebookexternalhit|zalo.*(?:link|preview)|preview|fetch|curl|wget|python-|"
    r"httpclient|http\.client|go-http|java/|headless|lighthouse|monitor|feed",
    re.IGNORECASE,
)


class WebsiteError(Exception):
    """A publish the website refuses; ``message`` is a sentence for people."""

    def __init__(self, message: Any, code: str):
        super().__init__(str(message))
        self.message = message
        self.code = code


class ArticleRefused(WebsiteError):
    """The content breaks one of the site's rules (the adapter reports it as REJECTED)."""


class ArticleDuplicate(WebsiteError):
    """The post already has a live article under another delivery (the adapter reports it as DUPLICATE)."""


@dataclass(frozen=True)
class Problem:
    field: str
    message: Any


# --- publishing ---------------------------------------------------------------------------------------------


def plain_text(html: str) -> str:
    return re.sub(r"\s+", " ", clean_text(re.sub(r"<[^>]+>", " ", html or ""))).strip()


def fold(text: str) -> str:
    """Lower-case text without tone marks (``Chuyển đổi số`` -> ``chuyen doi so``) for searching."""
    text = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def article_fields(request: PublishRequest) -> dict[str, Any]:
    """What the site would show for ``request``: the post's fields with the website variant's overrides."""
    variant = request.variant or {}
    post = db.session.get(Post, request.post_id) if request.post_id else None
    return {
        "title": clean_text(variant.get("title") or request.title or ""),
        "summary": clean_text(variant.get("summary") or request.summary or ""),
        "body_html": variant.get("body_html") or request.body_html or "",
        "slug": (variant.get("slug") or request.slug or "").strip(),
        "byline": clean_text(variant.get("byline") or (post.byline if post else "") or ""),
        "category": clean_text(variant.get("category") or (post.category if post else "") or ""),
        "locality": clean_text(variant.get("locality") or (post.locality if post else "") or ""),
        "tags": list(request.tags or (post.tags if post else []) or []),
        "unit_id": post.unit_id if post else None,
    }


def find_problems(request: PublishRequest, *, exclude_article_id: int | None = None) -> list[Problem]:
    """Everything the site would refuse ``request`` for."""
    fields = article_fields(request)
    problems: list[Problem] = []
    if not fields["title"]:
        problems.append(Problem("title", _l("The website needs a title.")))
    elif len(fields["title"]) > TITLE_MAX:
        problems.append(Problem("title", _l("The website allows at most %(n)s characters in a title (this has "
                                            "%(have)s).", n=TITLE_MAX, have=len(fields["title"]))))
    if len(fields["summary"]) > SUMMARY_MAX:
        problems.append(Problem("summary", _l("The website allows at most %(n)s characters in a summary (this has "
                                              "%(have)s).", n=SUMMARY_MAX, have=len(fields["summary"]))))
    body = fields["body_html"]
    if not plain_text(body) and not request.media and request.cover is None:
        problems.append(Problem("body_html", _l("The website needs a body text or at least one picture.")))
    size = len(body.encode("utf-8"))
    if size > BODY_MAX_BYTES:
        problems.append(Problem("body_html", _l("The body is %(kb)s KB; the website allows at most %(n)s KB so that "
                                                "the page loads quickly on a phone.",
                                                kb=size // 1000, n=BODY_MAX_BYTES // 1000)))
    dangerous = find_dangerous_markup(body)
    if dangerous:
        problems.append(Problem("body_html", _l("Remove the script-capable markup: %(found)s.",
                                                found=", ".join(dangerous))))
    slug = fields["slug"]
    if not is_valid_slug(slug):
        problems.append(Problem("slug", _l("The web address must use lower-case letters a–z, digits and hyphens.")))
    else:
        clash = _slug_owner(slug)
        if clash is not None and clash.id != exclude_article_id and not _same_story(clash, request):
            problems.append(Problem("slug", _slug_taken_message(slug)))
    if request.cover is not None and request.cover.kind != "image":
        problems.append(Problem("cover", _l("The cover picture must be an image.")))
    return problems


def _slug_taken_message(slug: str) -> Any:
    return _l("The address /tin/%(slug)s is already used by another article on the website; change the post's "
              "web address.", slug=slug)


def _slug_owner(slug: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.slug == slug))


def _same_story(article: Article, request: PublishRequest) -> bool:
    return (article.idempotency_key == request.idempotency_key
            or (article.post_id is not None and article.post_id == request.post_id))


def _relative(settings: Settings, path: Any) -> str:
    full = media_path(settings.media_dir, str(path))
    return full.relative_to(settings.media_dir.resolve()).as_posix()


def _image_record(settings: Settings, media: MediaFile) -> dict[str, Any]:
    """What a page needs to show one media item: URLs relative to /media/, sizes, caption and alt text."""
    item = db.session.get(MediaItem, media.media_id)
    stored = dict(item.renditions or {}) if item is not None else {}
    renditions: dict[str, dict[str, Any]] = {}
    for name, path in media.renditions.items():
        info = stored.get(name, {})
        width = info.get("width") or (int(name[1:]) if name[1:].isdigit() else None)
        renditions[name] = {"path": _relative(settings, path), "width": width, "height": info.get("height")}
    return {
        "media_id": media.media_id,
        "kind": media.kind,
        "path": _relative(settings, media.path),
        "content_type": media.content_type,
        "width": item.width if item is not None else None,
        "height": item.height if item is not None else None,
        "caption": clean_text(media.caption),
        "alt": clean_text(media.alt_text or media.caption),
        "renditions": renditions,
    }


def image_attributes(image: dict[str, Any]) -> dict[str, Any]:
    """``src``, ``srcset``, ``sizes``, ``width`` and ``height`` for an ``<img>`` of a stored image record."""
    renditions = image.get("renditions") or {}
    web = [(r["width"], r["path"]) for name, r in renditions.items() if name in WEB_RENDITIONS and r.get("width")]
    web.sort()
    if not web:
        return {"src": "/media/" + image["path"], "srcset": "", "sizes": "", "width": image.get("width"),
                "height": image.get("height")}
    middle = next((p for w, p in web if w >= 960), web[-1][1])
    first = renditions.get("w960") or renditions.get("w480") or {}
    return {
        "src": "/media/" + middle,
        "srcset": ", ".join(f"/media/{p} {w}w" for w, p in web),
        "sizes": IMAGE_SIZES,
        "width": first.get("width") or web[-1][0],
        "height": first.get("height"),
    }


def img_tag(image: dict[str, Any], *, lazy: bool = True) -> str:
    attrs = image_attributes(image)
    parts = [f'src="{escape(attrs["src"])}"']
    if attrs["srcset"]:
        parts.append(f'srcset="{escape(attrs["srcset"])}" sizes="{attrs["sizes"]}"')
    if attrs["width"] and attrs["height"]:
        parts.append(f'width="{int(attrs["width"])}" height="{int(attrs["height"])}"')
    parts.append(f'alt="{escape(image.get("alt") or "")}"')
    if lazy:
        parts.append('loading="lazy"')
    parts.append('decoding="async"')
    return "<img " + " ".join(parts) + ">"


_IMG_RE = re.compile(r"<img\b([^>]*?)\s*/?>", re.IGNORECASE)
_MEDIA_ID_RE = re.compile(r'data-media-id="(\d+)"')
_ALT_RE = re.compile(r'\balt="([^"]*)"')


def prepare_body(body_html: str, images: list[dict[str, Any]]) -> tuple[str, set[int]]:
    """The body as the page shows it: pictures placed by ``data-media-id`` get their responsive renditions, every
    picture is lazy-loaded. Returns the HTML and the media ids the body placed."""
    by_id = {img["media_id"]: img for img in images if img.get("kind") == "image"}
    placed: set[int] = set()

    def replace(match: re.Match[str]) -> str:
        attrs = match.group(1)
        found = _MEDIA_ID_RE.search(attrs)
        if found and int(found.group(1)) in by_id:
            image = dict(by_id[int(found.group(1))])
            placed.add(image["media_id"])
            alt = _ALT_RE.search(attrs)
            if alt and alt.group(1):
                image["alt"] = alt.group(1)
            return img_tag(image)
        return f'<img{attrs} loading="lazy" decoding="async">'

    html = _IMG_RE.sub(replace, clean_html(body_html))
    for figure_id in re.findall(r'<figure data-media-id="(\d+)"', html):
        if int(figure_id) in by_id:
            placed.add(int(figure_id))
    return html, placed


def _apply(article: Article, request: PublishRequest, settings: Settings, channel_id: int | None) -> None:
    with db.session.no_autoflush:
        fields = article_fields(request)
        images = [_image_record(settings, m) for m in request.media]
        cover = _image_record(settings, request.cover) if request.cover is not None else None
    body, placed = prepare_body(fields["body_html"], images)
    article.title = fields["title"]
    article.summary = fields["summary"]
    article.body_html = body
    article.slug = fields["slug"]
    article.byline = fields["byline"]
    article.category = fields["category"]
    article.category_slug = slugify(fields["category"]) if fields["category"] else ""
    article.locality = fields["locality"]
    article.tags = fields["tags"]
    article.unit_id = fields["unit_id"] if fields["unit_id"] is not None else article.unit_id
    article.channel_id = channel_id if channel_id is not None else article.channel_id
    article.post_id = request.post_id or article.post_id
    article.cover = cover
    article.images = [dict(img, in_body=img["media_id"] in placed) for img in images]
    article.search_text = fold(" ".join([fields["title"], fields["summary"], plain_text(body), fields["category"],
                                         fields["locality"], " ".join(fields["tags"])]))


def _check(request: PublishRequest, exclude_article_id: int | None = None) -> None:
    problems = find_problems(request, exclude_article_id=exclude_article_id)
    if problems:
        slug_clash = any(p.field == "slug" and "/tin/" in str(p.message) for p in problems)
        message = "; ".join(str(p.message) for p in problems)
        raise ArticleRefused(message, "slug_taken" if slug_clash else "invalid_content")


def _touch(article: Article) -> None:
    article.version = (article.version or 0) + 1
    article.changed_at = utcnow()


def publish_article(request: PublishRequest, settings: Settings, channel_id: int | None = None) -> Article:
    """Put the post on the site now. Publishing the same delivery again answers the article it already made;
    a post whose article was removed comes back at its old address."""
    existing = article_by_key(request.idempotency_key)
    if existing is not None and existing.is_live:
        return existing
    if request.post_id:
        live = db.session.scalar(select(Article).where(Article.post_id == request.post_id,
                                                       Article.state == "published"))
        if live is not None:
            raise ArticleDuplicate(_l("This post is already on the website at %(url)s.",
                                      url=article_url(settings, live)), "already_published")
    article = existing or (db.session.scalar(select(Article).where(Article.post_id == request.post_id))
                           if request.post_id else None)
    _check(request, exclude_article_id=article.id if article is not None else None)
    now = utcnow()
    savepoint = db.session.begin_nested()
    try:
        if article is None:
            article = Article(idempotency_key=request.idempotency_key, version=0, published_at=now)
            _apply(article, request, settings, channel_id)
            db.session.add(article)
        else:
            article.idempotency_key = request.idempotency_key
            article.published_at = now
            _apply(article, request, settings, channel_id)
        article.state = "published"
        article.removed_at = None
        article.updated_at = now
        _touch(article)
        db.session.flush()
        savepoint.commit()
    except IntegrityError as exc:
        savepoint.rollback()
        log.info("article store refused: %s", exc.orig)
        raise ArticleRefused(_slug_taken_message(request.slug), "slug_taken") from None
    record(None, "website.article_publish", article, slug=article.slug, post_id=article.post_id)
    return article


def update_article(article_id: int, request: PublishRequest, settings: Settings) -> Article:
    article = db.session.get(Article, article_id)
    if article is None or not article.is_live:
        raise ArticleRefused(_l("The article is no longer on the website; publish the post again instead."),
                             "article_removed")
    _check(request, exclude_article_id=article.id)
    savepoint = db.session.begin_nested()
    try:
        _apply(article, request, settings, None)
        article.updated_at = utcnow()
        _touch(article)
        db.session.flush()
        savepoint.commit()
    except IntegrityError as exc:
        savepoint.rollback()
        log.info("article store refused: %s", exc.orig)
        raise ArticleRefused(_slug_taken_message(request.slug), "slug_taken") from None
    record(None, "website.article_update", article, slug=article.slug, version=article.version)
    return article


def remove_article(article_id: int) -> Article | None:
    """Take the article off the site: from now on its address answers 410 Gone. Removing twice is harmless."""
    article = db.session.get(Article, article_id)
    if article is None or not article.is_live:
        return article
    article.state = "removed"
    article.removed_at = utcnow()
    _touch(article)
    db.session.flush()
    record(None, "website.article_remove", article, slug=article.slug)
    return article


def article_by_key(key: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.idempotency_key == key)) if key else None


def article_url(settings: Settings, article: Article) -> str:
    return f"{settings.public_url}/tin/{article.slug}"


def parse_article_id(remote_id: str) -> int | None:
    return int(remote_id) if str(remote_id).isdigit() else None


# --- engagement ---------------------------------------------------------------------------------------------


def article_metrics(article_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``{id: {"page_views", "comments", "live"}}`` for the known articles among ``article_ids``."""
    if not article_ids:
        return {}
    rows = db.session.execute(select(Article.id, Article.state).where(Article.id.in_(article_ids))).all()
    views = dict(db.session.execute(
        select(ArticleViewDay.article_id, func.coalesce(func.sum(ArticleViewDay.views), 0))
        .where(ArticleViewDay.article_id.in_(article_ids)).group_by(ArticleViewDay.article_id)).all())
    comments = dict(db.session.execute(
        select(ReaderComment.article_id, func.count(ReaderComment.id))
        .where(ReaderComment.article_id.in_(article_ids), ReaderComment.state == "approved",
               ReaderComment.is_staff.is_(False))
        .group_by(ReaderComment.article_id)).all())
    return {aid: {"page_views": int(views.get(aid, 0)), "comments": int(comments.get(aid, 0)),
                  "live": state == "published"} for aid, state in rows}


def shown_comments(article_id: int, since: datetime | None = None) -> list[ReaderComment]:
    """Approved comments and staff answers of an article, oldest first; ``since`` compares the time they appeared."""
    query = select(ReaderComment).where(ReaderComment.article_id == article_id, ReaderComment.state == "approved",
                                        ReaderComment.anonymised_at.is_(None))
    if since is not None:
        query = query.where(func.coalesce(ReaderComment.moderated_at, ReaderComment.created_at) > since)
    return list(db.session.scalars(query.order_by(ReaderComment.created_at, ReaderComment.id)))


def add_staff_reply(comment_id: int, message: str, user: User | None = None) -> ReaderComment:
    """A staff answer shown at once under a reader's approved comment."""
    comment = db.session.get(ReaderComment, comment_id)
    if comment is None or comment.state != "approved" or not comment.article.is_live:
        raise ArticleRefused(_l("The comment is not shown on the website, so it cannot be answered there."),
                             "comment_not_shown")
    if user is not None:
        require_moderator(user, comment.article)
    text = clean_text(message)
    if not text:
        raise ArticleRefused(_l("The answer is empty."), "empty_reply")
    if len(text) > REPLY_MAX:
        raise ArticleRefused(_l("An answer may have at most %(n)s characters.", n=REPLY_MAX), "reply_too_long")
    now = utcnow()
    reply = ReaderComment(article_id=comment.article_id, parent_id=comment.parent_id or comment.id,
                          author_name=_staff_name(comment.article), message=text, state="approved", is_staff=True,
                          staff_user_id=user.id if user else None, created_at=now, moderated_at=now,
                          moderated_by_id=user.id if user else None)
    db.session.add(reply)
    _touch(comment.article)
    db.session.flush()
    record(user, "website.comment_reply", comment.article, comment_id=comment.id, reply_id=reply.id)
    return reply


def _staff_name(article: Article) -> str:
    if article.unit_id is not None:
        return get_unit(article.unit_id).name[:COMMENT_NAME_MAX]
    return str(_l("Editorial office"))


# --- public pages -------------------------------------------------------------------------------------------


def site_stamp() -> datetime:
    """When anything shown on the site last changed: the validator of every public page."""
    stamp = db.session.scalar(select(func.max(Article.changed_at)))
    return stamp or datetime(2026, 1, 1, tzinfo=utcnow().tzinfo)


_PAGE_LOOKUP = (
    select(Article.id, Article.version, Article.state,
           select(func.max(Article.changed_at)).scalar_subquery().label("stamp"))
    .where(Article.slug == bindparam("slug"))
)


@dataclass(frozen=True)
class PageRef:
    """What the article page needs before it knows whether its cached copy is current."""

    article_id: int
    version: int
    live: bool
    stamp: datetime


def article_ref(slug: str) -> PageRef | None:
    """The article at ``slug`` (live or removed) with the site stamp, in one light query."""
    # A plain Core query on the session's connection: no ORM state to build on the site's busiest path.
    row = db.session.connection().execute(_PAGE_LOOKUP, {"slug": slug}).first()
    if row is None:
        return None
    stamp = row.stamp
    if isinstance(stamp, str):  # SQLite hands back the aggregate's raw text
        stamp = datetime.fromisoformat(stamp)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return PageRef(row.id, row.version, row.state == "published", stamp)


def get_article(article_id: int) -> Article | None:
    return db.session.get(Article, article_id)


def _live() -> Select[tuple[Article]]:
    return select(Article).where(Article.state == "published")


def latest_articles(page: int = 1, per_page: int = LIST_PAGE_SIZE, category_slug: str | None = None) -> tuple[list[Article], bool]:
    query = _live()
    if category_slug:
        query = query.where(Article.category_slug == category_slug)
    rows = list(db.session.scalars(query.order_by(Article.published_at.desc(), Article.id.desc())
                                   .offset((max(page, 1) - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def category_name(category_slug: str) -> str | None:
    return db.session.scalar(select(Article.category).where(Article.category_slug == category_slug,
                                                            Article.state == "published").limit(1))


def categories() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Article.category_slug, func.min(Article.category))
                              .where(Article.state == "published", Article.category_slug != "")
                              .group_by(Article.category_slug).order_by(func.count(Article.id).desc()).limit(8))
    return [(slug, name) for slug, name in rows]


def search_articles(query_text: str, page: int = 1, per_page: int = LIST_PAGE_SIZE) -> tuple[list[Article], bool]:
    words = fold(query_text).split()[:8]
    if not words:
        return [], False
    query = _live()
    for word in words:
        query = query.where(Article.search_text.contains(word, autoescape=True))
    rows = list(db.session.scalars(query.order_by(Article.published_at.desc(), Article.id.desc())
                                   .offset((max(page, 1) - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def related_articles(article: Article, limit: int = 4) -> list[Article]:
    """Other live articles of the same category first, then the newest ones."""
    chosen: list[Article] = []
    if article.category_slug:
        chosen = list(db.session.scalars(_live().where(Article.category_slug == article.category_slug,
                                                       Article.id != article.id)
                                         .order_by(Article.published_at.desc()).limit(limit)))
    if len(chosen) < limit:
        ids = [a.id for a in chosen] + [article.id]
        chosen += list(db.session.scalars(_live().where(Article.id.not_in(ids))
                                          .order_by(Article.published_at.desc()).limit(limit - len(chosen))))
    return chosen


def most_read(start: date, end: date, limit: int = 5) -> list[tuple[Article, int]]:
    """The live articles read most from ``start`` to ``end`` (days inclusive), with their page views."""
    total = func.sum(ArticleViewDay.views).label("total")
    rows = db.session.execute(
        select(Article, total).join(ArticleViewDay, ArticleViewDay.article_id == Article.id)
        .where(Article.state == "published", ArticleViewDay.day >= start, ArticleViewDay.day <= end)
        .group_by(Article.id).order_by(total.desc(), Article.published_at.desc()).limit(limit))
    return [(article, int(views)) for article, views in rows]


@dataclass(frozen=True)
class Section:
    """A group of the front page: a category (``slug`` set) or a locality (``slug`` empty)."""

    name: str
    slug: str
    articles: list[Article]


@dataclass(frozen=True)
class FrontPage:
    """What the front page shows: the lead story, the next ones beside it, the latest, the sections, most-read."""

    lead: Article | None
    beside: list[Article]
    latest: list[Article]
    more: bool
    categories: list[Section]
    localities: list[Section]
    most_read: list[tuple[Article, int]]


FRONT_BESIDE = 4
FRONT_SECTIONS = 4
FRONT_LOCALITIES = 4
SECTION_SIZE = 4
MOST_READ_DAYS = 30


def front_page(today: date) -> FrontPage:
    """The front page's stories; ``today`` (the organisation's date) ends the most-read window."""
    head = LIST_PAGE_SIZE  # lead, beside and latest fill one page of the list: its page 2 follows on
    newest = list(db.session.scalars(_live().order_by(Article.published_at.desc(), Article.id.desc())
                                     .limit(head + 1)))
    lead = next((a for a in newest[:head] if a.cover), newest[0] if newest else None)
    rest = [a for a in newest[:head] if a is not lead]
    shown = {a.id for a in newest[:head]}
    sections = []
    for slug, name in categories()[:FRONT_SECTIONS]:
        items = list(db.session.scalars(_live().where(Article.category_slug == slug, Article.id.not_in(shown))
                                        .order_by(Article.published_at.desc(), Article.id.desc()).limit(SECTION_SIZE)))
        if items:
            sections.append(Section(name, slug, items))
    places = db.session.execute(select(Article.locality).where(Article.state == "published", Article.locality != "")
                                .group_by(Article.locality).order_by(func.count(Article.id).desc(), Article.locality)
                                .limit(FRONT_LOCALITIES))
    localities = []
    for (place,) in places:
        items = list(db.session.scalars(_live().where(Article.locality == place)
                                        .order_by(Article.published_at.desc(), Article.id.desc()).limit(SECTION_SIZE)))
        localities.append(Section(place, "", items))
    start = date.fromordinal(today.toordinal() - MOST_READ_DAYS + 1)
    return FrontPage(lead, rest[:FRONT_BESIDE], rest[FRONT_BESIDE:], len(newest) > head, sections, localities,
                     most_read(start, today))


def latest_titles(limit: int = 5) -> list[Article]:
    return list(db.session.scalars(_live().order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)))


def site_name(settings: Settings) -> str:
    """The public site's name: the setting, else the root unit's name (read only: a public page writes nothing)."""
    if settings.site_name:
        return settings.site_name
    name = db.session.scalar(select(Unit.name).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1))
    return name or ROOT_UNIT_NAME


def feed_articles(limit: int = 30) -> list[Article]:
    return list(db.session.scalars(_live().order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)))


def sitemap_articles(limit: int = 50_000) -> list[Article]:
    return list(db.session.scalars(_live().order_by(Article.published_at.desc()).limit(limit)))


def page_comments(article: Article) -> tuple[list[tuple[ReaderComment, list[ReaderComment]]], int]:
    """The newest approved reader comments that fit the page's budget, oldest first, each with its staff answers,
    and how many older ones were left out (the article page must stay light on a mobile network)."""
    shown = shown_comments(article.id)
    answers: dict[int, list[ReaderComment]] = {}
    for c in shown:
        if c.parent_id is not None:
            answers.setdefault(c.parent_id, []).append(c)
    top = [c for c in shown if c.parent_id is None]
    chosen: list[tuple[ReaderComment, list[ReaderComment]]] = []
    budget = COMMENTS_BUDGET_BYTES
    for c in reversed(top):
        size = sum(len(x.message.encode()) + len(x.author_name.encode()) + 200 for x in [c, *answers.get(c.id, [])])
        if len(chosen) >= COMMENTS_SHOWN or size > budget:
            break
        budget -= size
        chosen.append((c, answers.get(c.id, [])))
    chosen.reverse()
    return chosen, len(top) - len(chosen)


# --- readers' comments ----------------------------------------------------------------------------------------


_salts: dict[str, str] = {}
_seen: OrderedDict[str, None] = OrderedDict()
_memory_lock = threading.Lock()
SEEN_IN_MEMORY = 100_000


def _day_salt(redis: Any, day: str) -> str:
    """Today's random salt: shared by every process through Redis, kept two days there, never written to disk."""
    salt = _salts.get(day)
    if salt is not None:
        return salt
    salt_key = f"website:salt:{day}"
    value = redis.get(salt_key)
    if value is None:
        redis.set(salt_key, secrets.token_hex(16), nx=True, ex=2 * 86400)
        value = redis.get(salt_key)
    salt = value.decode() if isinstance(value, bytes) else str(value)
    with _memory_lock:
        _salts.clear()  # only today's salt stays in memory
        _salts[day] = salt
    return salt


def reader_key(redis: Any, settings: Settings, address: str, user_agent: str = "") -> str:
    """A reader's anonymous key for today: a hash of the address under a random salt that lives only in Redis
    for the day, so no raw address is stored and yesterday's keys cannot be linked to today's."""
    day = utcnow().astimezone(settings.zone).date().isoformat()
    return hashlib.sha256(f"{_day_salt(redis, day)}|{address}|{user_agent}".encode()).hexdigest()[:32]


def allow_comment(redis: Any, key: str) -> bool:
    """At most ``COMMENT_LIMIT`` comments from one reader in ``COMMENT_WINDOW_SECONDS``."""
    counter = f"website:comments:{key}"
    count = redis.incr(counter)
    if count == 1:
        redis.expire(counter, COMMENT_WINDOW_SECONDS)
    return int(count) <= COMMENT_LIMIT


def submit_comment(article: Article, name: str, message: str, *, consent: bool, email: str = "",
                   consent_version: str = COMMENT_NOTICE_VERSION) -> ReaderComment:
    """A reader's comment, into the moderation queue; nothing shows before an editor approves it. The reader must
    have agreed to the notice shown with the form (``consent``); the consent, its notice's version and its time
    are kept with the comment. ``email`` is optional and never shown: it lets a reader's request find their
    comments."""
    if not article.is_live:
        raise NotFound(_l("This article has been removed."))
    problems: dict[str, Any] = {}
    name = clean_text(name or "")
    text = clean_text(message or "")
    address = clean_text(email or "").lower()
    if not name:
        problems["name"] = _l("Please give your name.")
    elif len(name) > COMMENT_NAME_MAX:
        problems["name"] = _l("At most %(n)s characters.", n=COMMENT_NAME_MAX)
    if address and (len(address) > COMMENT_EMAIL_MAX or not EMAIL_PATTERN.fullmatch(address)):
        problems["email"] = _l("This is not an e-mail address (or leave it empty).")
    if not text:
        problems["message"] = _l("Please write your comment.")
    elif len(text) > COMMENT_MAX:
        problems["message"] = _l("At most %(n)s characters (this has %(have)s).", n=COMMENT_MAX, have=len(text))
    if consent is not True:
        problems["consent"] = _l("Please tick the box to agree, or your comment cannot be kept.")
    if problems:
        raise ValidationFailed(problems)
    comment = ReaderComment(article_id=article.id, author_name=name, author_email=address or None, message=text,
                            state="pending", consent_at=utcnow(), consent_version=consent_version)
    db.session.add(comment)
    db.session.flush()
    return comment


def anonymise_comment(comment: ReaderComment, name: str, now: datetime | None = None) -> bool:
    """Remove a reader comment's identity and text for good; the row stays (figures do not change) but is shown
    nowhere any more. ``name`` replaces the author's. False when it was anonymised already."""
    if comment.anonymised_at is not None or comment.is_staff:
        return False
    comment.author_name = name[:COMMENT_NAME_MAX]
    comment.author_email = None
    comment.message = ""
    comment.anonymised_at = now or utcnow()
    _touch(comment.article)
    return True


def require_moderator(user: User, article: Article) -> None:
    unit = get_unit(article.unit_id) if article.unit_id is not None else None
    if unit is None:
        if not user.has_role("editor"):
            raise PermissionDenied(_l("Your role does not allow this."))
        return
    if not can_see_unit(user, unit.path):
        raise NotFound(_l("No such comment."))
    if not has_role_in(user, "editor", unit):
        raise PermissionDenied(_l("Your role does not allow this."))


def _visible_comments(user: User) -> Select[tuple[ReaderComment]]:
    return (select(ReaderComment).join(Article, Article.id == ReaderComment.article_id)
            .where(or_(visible_filter(user, Article.unit_id), Article.unit_id.is_(None))))


def moderation_queue(user: User, state: str = "pending", limit: int = 100) -> list[ReaderComment]:
    """Reader comments in ``state`` on articles of the user's units, oldest pending first."""
    if not user.has_role("editor"):
        raise PermissionDenied(_l("Your role does not allow this."))
    query = _visible_comments(user).where(ReaderComment.state == state, ReaderComment.is_staff.is_(False),
                                          ReaderComment.anonymised_at.is_(None))
    order = ReaderComment.created_at.asc() if state == "pending" else ReaderComment.moderated_at.desc()
    return list(db.session.scalars(query.order_by(order, ReaderComment.id).limit(limit)))


def count_pending(user: User) -> int:
    query = _visible_comments(user).where(ReaderComment.state == "pending", ReaderComment.anonymised_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def get_comment(comment_id: int, user: User) -> ReaderComment:
    comment = db.session.get(ReaderComment, comment_id)
    if comment is None or comment.is_staff:
        raise NotFound(_l("No such comment."))
    require_moderator(user, comment.article)
    return comment


def moderate_comment(comment: ReaderComment, user: User, approve: bool) -> ReaderComment:
    """Approve (shown on the article at once) or reject (never shown) a reader comment."""
    require_moderator(user, comment.article)
    target = "approved" if approve else "rejected"
    if comment.state == target:
        return comment
    if not comment.article.is_live:
        raise Conflict(_l("The article has been removed from the website."))
    comment.state = target
    comment.moderated_at = utcnow()
    comment.moderated_by_id = user.id
    _touch(comment.article)
    db.session.flush()
    record(user, f"website.comment_{'approve' if approve else 'reject'}", comment.article, comment_id=comment.id)
    return comment


# --- page views -----------------------------------------------------------------------------------------------


def is_bot(user_agent: str) -> bool:
    return not user_agent or bool(BOT_PATTERN.search(user_agent))


def record_view(article_id: int, settings: Settings, redis: Any, address: str, user_agent: str) -> bool:
    """Count one page view of an article unless it comes from a robot or the same reader read it already today.
    Returns whether it was counted."""
    if is_bot(user_agent):
        return False
    day = utcnow().astimezone(settings.zone).date()
    member = f"{day.isoformat()}:{article_id}:{reader_key(redis, settings, address, user_agent)}"
    if member in _seen:  # this process already knows Redis holds it: no round trip for a reader's reloads
        return False
    seen = f"website:seen:{day.isoformat()}"
    added = redis.sadd(seen, member)
    with _memory_lock:
        _seen[member] = None
        while len(_seen) > SEEN_IN_MEMORY:
            _seen.popitem(last=False)
    if not added:
        return False
    redis.expire(seen, 86400 + 3600)
    add_views(article_id, day, 1)
    return True


def forget_seen_readers() -> None:
    """Drop the in-process memory of today's readers (tests start from an empty Redis)."""
    with _memory_lock:
        _seen.clear()
        _salts.clear()


def add_views(article_id: int, day: date, count: int) -> None:
    """Add to an article's counter for ``day`` (an upsert, safe under concurrent readers)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(ArticleViewDay).values(article_id=article_id, day=day, views=count)
    statement = statement.on_conflict_do_update(index_elements=["article_id", "day"],
                                                set_={"views": ArticleViewDay.views + count})
    db.session.execute(statement)


def views_between(article_id: int, start: date, end: date) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(ArticleViewDay.views), 0))
                                 .where(ArticleViewDay.article_id == article_id, ArticleViewDay.day >= start,
                                        ArticleViewDay.day <= end)) or 0)
