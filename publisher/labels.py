"""Codes as people read them: one mapping per code, used by the pages, the exports and the domain's messages.

Post, delivery, channel and kit states, roles, channel kinds, audit actions, the fields and objects they name,
attempt actions and outcomes, and plain values (booleans, empty values, times). A code without a label here is
shown as a generic phrase, never as the bare code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import LazyString, format_datetime, format_decimal
from flask_babel import lazy_gettext as _l

POST_STATES: Mapping[str, LazyString] = {
    "draft": _l("Draft"), "in_review": _l("In review"), "approved": _l("Approved")}
# A post state inside a sentence ("this post is in review").
POST_STATES_IN_SENTENCE: Mapping[str, LazyString] = {
    "draft": _l("a draft"), "in_review": _l("in review"), "approved": _l("approved")}
DELIVERY_STATES: Mapping[str, LazyString] = {
    "scheduled": _l("Scheduled"), "publishing": _l("Publishing"), "published": _l("Published"),
    "failed": _l("Failed"), "paused": _l("Paused (channel needs reconnecting)"),
    "unconfirmed": _l("Unconfirmed (a person must decide)"), "cancelled": _l("Cancelled"),
    "unpublished": _l("Unpublished"), "held": _l("Paused by a person"),
}
# A delivery state inside a sentence ("a scheduled delivery cannot be …", "this one is failed").
DELIVERY_STATES_IN_SENTENCE: Mapping[str, LazyString] = {
    "scheduled": _l("scheduled"), "publishing": _l("publishing"), "published": _l("published"),
    "failed": _l("failed"), "paused": _l("paused"), "unconfirmed": _l("unconfirmed"), "cancelled": _l("cancelled"),
    "unpublished": _l("unpublished"), "held": _l("paused by a person"),
}
CHANNEL_STATES: Mapping[str, LazyString] = {
    "connected": _l("connected"), "needs_reconnect": _l("needs reconnecting"), "disconnected": _l("disconnected")}
ROLES: Mapping[str, LazyString] = {
    "viewer": _l("Viewer"), "editor": _l("Editor"), "approver": _l("Approver"), "admin": _l("Administrator")}
PRIVACY: Mapping[str, LazyString] = {"public": _l("Public"), "unlisted": _l("Unlisted"), "private": _l("Private")}

ACTIONS: Mapping[str, LazyString] = {
    "campaign.create": _l("created the campaign"), "campaign.update": _l("changed the campaign"),
    "campaign.schedule_series": _l("scheduled the campaign as a series"),
    "channel.create": _l("connected the channel"), "channel.update": _l("changed the channel"),
    "channel.disconnect": _l("disconnected the channel"), "channel.test": _l("tested the channel"),
    "channel.facebook_login": _l("connected the Page with Facebook Login"),
    "channel.facebook_data_deleted": _l("Facebook asked to delete the Page's data"),
    "channel.facebook_deauthorized": _l("the Page removed Loa on Facebook"),
    "channel.needs_reconnect": _l("the channel needs reconnecting"),
    "channel.pause_deliveries": _l("paused the channel's deliveries"),
    "channel.resume_deliveries": _l("resumed the channel's deliveries"),
    "channel.slots": _l("changed the channel's publishing times"),
    "comment.answer": _l("answered a comment"),
    "delivery.schedule": _l("scheduled the delivery"), "delivery.cancel": _l("cancelled the delivery"),
    "delivery.pause": _l("paused the delivery"), "delivery.resume": _l("resumed the delivery"),
    "delivery.reschedule": _l("rescheduled the delivery"), "delivery.retry": _l("retried the delivery"),
    "delivery.unpublish": _l("took the post down from the channel"),
    "feed_item.draft": _l("made a draft from a news item"), "kit.send": _l("sent a campaign kit"),
    "media.upload": _l("uploaded media"), "media.update": _l("changed media"),
    "post.create": _l("created the post"), "post.update": _l("edited the post"),
    "post.submit": _l("sent the post for review"), "post.approve": _l("approved the post"),
    "post.reject": _l("sent the post back"), "post.stale_edit": _l("tried to save over a newer version"),
    "post.adopt": _l("adopted a post from a kit"),
    "privacy.erase": _l("erased a person's data"), "privacy.export": _l("exported a person's data"),
    "privacy.retention": _l("deleted data past its retention time"),
    "source.create": _l("added a news source"), "source.update": _l("changed a news source"),
    "token.create": _l("created an API token"), "token.revoke": _l("revoked an API token"),
    "unit.create": _l("created the unit"), "unit.rename": _l("renamed the unit"),
    "user.create": _l("created the user"), "user.update": _l("changed the user"),
    "user.password": _l("changed the password"), "webhook.delete": _l("deleted a webhook"),
    "website.article_publish": _l("published the article on the website"),
    "website.article_update": _l("updated the article on the website"),
    "website.article_remove": _l("removed the article from the website"),
    "website.comment_reply": _l("replied to a reader's comment"),
}

OBJECTS: Mapping[str, LazyString] = {
    "posts": _l("post"), "campaigns": _l("campaign"), "channels": _l("channel"), "deliveries": _l("delivery"),
    "feed_sources": _l("news source"), "feed_items": _l("news item"), "kits": _l("kit"), "media_items": _l("media"),
    "units": _l("unit"), "users": _l("user"), "api_tokens": _l("API token"), "webhooks": _l("webhook"),
    "website_articles": _l("website article"), "website_comments": _l("reader's comment"),
    "engagement_comments": _l("comment"), "adopted_posts": _l("adopted post"),
}

FIELDS: Mapping[str, LazyString] = {
    "title": _l("title"), "slug": _l("address"), "summary": _l("summary"), "body": _l("text"),
    "body_html": _l("text"), "byline": _l("byline"), "category": _l("category"), "locality": _l("locality"),
    "tags": _l("tags"), "campaign_id": _l("campaign"), "cover_media_id": _l("cover image"), "media_ids": _l("media"),
    "version": _l("version"), "name": _l("name"), "url": _l("address"), "kind": _l("kind"), "email": _l("e-mail"),
    "role": _l("role"), "unit_id": _l("unit"), "parent_id": _l("parent unit"), "active": _l("active"),
    "locale": _l("language"), "reason": _l("reason"), "at": _l("time"), "was": _l("before"),
    "message": _l("message"), "description": _l("description"), "privacy": _l("visibility"), "link": _l("link"),
    "settings": _l("settings"), "secrets": _l("secrets"), "slots": _l("publishing times"), "fields": _l("fields"),
    "channel_id": _l("channel"), "post_id": _l("post"), "post_ids": _l("posts"), "unit_ids": _l("units"),
    "kit_id": _l("kit"), "source_id": _l("news source"), "item_id": _l("news item"), "comment_id": _l("comment"),
    "deliveries": _l("deliveries"), "posts": _l("posts"), "page_id": _l("Page id"), "page_name": _l("Page name"),
    "remote_id": _l("id on the platform"), "filename": _l("file name"), "bytes": _l("size (bytes)"),
    "starts_on": _l("starts on"), "ends_on": _l("ends on"), "hashtags": _l("hashtags"), "old": _l("before"),
    "new": _l("after"), "ok": _l("succeeded"), "subject": _l("subject"), "start": _l("start"),
    "submitted": _l("submitted version"), "changed": _l("changed"), "declined": _l("declined"),
    "reconnected": _l("reconnected"), "original_post_id": _l("original post"), "reply_id": _l("reply"),
    "reply_remote_id": _l("reply on the platform"), "allow_private_address": _l("allow private addresses"),
    "auto_draft": _l("make drafts automatically"), "fetch_interval_minutes": _l("fetch every (minutes)"),
    "access_token": _l("access token"), "refresh_token": _l("refresh token"), "client_id": _l("client id"),
    "client_secret": _l("client secret"), "facebook_user_id": _l("Facebook account"),
    "token_health": _l("token health"), "every_days": _l("every (days)"), "deadline": _l("deadline"),
    "schedule": _l("schedule"), "all_below": _l("all units below"), "password": _l("password"),
    "state": _l("state"), "media": _l("media"), "caption": _l("caption"), "alt_text": _l("alternative text"),
}

ATTEMPT_ACTIONS: Mapping[str, LazyString] = {
    "publish": _l("publish"), "update": _l("update"), "unpublish": _l("take down"), "lookup": _l("look up"),
    "recover": _l("check after an interruption")}
ATTEMPT_OUTCOMES: Mapping[str, LazyString] = {
    "running": _l("running"), "published": _l("published"), "found": _l("found on the channel"),
    "not_found": _l("not found on the channel"), "error": _l("error"), "transient": _l("temporary error"),
    "rate_limited": _l("rate limited"), "auth_expired": _l("access expired"), "rejected": _l("refused"),
    "duplicate": _l("already there"), "unknown": _l("unknown"), "unpublished": _l("taken down"),
    "updated": _l("updated"), "failed": _l("failed"),
}
WEBHOOK_EVENTS: Mapping[str, LazyString] = {
    "delivery.published": _l("a delivery was published"), "delivery.failed": _l("a delivery failed"),
    "delivery.unconfirmed": _l("a delivery is unconfirmed")}
RENDITIONS: Mapping[str, LazyString] = {
    "thumb": _l("thumbnail"), "youtube_thumb": _l("YouTube thumbnail"), "poster": _l("poster frame"),
    "poster_w480": _l("small poster frame"), "social": _l("sharing picture"),
}


def _label(mapping: Mapping[str, LazyString], code: Any, fallback: LazyString | None = None) -> str:
    if code in (None, ""):
        return "—"
    label = mapping.get(str(code))
    if label is not None:
        return str(label)
    return str(fallback) if fallback is not None else str(code).replace("_", " ")


def post_state_label(state: str | None) -> str:
    return _label(POST_STATES, state)


def post_state_in_sentence(state: str | None) -> str:
    return _label(POST_STATES_IN_SENTENCE, state)


def delivery_state_label(state: str | None) -> str:
    return _label(DELIVERY_STATES, state)


def delivery_state_in_sentence(state: str | None) -> str:
    return _label(DELIVERY_STATES_IN_SENTENCE, state)


def channel_state_label(state: str | None) -> str:
    return _label(CHANNEL_STATES, state)


def role_label(role: str | None) -> str:
    return _label(ROLES, role)


# Channel kinds' names are the channels' own (their descriptions), handed over by the app factory: labels is Core
# and imports no part of the domain.
_kind_names: Callable[[], Mapping[str, Any]] = dict


def use_kind_names(names: Callable[[], Mapping[str, Any]]) -> None:
    """Where kind names come from: a function answering ``{kind: name}`` (the channel registry's descriptions)."""
    global _kind_names
    _kind_names = names


def kind_label(kind: str | None) -> str:
    return _label(_kind_names(), kind)


def action_label(action: str | None) -> str:
    return _label(ACTIONS, action, _l("did something"))


def object_label(object_type: str | None) -> str:
    return _label(OBJECTS, object_type, _l("object"))


def field_label(name: str | None) -> str:
    """A field name, also a variant's (``facebook.message`` → "Facebook: message")."""
    if name and "." in name:
        head, _, tail = str(name).rpartition(".")
        head = head.removeprefix("variants.")
        if head in _kind_names():
            return f"{kind_label(head)}: {field_label(tail)}"
    return _label(FIELDS, name, _l("other detail"))


def attempt_action_label(action: str | None) -> str:
    return _label(ATTEMPT_ACTIONS, action)


def attempt_outcome_label(outcome: str | None) -> str:
    return _label(ATTEMPT_OUTCOMES, outcome)


def rendition_label(name: str | None) -> str:
    """A rendition by what it is for (``w480`` → "480 px wide")."""
    if name and name[:1] == "w" and name[1:].isdigit():
        return str(_l("%(width)s px wide", width=format_decimal(int(name[1:]))))
    return _label(RENDITIONS, name)


def webhook_event_label(event: str | None) -> str:
    return _label(WEBHOOK_EVENTS, event, _l("other event"))


def value_label(value: Any, field: str | None = None) -> str:
    """A stored value as people read it: yes/no, "—" for nothing, numbers and times per locale, codes labelled."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, int | float):
        return format_decimal(value)
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    if isinstance(value, list | tuple):
        return ", ".join(value_label(v, field) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {value_label(v, k)}" for k, v in value.items())
    text = str(value)
    if field == "role":
        return role_label(text)
    if field in ("kind", "channel_kind"):
        return kind_label(text)
    if field == "privacy":
        return _label(PRIVACY, text)
    if field == "state":
        return _label({**POST_STATES, **DELIVERY_STATES, **CHANNEL_STATES}, text)
    parsed = _iso_time(text)
    return format_datetime(parsed, "short") if parsed is not None else text


def _iso_time(text: str) -> datetime | None:
    if len(text) < 16 or text[4:5] != "-" or "T" not in text[10:11]:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def audit_details(details: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """An audit entry's details as (field, words) pairs; a change ``[old, new]`` reads "old → new"; secrets
    are never shown."""
    out: list[tuple[str, str]] = []
    for key, value in (details or {}).items():
        if key in ("secrets", "access_token", "refresh_token", "client_secret", "password"):
            out.append((field_label(key), str(_l("changed"))))
            continue
        if isinstance(value, list) and len(value) == 2 and key not in ("post_ids", "unit_ids", "tags", "fields",
                                                                       "media_ids", "hashtags", "slots", "posts"):
            out.append((field_label(key), f"{value_label(value[0], key)} → {value_label(value[1], key)}"))
        elif key == "fields" and isinstance(value, list):
            out.append((field_label(key), ", ".join(field_label(str(v)) for v in value)))
        else:
            out.append((field_label(key), value_label(value, key)))
    return out
