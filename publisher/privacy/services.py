"""Personal data (Law on Personal Data Protection No. 91/2025/QH15): one person's data found, exported and
erased on their request, and the retention periods applied.

What Loa keeps about people is listed in the README's data inventory. A person is found by the e-mail address or
the name they gave: readers' comments on the website (the name and optional e-mail of the form), comments read
from the platforms (their author's name), staff accounts (their e-mail or name) and failed sign-ins (the e-mail
typed). Erasing never breaks reports: figures stay, identities go. A comment keeps its row (so comment counts do
not change) without its author's name, e-mail or text; a staff account is deactivated and its name and e-mail
replaced, so the posts it wrote and the audit entries it made still point at a row. Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, delete, func, or_, select

from publisher import __version__
from publisher.accounts.models import ApiToken, User
from publisher.accounts.services import get_root_unit, has_role_in, update_user, visible_filter
from publisher.accounts.throttle import LoginFailure
from publisher.audit import AuditEntry, record
from publisher.channels.models import Channel
from publisher.db import db, utcnow
from publisher.engagement.models import InboxComment
from publisher.errors import Conflict, PermissionDenied, ValidationFailed
from publisher.settings import Settings
from publisher.website.models import Article, ReaderComment
from publisher.website.services import anonymise_comment

# Stored in place of what was erased. The organisation's data is written in Vietnamese (as feeds' messages are).
ERASED_READER = "Bạn đọc (đã xóa)"
ERASED_AUTHOR = "Người dùng (đã xóa)"
ERASED_TEXT = "[đã xóa]"
ERASED_ACCOUNT_NAME = "Tài khoản đã xóa #{id}"
ERASED_ACCOUNT_EMAIL = "erased-{id}@erased.invalid"
QUERY_MAX = 320
EXPORT_AUDIT_LIMIT = 10_000  # the newest audit entries a staff member made, in an export


def normalise_query(query: str) -> str:
    """An e-mail address (lower case) or a name (NFC, single spaces), as people and the forms wrote it."""
    text = " ".join(unicodedata.normalize("NFC", query or "").split())
    return text.lower() if "@" in text else text


def subject_digest(query: str) -> str:
    """What the audit log keeps of whom a request was about: a digest, never the e-mail or name itself (an
    erasure must not leave the identity in the log); the same request gives the same digest."""
    return hashlib.sha256(normalise_query(query).casefold().encode()).hexdigest()[:16]


def _require_admin(actor: User) -> None:
    if not actor.has_role("admin"):
        raise PermissionDenied(_l("Only administrators handle personal data requests."))


def _is_top_admin(actor: User) -> bool:
    return actor.has_role("admin") and actor.unit.parent_id is None


@dataclass
class PersonData:
    """Everything found about one person within the units the administrator looks after."""

    query: str
    reader_comments: list[ReaderComment] = field(default_factory=list)
    platform_comments: list[InboxComment] = field(default_factory=list)
    accounts: list[User] = field(default_factory=list)
    sign_in_failures: list[LoginFailure] = field(default_factory=list)

    @property
    def is_email(self) -> bool:
        return "@" in self.query

    @property
    def empty(self) -> bool:
        return not (self.reader_comments or self.platform_comments or self.accounts or self.sign_in_failures)

    def counts(self) -> dict[str, int]:
        return {"reader_comments": len(self.reader_comments), "platform_comments": len(self.platform_comments),
                "accounts": len(self.accounts), "sign_in_failures": len(self.sign_in_failures)}


def _same_text(column: Any, value: str) -> Any:
    """Equal, ignoring case (PostgreSQL folds every letter; SQLite only ASCII ones, so the exact form also
    matches)."""
    return or_(column == value, func.lower(column) == value.lower())


def find_person(actor: User, query: str) -> PersonData:
    """One person's data by the e-mail address or the exact name they gave (admins; their units and below)."""
    _require_admin(actor)
    wanted = normalise_query(query)
    if not wanted:
        raise ValidationFailed({"q": _l("Give the e-mail address or the name the person used.")})
    if len(wanted) > QUERY_MAX:
        raise ValidationFailed({"q": _l("At most %(n)s characters.", n=QUERY_MAX)})
    found = PersonData(query=wanted)
    article_scope = or_(visible_filter(actor, Article.unit_id), Article.unit_id.is_(None))
    comment_match = (ReaderComment.author_email == wanted) if found.is_email else _same_text(
        ReaderComment.author_name, wanted)
    found.reader_comments = list(db.session.scalars(
        select(ReaderComment).join(Article, Article.id == ReaderComment.article_id)
        .where(comment_match, ReaderComment.is_staff.is_(False), ReaderComment.anonymised_at.is_(None),
               article_scope)
        .order_by(ReaderComment.created_at, ReaderComment.id)))
    if not found.is_email:
        found.platform_comments = list(db.session.scalars(
            select(InboxComment).where(_same_text(InboxComment.author_name, wanted),
                                       InboxComment.staff_user_id.is_(None),
                                       visible_filter(actor, InboxComment.unit_id))
            .order_by(InboxComment.created_at, InboxComment.id)))
    account_match = (User.email == wanted) if found.is_email else _same_text(User.name, wanted)
    candidates = db.session.scalars(select(User).where(account_match).order_by(User.id))
    found.accounts = [u for u in candidates if has_role_in(actor, "admin", u.unit)]
    emails = {wanted} if found.is_email else set()
    emails |= {u.email for u in found.accounts}
    if emails and (_is_top_admin(actor) or found.accounts):
        found.sign_in_failures = list(db.session.scalars(
            select(LoginFailure).where(LoginFailure.email.in_(sorted(emails))).order_by(LoginFailure.at)))
    return found


# --- export ------------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _account_export(user: User) -> dict[str, Any]:
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    actions = db.session.scalars(select(AuditEntry).where(AuditEntry.user_id == user.id)
                                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(EXPORT_AUDIT_LIMIT))
    return {
        "id": user.id, "email": user.email, "name": user.name, "role": user.role,
        "unit": {"id": user.unit_id, "name": user.unit.name}, "active": user.active, "locale": user.locale,
        "created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at),
        "api_tokens": [{"prefix": t.prefix, "name": t.name, "created_at": _iso(t.created_at),
                        "last_used_at": _iso(t.last_used_at), "revoked_at": _iso(t.revoked_at)} for t in tokens],
        "actions": [{"at": _iso(e.at), "action": e.action, "object_type": e.object_type, "object_id": e.object_id}
                    for e in actions],
    }


def export_person(actor: User, query: str) -> dict[str, Any]:
    """One person's data as a JSON-ready document (what a request to see one's data answers); audited."""
    found = find_person(actor, query)
    document = {
        "generated_at": utcnow().isoformat(), "generated_by": f"Loa {__version__}", "query": found.query,
        "reader_comments": [{
            "id": c.id, "article": {"id": c.article_id, "title": c.article.title, "slug": c.article.slug},
            "author_name": c.author_name, "author_email": c.author_email, "message": c.message, "state": c.state,
            "created_at": _iso(c.created_at), "consent_at": _iso(c.consent_at),
            "consent_version": c.consent_version} for c in found.reader_comments],
        "platform_comments": [{
            "id": c.id, "channel_id": c.channel_id, "author_name": c.author_name, "message": c.message,
            "created_at": _iso(c.created_at)} for c in found.platform_comments],
        "staff_accounts": [_account_export(u) for u in found.accounts],
        "sign_in_failures": [{"email": f.email, "ip": f.ip, "at": _iso(f.at)} for f in found.sign_in_failures],
    }
    record(actor, "privacy.export", actor.unit, subject=subject_digest(found.query), **found.counts())
    return document


def export_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


# --- erasure -----------------------------------------------------------------------------------------------


@dataclass
class ErasureResult:
    reader_comments: int = 0
    platform_comments: int = 0
    accounts: int = 0
    sign_in_failures: int = 0
    audit_entries_scrubbed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _identity_pattern(identities: list[str]) -> re.Pattern[str]:
    """E-mail addresses and names of two words or more wherever they stand as whole words; a one-word name only as
    a whole value (a first name alone also appears in ordinary words)."""
    parts = []
    for identity in sorted(identities, key=len, reverse=True):
        escaped = re.escape(identity)
        parts.append(rf"(?<!\w){escaped}(?!\w)" if ("@" in identity or " " in identity) else rf"^{escaped}$")
    return re.compile("|".join(parts), re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED_TEXT, value)
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, pattern) for k, v in value.items()}
    return value


def _scrub_audit(identities: list[str]) -> int:
    """Replace the erased identities inside audit details (e.g. "user.create" keeps the e-mail it created)."""
    identities = [i for i in identities if len(i) >= 3]
    if not identities:
        return 0
    text = cast(AuditEntry.details, Text)
    candidates = []
    for identity in identities:
        candidates.append(text.ilike(f"%{identity}%"))
        escaped = json.dumps(identity)[1:-1]  # JSON on SQLite stores non-ASCII letters as \uXXXX
        if escaped != identity:
            candidates.append(text.ilike(f"%{escaped}%"))
    pattern = _identity_pattern(identities)
    scrubbed = 0
    for entry in db.session.scalars(select(AuditEntry).where(or_(*candidates))):
        details = _scrub(entry.details or {}, pattern)
        if details != entry.details:
            entry.details = details
            scrubbed += 1
    return scrubbed


def erase_person(actor: User, query: str, reference: str = "") -> ErasureResult:
    """Erase one person's data on their request: comments anonymised, accounts deactivated and their name and
    e-mail replaced, failed sign-ins deleted, the identity taken out of audit details; one audit entry (with a
    digest of whom, never the identity) records it. ``reference`` is the request's own number, if any."""
    found = find_person(actor, query)
    if any(u.id == actor.id for u in found.accounts):
        raise Conflict(_l("You cannot erase your own account; another administrator must do it."))
    now = utcnow()
    result = ErasureResult()
    identities = {found.query}
    website_ids: list[str] = []
    for comment in found.reader_comments:
        identities.add(comment.author_name)
        if comment.author_email:
            identities.add(comment.author_email)
        website_ids.append(str(comment.id))
        result.reader_comments += anonymise_comment(comment, ERASED_READER, now)
    platform = list(found.platform_comments)
    if website_ids:  # the copies of the website's comments in the comment inbox
        platform += db.session.scalars(
            select(InboxComment).join(Channel, Channel.id == InboxComment.channel_id)
            .where(Channel.kind == "website", InboxComment.remote_id.in_(website_ids)))
    for inbox in {c.id: c for c in platform}.values():
        inbox.author_name = ERASED_AUTHOR
        inbox.message = ERASED_TEXT
        result.platform_comments += 1
    emails = {f.email for f in found.sign_in_failures}
    for user in found.accounts:
        identities.update(x for x in (user.email, user.name) if x)
        emails.add(user.email)
        if user.active:
            update_user(user, actor, active=False)  # ends sessions, revokes API tokens
        user.name = ERASED_ACCOUNT_NAME.format(id=user.id)
        user.email = ERASED_ACCOUNT_EMAIL.format(id=user.id)
        user.password_hash = None
        result.accounts += 1
    if emails:
        result.sign_in_failures = db.session.execute(
            delete(LoginFailure).where(LoginFailure.email.in_(sorted(emails)))).rowcount or 0
    db.session.flush()
    result.audit_entries_scrubbed = _scrub_audit(sorted(identities))
    record(actor, "privacy.erase", actor.unit, subject=subject_digest(found.query), reference=reference[:100],
           **result.as_dict())
    db.session.flush()
    return result


# --- retention ---------------------------------------------------------------------------------------------


@dataclass
class RetentionResult:
    reader_comments: int = 0
    platform_comments: int = 0
    sign_in_failures: int = 0
    audit_entries: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    @property
    def anything(self) -> bool:
        return any(self.as_dict().values())


def apply_retention(settings: Settings, now: datetime | None = None, batch: int = 1000) -> RetentionResult:
    """Apply the retention periods: readers' and platform comments older than ``retention_comments_days`` lose
    their author and text (their rows, hence the figures, stay); failed sign-ins older than
    ``retention_signin_days`` and audit entries older than ``retention_audit_days`` are deleted. Safe to run again
    at any time; ``batch`` bounds each step's rows per call, so a first run over years of data stays short (the
    next run goes on)."""
    now = now or utcnow()
    result = RetentionResult()
    comments_before = now - timedelta(days=settings.retention_comments_days)
    old_comments = db.session.scalars(
        select(ReaderComment).where(ReaderComment.is_staff.is_(False), ReaderComment.anonymised_at.is_(None),
                                    ReaderComment.created_at < comments_before)
        .order_by(ReaderComment.id).limit(batch))
    for comment in old_comments:
        result.reader_comments += anonymise_comment(comment, ERASED_READER, now)
    old_inbox = db.session.scalars(
        select(InboxComment).where(InboxComment.staff_user_id.is_(None), InboxComment.created_at < comments_before,
                                   InboxComment.author_name != ERASED_AUTHOR)
        .order_by(InboxComment.id).limit(batch))
    for inbox in old_inbox:
        inbox.author_name = ERASED_AUTHOR
        inbox.message = ERASED_TEXT
        result.platform_comments += 1
    result.sign_in_failures = db.session.execute(delete(LoginFailure).where(
        LoginFailure.at < now - timedelta(days=settings.retention_signin_days))).rowcount or 0
    audit_before = now - timedelta(days=settings.retention_audit_days)
    old_ids = list(db.session.scalars(select(AuditEntry.id).where(AuditEntry.at < audit_before)
                                      .order_by(AuditEntry.id).limit(batch * 10)))
    if old_ids:
        result.audit_entries = db.session.execute(
            delete(AuditEntry).where(AuditEntry.id.in_(old_ids))).rowcount or 0
    db.session.flush()
    if result.anything:
        record(None, "privacy.retention", get_root_unit(), **result.as_dict())
        db.session.flush()
    return result


def retention_periods(settings: Settings) -> dict[str, int]:
    return {"comments": settings.retention_comments_days, "sign_in": settings.retention_signin_days,
            "audit": settings.retention_audit_days}


__all__ = ["PersonData", "ErasureResult", "RetentionResult", "find_person", "export_person", "export_json",
           "erase_person", "apply_retention", "retention_periods", "subject_digest", "normalise_query"]
