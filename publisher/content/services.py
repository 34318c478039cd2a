"""Posts and campaigns: create, edit with optimistic locking, and the review workflow.

Every function flushes and writes the audit log; none commits. The caller (a request, a job, a CLI command)
commits once at its edge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from publisher.accounts.models import User
from publisher.accounts.services import can_see_unit, get_unit, has_role_in, require_role
from publisher.audit import record
from publisher.content.models import Campaign, MediaItem, Post, PostMedia, PostRevision, Variant
from publisher.content.sanitize import clean_html, clean_text, find_dangerous_markup
from publisher.content.slugs import MAX_SLUG_LENGTH, is_valid_slug, make_slug
from publisher.content.variants import BODY_HTML_MAX_BYTES, dangerous_markup_message, html_fields, normalise_variants
from publisher.db import db, is_id, utcnow
from publisher.errors import Conflict, FieldTooLarge, NotFound, ValidationFailed
from publisher.labels import post_state_in_sentence

TITLE_MAX = 300
SUMMARY_MAX = 1000
TEXT_FIELDS_MAX = {"byline": 200, "category": 100, "locality": 100}
TAGS_MAX = 50  # tags of one post (each is cut to 60 characters), hashtags of a campaign
CAMPAIGN_TEXT_MAX = 5000  # a campaign's description and goal
REASON_MAX = 2000  # why an approver sent a post back


def _oversized_bodies(data: dict[str, Any]) -> dict[str, list[Any]]:
    """``body_html`` (and a variant's HTML fields) over :data:`BODY_HTML_MAX_BYTES`, checked before anything else
    reads them: such a post is refused whole (413), so no revision ever keeps an over-limit body."""
    bodies = [("body_html", data.get("body_html"))]
    variants = data.get("variants")
    if isinstance(variants, dict):
        for kind, variant in variants.items():
            if isinstance(kind, str) and isinstance(variant, dict):
                bodies.extend((f"variants.{kind}.{name}", variant.get(name)) for name in html_fields(kind))
    problems: dict[str, list[Any]] = {}
    for name, body in bodies:
        if isinstance(body, str) and len(body) > BODY_HTML_MAX_BYTES // 4 and \
                len(body.encode("utf-8", "surrogatepass")) > BODY_HTML_MAX_BYTES:
            problems[name] = [_l("The text is larger than the %(mb)s MB allowed.", mb=BODY_HTML_MAX_BYTES // 2**20)]
    return problems
EDITABLE_FIELDS = ("title", "slug", "summary", "body_html", "byline", "category", "locality", "tags",
                   "campaign_id", "cover_media_id", "media_ids", "variants")


# Other areas widen who may read a post or campaign (the hierarchy: a kit sent down makes its campaign and original
# posts readable, read-only, by the receiving units): callables (user, post, campaign) -> bool, one of post and
# campaign given. The hierarchy registers its rule when it is imported (create_app imports it), so content does
# not import the tree.
VISIBILITY_HOOKS: list[Callable[[User, Post | None, Campaign | None], bool]] = []

# Other areas react to post changes (the scheduler: queued jobs go stale on edit, published copies are updated
# once the edit is approved): callables (event, post) with event "updated" or "approved", run before the flush ends.
POST_EVENT_HOOKS: list[Callable[[str, Post], None]] = []


def _post_event(event: str, post: Post) -> None:
    for hook in POST_EVENT_HOOKS:
        hook(event, post)


def state_label(state: str) -> str:
    """A post state as people read it inside a sentence, in their language (``publisher.labels``)."""
    return post_state_in_sentence(state)


class StaleEdit(Conflict):
    """A save based on an older version: refused, with the current post and the rejected changes kept."""

    code = "stale_version"

    def __init__(self, post: Post, submitted: dict[str, Any]):
        super().__init__(_l("Someone else saved this post meanwhile (now version %(v)s). Nothing was overwritten: "
                            "compare both versions and save again.", v=post.version))
        self.post = post
        self.submitted = submitted


# --- loading ---------------------------------------------------------------------------------------------


def get_post(post_id: int, user: User) -> Post:
    """The post if the user may see it; NotFound otherwise (out-of-scope objects do not leak)."""
    post = db.session.get(Post, post_id)
    if post is None or not (can_see_unit(user, post.unit.path) or _shared_from_above(user, post=post)):
        raise NotFound(_l("No such post."))
    return post


def get_campaign(campaign_id: int, user: User) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not (can_see_unit(user, campaign.unit.path) or _shared_from_above(user, campaign=campaign)):
        raise NotFound(_l("No such campaign."))
    return campaign


def _shared_from_above(user: User, *, post: Post | None = None, campaign: Campaign | None = None) -> bool:
    """Whether another area's rule (:data:`VISIBILITY_HOOKS`) lets the user read this post or campaign from outside
    their scope."""
    return any(hook(user, post, campaign) for hook in VISIBILITY_HOOKS)


def get_media(media_id: int, user: User) -> MediaItem:
    item = db.session.get(MediaItem, media_id)
    if item is None or not can_see_unit(user, get_unit(item.unit_id).path):
        raise NotFound(_l("No such media item."))
    return item


# --- posts -----------------------------------------------------------------------------------------------


def unique_slug(base: str, exclude_post_id: int | None = None) -> str:
    """``base`` cut to the slug length, or with ``-2``, ``-3``… added until no other post has it."""
    base = base[:MAX_SLUG_LENGTH].strip("-") or "bai-viet"
    candidate, n = base, 1
    while True:
        query = select(Post.id).where(Post.slug == candidate)
        if exclude_post_id is not None:
            query = query.where(Post.id != exclude_post_id)
        if db.session.scalar(query) is None:
            return candidate
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix


def _clean_fields(data: dict[str, Any], user: User, post: Post | None) -> dict[str, Any]:
    """Validate and normalise editable post fields; raise ValidationFailed naming every bad field."""
    problems: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}

    def problem(key: str, message: Any) -> None:
        problems.setdefault(key, []).append(message)

    oversized = _oversized_bodies(data)
    if oversized:
        raise FieldTooLarge(oversized, message=_l("The post is too large; nothing was saved."))
    unknown = set(data) - set(EDITABLE_FIELDS)
    for name in sorted(unknown):
        problem(name, _l("Unknown field."))

    if "title" in data or post is None:
        title = data.get("title")
        if not isinstance(title, str) or not clean_text(title):
            problem("title", _l("A title is required."))
        elif len(title.strip()) > TITLE_MAX:
            problem("title", _l("At most %(n)s characters (this has %(have)s).", n=TITLE_MAX, have=len(title.strip())))
        else:
            out["title"] = clean_text(title)
    if "summary" in data:
        summary = data["summary"] if data["summary"] is not None else ""
        if not isinstance(summary, str):
            problem("summary", _l("Wrong type of value."))
        elif len(summary) > SUMMARY_MAX:
            problem("summary", _l("At most %(n)s characters (this has %(have)s).", n=SUMMARY_MAX, have=len(summary)))
        else:
            out["summary"] = clean_text(summary)
    for name, limit in TEXT_FIELDS_MAX.items():
        if name in data:
            value = data[name] if data[name] is not None else ""
            if not isinstance(value, str):
                problem(name, _l("Wrong type of value."))
            elif len(value) > limit:
                problem(name, _l("At most %(n)s characters.", n=limit))
            else:
                out[name] = clean_text(value)
    if "body_html" in data:
        body = data["body_html"] if data["body_html"] is not None else ""
        if not isinstance(body, str):
            problem("body_html", _l("Wrong type of value."))
        else:
            dangerous = find_dangerous_markup(body)
            if dangerous:
                problem("body_html", dangerous_markup_message(dangerous))
            else:
                out["body_html"] = clean_html(body)
    if "slug" in data and data["slug"] not in (None, ""):
        slug = data["slug"]
        if not isinstance(slug, str) or not is_valid_slug(slug.strip()):
            problem("slug", _l("Use lower-case letters a–z, digits and hyphens only."))
        else:
            taken = db.session.scalar(
                select(Post.id).where(Post.slug == slug.strip(), Post.id != (post.id if post else -1))
            )
            if taken is not None:
                problem("slug", _l("This address is already used by another post."))
            else:
                out["slug"] = slug.strip()
    if "tags" in data:
        tags = data["tags"] if data["tags"] is not None else []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problem("tags", _l("Expected a list of texts."))
        elif len(tags) > TAGS_MAX:
            problem("tags", _l("At most %(n)s tags.", n=TAGS_MAX))
        else:
            seen: list[str] = []
            for tag in (clean_text(t) for t in tags):
                if tag and tag not in seen:
                    seen.append(tag[:60])
            out["tags"] = seen
    if "campaign_id" in data:
        cid = data["campaign_id"]
        if cid is None:
            out["campaign_id"] = None
        elif not is_id(cid):
            problem("campaign_id", _l("Wrong type of value."))
        else:
            campaign = db.session.get(Campaign, cid)
            if campaign is None or not (can_see_unit(user, campaign.unit.path)
                                        or _shared_from_above(user, campaign=campaign)):
                problem("campaign_id", _l("No such campaign."))
            else:
                out["campaign_id"] = cid
    media_fields = [("media_ids", data.get("media_ids"))] if "media_ids" in data else []
    if "cover_media_id" in data:
        media_fields.append(("cover_media_id", [data["cover_media_id"]] if data["cover_media_id"] is not None else []))
        if data["cover_media_id"] is None:
            out["cover_media_id"] = None
    for name, ids in media_fields:
        ids = ids if ids is not None else []
        if not isinstance(ids, list) or not all(is_id(i) for i in ids):
            problem(name, _l("Expected a list of media ids."))
            continue
        items = {m.id: m for m in db.session.scalars(select(MediaItem).where(MediaItem.id.in_(ids)))} if ids else {}
        missing = [i for i in ids if i not in items or not can_see_unit(user, get_unit(items[i].unit_id).path)]
        if missing:
            problem(name, _l("No such media item: %(ids)s.", ids=", ".join(map(str, missing))))
        elif name == "media_ids":
            out["media_ids"] = list(dict.fromkeys(ids))
        elif ids:
            if items[ids[0]].kind != "image":
                problem(name, _l("The cover must be an image."))
            else:
                out["cover_media_id"] = ids[0]
    if "variants" in data:
        variants, variant_problems = normalise_variants(data["variants"])
        for key, messages in variant_problems.items():
            for message in messages:
                problem(key, message)
        # A channel's choice of media keeps only media attached to the post (one removed meanwhile drops out).
        attached = set(out["media_ids"] if "media_ids" in out else
                       [link.media_id for link in post.media_links] if post is not None else [])
        for data_of_kind in variants.values():
            if data_of_kind and isinstance(data_of_kind.get("media_ids"), list):
                data_of_kind["media_ids"] = [i for i in data_of_kind["media_ids"] if i in attached]
        out["variants"] = variants
    if problems:
        raise ValidationFailed(problems)
    return out


def _apply(post: Post, fields: dict[str, Any]) -> None:
    for name in ("title", "summary", "body_html", "byline", "category", "locality", "tags", "campaign_id",
                 "cover_media_id", "slug"):
        if name in fields:
            setattr(post, name, fields[name])
    if "media_ids" in fields:
        post.media_links = [PostMedia(media_id=mid, position=i) for i, mid in enumerate(fields["media_ids"])]
        db.session.flush()
        for link in post.media_links:
            db.session.refresh(link)
    if "variants" in fields:
        by_kind = {v.channel_kind: v for v in post.variants}
        for kind, data in fields["variants"].items():
            if data is None:
                if kind in by_kind:
                    post.variants.remove(by_kind[kind])
            elif kind in by_kind:
                by_kind[kind].data = data
            else:
                post.variants.append(Variant(channel_kind=kind, data=data))


def snapshot(post: Post) -> dict[str, Any]:
    """The editable content of a post, as stored in a revision."""
    return {
        "title": post.title,
        "slug": post.slug,
        "summary": post.summary,
        "body_html": post.body_html,
        "byline": post.byline,
        "category": post.category,
        "locality": post.locality,
        "tags": list(post.tags or []),
        "campaign_id": post.campaign_id,
        "cover_media_id": post.cover_media_id,
        "media_ids": [link.media_id for link in post.media_links],
        "variants": {v.channel_kind: dict(v.data or {}) for v in post.variants},
    }


def save_revision(post: Post, user: User | None) -> None:
    """Keep the post as it stands now as the revision of its current version (its *History*)."""
    db.session.add(PostRevision(post_id=post.id, version=post.version, saved_by_id=user.id if user else None,
                                snapshot=snapshot(post)))


def create_post(user: User, data: dict[str, Any], unit_id: int | None = None) -> Post:
    """A new draft in the user's unit (or ``unit_id``, a unit the user is an editor in)."""
    unit = get_unit(unit_id) if unit_id is not None else user.unit
    require_role(user, "editor", unit)
    fields = _clean_fields(data, user, None)
    post = Post(unit_id=unit.id, unit=unit, author_id=user.id, author=user, state="draft", version=1,
                title=fields["title"], slug=fields.get("slug") or unique_slug(make_slug(fields["title"])),
                byline=fields.get("byline") or user.display_name, tags=[], summary="", body_html="")
    db.session.add(post)
    _apply(post, {k: v for k, v in fields.items() if k not in ("title", "slug", "byline")})
    db.session.flush()
    save_revision(post, user)
    record(user, "post.create", post, title=post.title)
    return post


def update_post(post: Post, user: User, data: dict[str, Any], version: Any) -> Post:
    """Apply an edit made on ``version``; a stale version raises StaleEdit and changes nothing."""
    require_role(user, "editor", post.unit)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed({"version": _l("The version you edited is required.")})
    fields = _clean_fields(data, user, post)
    if version != post.version:
        raise StaleEdit(post, data)
    _apply(post, fields)
    post.version += 1
    post.updated_at = utcnow()
    previous_state = post.state
    if post.state == "approved":
        post.state = "in_review"
        post.approved_at = None
        post.approved_by_id = None
        post.submitted_at = utcnow()
    db.session.flush()
    save_revision(post, user)
    record(user, "post.update", post, version=post.version, fields=sorted(fields), state=[previous_state, post.state])
    _post_event("updated", post)
    return post


def restore_revision(post: Post, user: User, revision_version: int, version: int) -> Post:
    revision = db.session.scalar(
        select(PostRevision).where(PostRevision.post_id == post.id, PostRevision.version == revision_version)
    )
    if revision is None:
        raise NotFound(_l("No such revision."))
    data = {k: v for k, v in revision.snapshot.items() if k in EDITABLE_FIELDS}
    # Variants removed since the revision are removed again.
    data["variants"] = {**{v.channel_kind: None for v in post.variants}, **data.get("variants", {})}
    if data.get("slug") == post.slug:
        data.pop("slug")
    return update_post(post, user, data, version)


def revisions(post: Post) -> list[PostRevision]:
    return list(db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)
                                   .order_by(PostRevision.version.desc())))


def detach_media(post: Post, user: User, media_id: int, version: Any) -> Post:
    """Take one medium off a post (an edit made on ``version``): from its attachments, its cover, every channel's
    choice and the figures of its text that show it."""
    data: dict[str, Any] = {"media_ids": [link.media_id for link in post.media_links if link.media_id != media_id]}
    figure = re.compile(rf'<figure data-media-id="{int(media_id)}">.*?</figure>', re.S)
    body = figure.sub("", post.body_html or "")
    if body != (post.body_html or ""):
        data["body_html"] = body
    if post.cover_media_id == media_id:
        data["cover_media_id"] = None
    variants = {v.channel_kind: dict(v.data or {}) for v in post.variants if isinstance((v.data or {}).get("media_ids"), list)}
    if variants:
        data["variants"] = variants  # their media_ids keep only what stays attached (see _clean_fields)
    return update_post(post, user, data, version)


def submit_post(post: Post, user: User) -> Post:
    require_role(user, "editor", post.unit)
    if post.state != "draft":
        raise Conflict(_l("Only a draft can be sent for review (this post is %(state)s).",
                          state=state_label(post.state)),
                       code="invalid_state")
    post.state = "in_review"
    post.submitted_at = utcnow()
    post.review_note = ""
    post.updated_at = utcnow()
    record(user, "post.submit", post, version=post.version)
    return post


def approve_post(post: Post, user: User) -> Post:
    require_role(user, "approver", post.unit)
    if post.state != "in_review":
        raise Conflict(_l("Only a post in review can be approved (this post is %(state)s).",
                          state=state_label(post.state)),
                       code="invalid_state")
    post.state = "approved"
    post.approved_at = utcnow()
    post.approved_by_id = user.id
    post.approved_by = user
    post.updated_at = utcnow()
    record(user, "post.approve", post, version=post.version)
    _post_event("approved", post)
    return post


def reject_post(post: Post, user: User, reason: str) -> Post:
    require_role(user, "approver", post.unit)
    reason = clean_text(reason or "")
    if not reason:
        raise ValidationFailed({"reason": _l("Tell the author why, so they can fix it.")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": _l("At most %(n)s characters.", n=REASON_MAX)})
    if post.state != "in_review":
        raise Conflict(_l("Only a post in review can be sent back (this post is %(state)s).",
                          state=state_label(post.state)),
                       code="invalid_state")
    post.state = "draft"
    post.review_note = reason[:2000]
    post.updated_at = utcnow()
    record(user, "post.reject", post, version=post.version, reason=post.review_note)
    return post


def can_edit(user: User, post: Post) -> bool:
    return has_role_in(user, "editor", post.unit)


# --- campaigns -------------------------------------------------------------------------------------------


def _parse_date(value: Any, key: str, problems: dict[str, list[Any]]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.setdefault(key, []).append(_l("Expected a date like 2026-05-01."))
    return None


def _clean_campaign(data: dict[str, Any], creating: bool) -> dict[str, Any]:
    problems: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    allowed = {"name", "description", "starts_on", "ends_on", "hashtags", "goal"}
    for name in sorted(set(data) - allowed):
        problems.setdefault(name, []).append(_l("Unknown field."))
    if "name" in data or creating:
        name = data.get("name")
        if not isinstance(name, str) or not clean_text(name):
            problems.setdefault("name", []).append(_l("A name is required."))
        elif len(name) > 200:
            problems.setdefault("name", []).append(_l("At most %(n)s characters.", n=200))
        else:
            out["name"] = clean_text(name)
    for name in ("description", "goal"):
        if name in data:
            value = data[name] if data[name] is not None else ""
            if not isinstance(value, str):
                problems.setdefault(name, []).append(_l("Wrong type of value."))
            elif len(value) > CAMPAIGN_TEXT_MAX:  # refused, not cut: nothing the user wrote is lost
                problems.setdefault(name, []).append(_l("At most %(n)s characters.", n=CAMPAIGN_TEXT_MAX))
            else:
                out[name] = clean_text(value)
    for name in ("starts_on", "ends_on"):
        if name in data:
            out[name] = _parse_date(data[name], name, problems)
    if out.get("starts_on") and out.get("ends_on") and out["ends_on"] < out["starts_on"]:
        problems.setdefault("ends_on", []).append(_l("The end comes before the start."))
    if "hashtags" in data:
        tags = data["hashtags"] if data["hashtags"] is not None else []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.setdefault("hashtags", []).append(_l("Expected a list of texts."))
        elif len(tags) > TAGS_MAX or any(len(t) > 100 for t in tags):
            problems.setdefault("hashtags", []).append(
                _l("At most %(n)s hashtags of at most %(chars)s characters each.", n=TAGS_MAX, chars=100))
        else:
            cleaned: list[str] = []
            for tag in tags:
                tag = clean_text(tag).lstrip("#").strip()
                if not tag:
                    continue
                if any(ch.isspace() for ch in tag):
                    problems.setdefault("hashtags", []).append(_l("A hashtag has no spaces: %(tag)s", tag=tag))
                elif tag not in cleaned:
                    cleaned.append(tag[:100])
            out["hashtags"] = cleaned
    if problems:
        raise ValidationFailed(problems)
    return out


def create_campaign(user: User, data: dict[str, Any], unit_id: int | None = None) -> Campaign:
    unit = get_unit(unit_id) if unit_id is not None else user.unit
    require_role(user, "editor", unit)
    fields = _clean_campaign(data, creating=True)
    campaign = Campaign(unit_id=unit.id, unit=unit, created_by_id=user.id,
                        **{"hashtags": [], "description": "", "goal": "", **fields})
    db.session.add(campaign)
    db.session.flush()
    record(user, "campaign.create", campaign, name=campaign.name)
    return campaign


def update_campaign(campaign: Campaign, user: User, data: dict[str, Any]) -> Campaign:
    require_role(user, "editor", campaign.unit)
    fields = _clean_campaign(data, creating=False)
    merged_start = fields.get("starts_on", campaign.starts_on)
    merged_end = fields.get("ends_on", campaign.ends_on)
    if merged_start and merged_end and merged_end < merged_start:
        raise ValidationFailed({"ends_on": _l("The end comes before the start.")})
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.updated_at = utcnow()
    record(user, "campaign.update", campaign, fields=sorted(fields))
    return campaign
