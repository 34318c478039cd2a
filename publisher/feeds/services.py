"""News sources and their items: managing sources, reading fetched feeds into deduplicated items, and turning an
item into a draft post that keeps its attribution. Functions flush, never commit (jobs, the CLI and requests do)."""

from __future__ import annotations

import hashlib
import html
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import nh3
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import func, select

from publisher.accounts.models import User
from publisher.accounts.services import can_see_unit, get_unit, has_role_in, require_role, visible_filter
from publisher.audit import record
from publisher.content.models import Post
from publisher.content.sanitize import clean_html
from publisher.content.services import create_post
from publisher.db import db, utcnow
from publisher.errors import DomainError, NotFound, ValidationFailed
from publisher.feeds.encodings import declares_encoding, detect
from publisher.feeds.fetch import FetchError, FetchResponse, fetch_feed
from publisher.feeds.models import Item, Source

log = logging.getLogger(__name__)

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60
DEFAULT_INTERVAL_MINUTES = 60
SUMMARY_MAX = 20_000
POST_SUMMARY_MAX = 1000
SOURCE_FIELDS = ("url", "name", "fetch_interval_minutes", "auto_draft", "allow_private_address", "active")
# The organisation's language: messages stored on a source (last_error) are written in it.
STORED_LOCALE = "vi"
# The attribution line is part of the post's content, which is written in Vietnamese.
ATTRIBUTION_LABEL = "Nguồn"


# --- messages ---------------------------------------------------------------------------------------------

MESSAGES: dict[str, Any] = {
    "unresolvable": lambda p: _("The host name %(host)s could not be found.", host=p.get("host", "")),
    "private_address": lambda p: _(
        "The address of %(host)s is a private or local network address (%(address)s); it is not fetched unless an "
        "administrator allows private addresses for this source.", host=p.get("host", ""),
        address=p.get("address", "")),
    "bad_scheme": lambda p: _("Only http:// and https:// addresses can be fetched."),
    "bad_url": lambda p: _("The address is not a valid web address."),
    "timeout": lambda p: _("The server did not answer in time."),
    "tls": lambda p: _("The secure connection failed (certificate or TLS problem)."),
    "unreachable": lambda p: _("The server could not be reached."),
    "http_failed": lambda p: _("The request to the server failed."),
    "too_large": lambda p: _("The answer is larger than %(limit_mb)s MB; it was cut off and not read.",
                             limit_mb=p.get("limit_mb", "")),
    "too_many_redirects": lambda p: _("The address redirects too many times (more than %(limit)s).",
                                      limit=p.get("limit", "")),
    "redirect_loop": lambda p: _("The address redirects in a loop."),
    "http_status": lambda p: _("The server answered HTTP %(status)s %(reason)s.", status=p.get("status", ""),
                               reason=p.get("reason", "")),
    "not_a_feed_html": lambda p: _("The address gave a web page (HTML), not an RSS or Atom feed."),
    "not_a_feed": lambda p: _("The answer is not an RSS or Atom feed (%(problem)s).", problem=p.get("problem", "")),
    "malformed": lambda p: _("The feed is malformed (%(problem)s); what could be read was kept.",
                             problem=p.get("problem", "")),
    "script_removed": lambda p: _("The feed contained scripts; they were removed and the items kept without them."),
    "encoding_guessed": lambda p: _(
        "The feed does not say which character encoding it uses; it was read as %(encoding)s, which may be wrong. "
        "Check the items' text, or ask the site to declare its encoding.", encoding=p.get("encoding", "")),
    "auto_draft_failed": lambda p: _("Some new items could not be made into drafts automatically: %(problem)s",
                                     problem=p.get("problem", "")),
    "auto_draft_no_author": lambda p: _(
        "New items were not made into drafts automatically: the administrator who added this source can no longer "
        "write posts in its unit."),
    "internal": lambda p: _("An unexpected error stopped this fetch; it has been logged."),
}


def message_for(code: str, **params: Any) -> str:
    """The stored text of a problem, in the organisation's language."""
    with force_locale(STORED_LOCALE):
        return str(MESSAGES.get(code, MESSAGES["internal"])(params))


# --- sources ----------------------------------------------------------------------------------------------


def _clean_source(data: dict[str, Any], creating: bool) -> dict[str, Any]:
    problems: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}

    def problem(key: str, message: Any) -> None:
        problems.setdefault(key, []).append(message)

    for name in sorted(set(data) - set(SOURCE_FIELDS)):
        problem(name, _l("Unknown field."))
    if "url" in data or creating:
        url = data.get("url")
        if not isinstance(url, str) or not url.strip():
            problem("url", _l("The feed's address is required."))
        else:
            url = url.strip()
            if not re.match(r"^https?://[^\s/?#]+", url, re.IGNORECASE):
                problem("url", _l("Use an http:// or https:// address."))
            elif len(url) > 2000:
                problem("url", _l("At most %(n)s characters.", n=2000))
            else:
                out["url"] = url
    if "name" in data or creating:
        name = data.get("name")
        text = clean_plain(name) if isinstance(name, str) else ""
        if not text:
            problem("name", _l("A name is required."))
        elif len(text) > 200:
            problem("name", _l("At most %(n)s characters.", n=200))
        else:
            out["name"] = text
    if "fetch_interval_minutes" in data:
        minutes = data["fetch_interval_minutes"]
        if minutes is None:
            out["fetch_interval_minutes"] = DEFAULT_INTERVAL_MINUTES
        elif not isinstance(minutes, int) or isinstance(minutes, bool):
            problem("fetch_interval_minutes", _l("Wrong type of value."))
        elif not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
            problem("fetch_interval_minutes", _l("Between %(low)s and %(high)s minutes.", low=MIN_INTERVAL_MINUTES,
                                                 high=MAX_INTERVAL_MINUTES))
        else:
            out["fetch_interval_minutes"] = minutes
    for name in ("auto_draft", "allow_private_address", "active"):
        if name in data:
            if not isinstance(data[name], bool):
                problem(name, _l("Expected true or false."))
            else:
                out[name] = data[name]
    if problems:
        raise ValidationFailed(problems)
    return out


def create_source(user: User, data: dict[str, Any], unit_id: int | None = None) -> Source:
    """A new source followed by the user's unit (or ``unit_id``, a unit the user is an admin in)."""
    unit = get_unit(unit_id) if unit_id is not None else user.unit
    require_role(user, "admin", unit)
    fields = _clean_source(data, creating=True)
    defaults = {"active": True, "auto_draft": False, "allow_private_address": False,
                "fetch_interval_minutes": DEFAULT_INTERVAL_MINUTES}
    source = Source(unit_id=unit.id, unit=unit, created_by_id=user.id, created_by=user, last_error="",
                    last_new_count=0, **{**defaults, **fields})
    db.session.add(source)
    db.session.flush()
    record(user, "source.create", source, url=source.url, name=source.name)
    return source


def update_source(source: Source, user: User, data: dict[str, Any]) -> Source:
    require_role(user, "admin", source.unit)
    fields = _clean_source(data, creating=False)
    changes = {k: [getattr(source, k), v] for k, v in fields.items() if getattr(source, k) != v}
    if "url" in changes:  # another feed: forget the old one's validators
        source.etag = None
        source.last_modified = None
    for name, value in fields.items():
        setattr(source, name, value)
    source.updated_at = utcnow()
    if changes:
        record(user, "source.update", source, **changes)
    return source


def get_source(source_id: int, user: User) -> Source:
    """The source if the user may see it (its unit or above); NotFound otherwise."""
    source = db.session.get(Source, source_id)
    if source is None or not can_see_unit(user, source.unit.path):
        raise NotFound(_l("No such news source."))
    return source


def list_sources(user: User) -> list[Source]:
    return list(db.session.scalars(select(Source).where(visible_filter(user, Source.unit_id))
                                   .order_by(Source.name, Source.id)))


def active_sources() -> list[Source]:
    return list(db.session.scalars(select(Source).where(Source.active.is_(True)).order_by(Source.id)))


def due_at(source: Source) -> datetime:
    """When the source should next be fetched."""
    if source.last_fetch_at is None:
        return source.created_at
    return source.last_fetch_at + timedelta(minutes=source.fetch_interval_minutes)


def due_sources(now: datetime | None = None) -> list[Source]:
    now = now or utcnow()
    return [s for s in active_sources() if due_at(s) <= now]


# --- items ------------------------------------------------------------------------------------------------


def get_item(item_id: int, user: User) -> Item:
    item = db.session.get(Item, item_id)
    if item is None or not can_see_unit(user, item.source.unit.path):
        raise NotFound(_l("No such item."))
    return item


def _newest_first(query):  # type: ignore[no-untyped-def]
    return query.order_by(func.coalesce(Item.published_at, Item.fetched_at).desc(), Item.id.desc())


def list_items(source: Source, user: User, limit: int = 200) -> list[Item]:
    """A source's items, newest first (editors and up)."""
    require_role(user, "editor", source.unit)
    return list(db.session.scalars(_newest_first(select(Item).where(Item.source_id == source.id)).limit(limit)))


def inbox_items(user: User, *, source_id: int | None = None, since: datetime | None = None,
                until: datetime | None = None, undrafted: bool = False, limit: int = 100,
                offset: int = 0) -> tuple[list[Item], int]:
    """Items of every source the user sees, newest first, with the inbox's filters; and how many match."""
    query = select(Item).join(Source, Item.source_id == Source.id).where(visible_filter(user, Source.unit_id))
    if source_id is not None:
        query = query.where(Item.source_id == source_id)
    when = func.coalesce(Item.published_at, Item.fetched_at)
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when < until)
    if undrafted:
        query = query.where(Item.draft_post_id.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(db.session.scalars(_newest_first(query).limit(limit).offset(offset))), total


# --- reading a feed ---------------------------------------------------------------------------------------


def clean_plain(value: str | None) -> str:
    """Plain text from HTML: tags (and script contents) dropped, entities decoded (once), NFC, whitespace
    collapsed."""
    text = html.unescape(nh3.clean(value or "", tags=set()))
    return " ".join(unicodedata.normalize("NFC", text).split())


def _literal(value: str | None) -> str:
    """Plain text as it is: NFC, whitespace collapsed, nothing decoded again."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!]")


def clean_title(detail: Any, value: str | None, guessed: bool) -> str:
    """A title as readers should see it, its entities decoded exactly once.

    Atom says whether a title is text or HTML; RSS does not, and feedparser then calls any title with an
    entity in it HTML, which would decode ``&amp;quot;`` (the text ``&quot;`` after XML) a second time. So a
    guessed title is HTML exactly when it has markup in it (tags dropped, scripts with their content); otherwise the
    XML parser's text is the title."""
    if guessed:
        is_html = _MARKUP.search(value or "") is not None
    else:
        is_html = str((detail or {}).get("type") or "text/plain") in ("text/html", "application/xhtml+xml")
    return clean_plain(value) if is_html else _literal(value)


def _http_url(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value if re.match(r"^https?://", value, re.IGNORECASE) and len(value) <= 2000 else ""


_IMG_SRC = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def _image_url(entry: Any, summary_html: str) -> str:
    candidates: list[Any] = []
    for media in entry.get("media_content", []) or []:
        if media.get("medium") == "image" or str(media.get("type", "")).startswith("image/") or (
                not media.get("type") and not media.get("medium")):
            candidates.append(media.get("url"))
    candidates += [m.get("url") for m in entry.get("media_thumbnail", []) or []]
    candidates += [e.get("href") for e in entry.get("enclosures", []) or []
                   if str(e.get("type", "")).startswith("image/")]
    candidates += [link.get("href") for link in entry.get("links", []) or []
                   if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/")]
    match = _IMG_SRC.search(summary_html or "")
    if match:
        candidates.append(html.unescape(match.group(1)))
    for candidate in candidates:
        url = _http_url(candidate)
        if url:
            return url
    return ""


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


@dataclass
class EntryData:
    guid: str | None
    link: str
    title: str
    summary: str
    published_at: datetime | None
    image_url: str

    @property
    def dedupe_key(self) -> str:
        """The item's identity: its guid, else its link, else its title and date."""
        if self.guid:
            identity = "guid:" + self.guid
        elif self.link:
            identity = "link:" + self.link
        else:
            identity = "title:" + self.title + "|" + (self.published_at.isoformat() if self.published_at else "")
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()


@dataclass
class ParsedFeed:
    entries: list[EntryData]
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    title: str = ""


class FeedProblem(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


_SCRIPT = re.compile(rb"<\s*script\b|&lt;\s*script\b|&#0*60;\s*script\b", re.IGNORECASE)


def parse_feed(response: FetchResponse) -> ParsedFeed:
    """Read a fetched body with feedparser, from a stream (never a URL or a string)."""
    headers = {"content-location": response.url}
    if response.content_type:
        headers["content-type"] = response.content_type
    body = response.body
    warnings: list[tuple[str, str]] = []
    if not declares_encoding(body, response.content_type):
        # feedparser would read it as windows-1252; tell the encoding ourselves and hand over UTF-8.
        detection = detect(body)
        body = detection.text.encode("utf-8")
        media_type = response.content_type.split(";", 1)[0].strip() or "application/xml"
        headers["content-type"] = f"{media_type}; charset=utf-8"
        if detection.encoding != "utf-8":
            log.info("feed %s declares no encoding; read as %s (%s)", response.url, detection.encoding,
                     "sure" if detection.confident else "unsure")
        if not detection.confident:
            warnings.append(("encoding_guessed", message_for("encoding_guessed", encoding=detection.encoding)))
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.get("version") and not parsed.entries:
        looks_html = "html" in response.content_type.lower() or re.search(
            rb"<\s*(!doctype\s+html|html)\b", response.body[:2048], re.IGNORECASE) is not None
        if looks_html:
            raise FeedProblem("not_a_feed_html", message_for("not_a_feed_html"))
        detail = _short(problem) if problem else _("no RSS or Atom elements")
        raise FeedProblem("not_a_feed", message_for("not_a_feed", problem=detail))
    guessed = not str(parsed.get("version", "")).startswith("atom")
    if problem is not None and not isinstance(problem, feedparser.CharacterEncodingOverride):
        warnings.append(("malformed", message_for("malformed", problem=_short(problem))))
    if _SCRIPT.search(response.body):
        warnings.append(("script_removed", message_for("script_removed")))
    entries: list[EntryData] = []
    for entry in parsed.entries:
        summary_source = entry.get("summary") or ""
        if not summary_source and entry.get("content"):
            summary_source = entry["content"][0].get("value", "")
        summary = unicodedata.normalize("NFC", clean_html(summary_source))[:SUMMARY_MAX]
        guid = entry.get("id") or entry.get("guid") or None
        entries.append(EntryData(
            guid=unicodedata.normalize("NFC", guid.strip())[:1000] if isinstance(guid, str) and guid.strip() else None,
            link=_http_url(entry.get("link")),
            title=clean_title(entry.get("title_detail"), entry.get("title"), guessed)[:500],
            summary=summary,
            published_at=_published(entry),
            image_url=_image_url(entry, summary_source),
        ))
    feed_title = clean_title(parsed.feed.get("title_detail"), parsed.feed.get("title"), guessed)
    return ParsedFeed(entries=entries, warnings=warnings, title=feed_title)


def _short(problem: Any) -> str:
    text = " ".join(str(problem).split()) or problem.__class__.__name__
    return text[:300]


def _is_known(source: Source, entry: EntryData) -> bool:
    if db.session.scalar(select(Item.id).where(Item.source_id == source.id, Item.dedupe_key == entry.dedupe_key)):
        return True
    if entry.guid and entry.link and entry.title:
        # A feed that changes its guids on every fetch still stores nothing twice.
        return db.session.scalar(select(Item.id).where(Item.source_id == source.id, Item.link == entry.link,
                                                       Item.title == entry.title).limit(1)) is not None
    return False


def store_items(source: Source, entries: list[EntryData]) -> list[Item]:
    """Add the entries not stored yet (by guid, then link, then title + date); return the new items."""
    new: list[Item] = []
    seen: set[str] = set()
    now = utcnow()
    for entry in entries:
        key = entry.dedupe_key
        if key in seen or _is_known(source, entry):
            continue
        seen.add(key)
        item = Item(source_id=source.id, source=source, dedupe_key=key, guid=entry.guid, link=entry.link,
                    title=entry.title, summary=entry.summary, published_at=entry.published_at,
                    image_url=entry.image_url, fetched_at=now)
        db.session.add(item)
        new.append(item)
    db.session.flush()
    return new


# --- drafts -----------------------------------------------------------------------------------------------


def _plain_summary(summary_html: str) -> str:
    text = clean_plain(summary_html)
    return text if len(text) <= POST_SUMMARY_MAX else text[: POST_SUMMARY_MAX - 1].rstrip() + "…"


def attribution_html(item: Item) -> str:
    name = escape(item.source.name)
    if item.link:
        return f'<p>{ATTRIBUTION_LABEL}: <a href="{escape(item.link)}">{name}</a></p>'
    return f"<p>{ATTRIBUTION_LABEL}: {name}</p>"


def draft_from_item(item: Item, user: User) -> tuple[Post, bool]:
    """The draft post made from ``item``: made now (``True``) in the source's unit with the item's link and
    source as attribution, or the one made before (``False``) so that no item gives two drafts."""
    source = item.source
    require_role(user, "editor", source.unit)
    # Serialise concurrent "make a draft" of the same item (PostgreSQL; SQLite serialises writers anyway).
    db.session.execute(select(Item.id).where(Item.id == item.id).with_for_update())
    db.session.refresh(item)
    if item.draft_post_id is not None:
        existing = db.session.get(Post, item.draft_post_id)
        if existing is not None:
            return existing, False
    title = (item.title or clean_plain(item.link) or _("Untitled item"))[:300]
    body = (item.summary or "") + attribution_html(item)
    post = create_post(user, {"title": title, "summary": _plain_summary(item.summary), "body_html": body},
                       unit_id=source.unit_id)
    post.source_url = item.link or None
    post.source_name = source.name
    item.draft_post_id = post.id
    item.draft_post = post
    db.session.flush()
    record(user, "feed_item.draft", post, item_id=item.id, source_id=source.id, link=item.link)
    return post, True


def _auto_draft_author(source: Source) -> User | None:
    author = source.created_by
    if author is not None and author.active and has_role_in(author, "editor", source.unit):
        return author
    return None


def auto_draft_items(source: Source, items: list[Item]) -> list[tuple[str, str]]:
    """Drafts for new items of an auto-draft source (drafts only: nothing is published without approval)."""
    author = _auto_draft_author(source)
    if author is None:
        return [("auto_draft_no_author", message_for("auto_draft_no_author"))]
    failures: list[str] = []
    for item in items:
        try:
            with db.session.begin_nested():
                draft_from_item(item, author)
        except DomainError as exc:
            failures.append(f"{item.title[:60]}: {exc.message}")
    if failures:
        return [("auto_draft_failed", message_for("auto_draft_failed", problem="; ".join(failures)[:500]))]
    return []


# --- one fetch --------------------------------------------------------------------------------------------


@dataclass
class FetchOutcome:
    source_id: int
    source_name: str
    status: str
    new_items: list[Item] = field(default_factory=list)
    error_code: str | None = None
    message: str = ""


def _finish(source: Source, status: str, code: str | None, message: str, new: list[Item]) -> FetchOutcome:
    now = utcnow()
    source.last_fetch_at = now
    source.last_fetch_status = status
    source.last_error_code = code
    source.last_error = message
    source.last_new_count = len(new)
    if status != "error":
        source.last_success_at = now
    db.session.flush()
    return FetchOutcome(source_id=source.id, source_name=source.name, status=status, new_items=new,
                        error_code=code, message=message)


def record_fetch_failure(source: Source, code: str, message: str) -> FetchOutcome:
    return _finish(source, "error", code, message, [])


def fetch_source_now(source: Source) -> FetchOutcome:
    """Fetch one source now, store its new items (and drafts, for an auto-draft source), and record how it went on
    the source. Problems with the feed never raise: they end up in ``last_fetch_status`` and ``last_error``."""
    try:
        response = fetch_feed(source.url, etag=source.etag, last_modified=source.last_modified,
                              allow_private=source.allow_private_address)
    except FetchError as exc:
        log.info("feed %s (%s) not fetched: %s", source.id, source.url, exc)
        return _finish(source, "error", exc.code, message_for(exc.code, **exc.params), [])
    if response.not_modified:
        return _finish(source, "not_modified", None, "", [])
    try:
        parsed = parse_feed(response)
    except FeedProblem as exc:
        return _finish(source, "error", exc.code, exc.message, [])
    # One fetch of a source at a time stores items (PostgreSQL row lock; SQLite serialises writers).
    db.session.execute(select(Source.id).where(Source.id == source.id).with_for_update())
    new = store_items(source, parsed.entries)
    warnings = list(parsed.warnings)
    if source.auto_draft and new:
        warnings += auto_draft_items(source, new)
    source.etag = response.etag[:500] if response.etag else None
    source.last_modified = response.last_modified[:100] if response.last_modified else None
    if warnings:
        return _finish(source, "warning", warnings[0][0], " ".join(m for _c, m in warnings), new)
    return _finish(source, "ok", None, "", new)
