"""Per-channel variants of a post: their fields and the limits each platform enforces.

The limits here are the platforms' documented ones, checked when a variant is saved so that a writer hears of
them at once; channel adapters check again before scheduling (media, connection-specific rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from publisher.content.sanitize import clean_html, clean_text, find_dangerous_markup

if TYPE_CHECKING:
    from publisher.content.models import MediaItem, Post

FACEBOOK_MESSAGE_MAX = 63206
YOUTUBE_TITLE_MAX = 100
YOUTUBE_DESCRIPTION_MAX_BYTES = 5000
YOUTUBE_TAGS_MAX = 500
YOUTUBE_PRIVACY = ("public", "unlisted", "private")
WEBSITE_TITLE_MAX = 300
WEBSITE_SUMMARY_MAX = 1000
BODY_HTML_MAX_BYTES = 2 * 1024 * 1024  # the contract (interface.md): a post's body_html is at most 2 MB (413)
# Loa's own bounds on the other variant fields (no platform limit is meant here: a sane size for what they hold).
OTHER_FIELDS_MAX = {"facebook.link": 2000, "youtube.category_id": 50, "youtube.playlist_id": 100,
                    "youtube.publish_at": 40, "youtube.privacy": 20,
                    # Zalo's article limits, until the channel registry reads them from ZaloAdapter (issue #17)
                    "zalo.title": 150, "zalo.author": 50, "zalo.description": 300}
YOUTUBE_TAG_COUNT_MAX = 500  # with the 500-character total, more tags than this cannot fit anyway

# ``media_ids`` in a variant: which of the post's attached media that channel gets, in order (Facebook: the photos
# or the video; YouTube: the video and the picture for its thumbnail; the website: everything). A variant without
# it gets every attached medium, as before the field existed.
VARIANT_FIELDS: dict[str, dict[str, type]] = {
    "facebook": {"message": str, "link": str, "media_ids": list},
    "youtube": {"title": str, "description": str, "tags": list, "privacy": str, "category_id": str,
                "playlist_id": str, "publish_at": str, "made_for_kids": bool, "media_ids": list},
    "website": {"title": str, "summary": str, "body_html": str, "media_ids": list},
    "zalo": {"title": str, "author": str, "description": str, "media_ids": list},
}

LIMITS = {
    "facebook.message": FACEBOOK_MESSAGE_MAX,
    "youtube.title": YOUTUBE_TITLE_MAX,
    "youtube.description": YOUTUBE_DESCRIPTION_MAX_BYTES,
    "youtube.tags": YOUTUBE_TAGS_MAX,
    "website.title": WEBSITE_TITLE_MAX,
    "website.summary": WEBSITE_SUMMARY_MAX,
}


def youtube_tags_length(tags: list[str]) -> int:
    """YouTube counts the tag list as joined by commas, a tag with a space counting its quotes too."""
    total = 0
    for tag in tags:
        total += len(tag) + (2 if " " in tag else 0)
    return total + max(len(tags) - 1, 0)


def normalise_variants(raw: Any) -> tuple[dict[str, dict[str, Any] | None], dict[str, list[Any]]]:
    """Check a ``{"facebook": {...}, "youtube": {...}, "website": {...}}`` mapping.

    Returns the cleaned variants (``None`` for a kind to remove) and field problems keyed like
    ``variants.youtube.title``.
    """
    problems: dict[str, list[Any]] = {}
    cleaned: dict[str, dict[str, Any] | None] = {}

    def problem(key: str, message: Any) -> None:
        problems.setdefault(key, []).append(message)

    if raw is None:
        return cleaned, problems
    if not isinstance(raw, dict):
        problem("variants", _l("Expected an object keyed by channel kind."))
        return cleaned, problems
    for kind, data in raw.items():
        prefix = f"variants.{kind}"
        if kind not in VARIANT_FIELDS:
            problem(prefix, _l("Unknown channel kind %(kind)s.", kind=kind))
            continue
        if data is None:
            cleaned[kind] = None
            continue
        if not isinstance(data, dict):
            problem(prefix, _l("Expected an object."))
            continue
        out: dict[str, Any] = {}
        for name, value in data.items():
            expected = VARIANT_FIELDS[kind].get(name)
            if expected is None:
                problem(f"{prefix}.{name}", _l("Unknown field."))
                continue
            if value is None:
                continue
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                problem(f"{prefix}.{name}", _l("Wrong type of value."))
                continue
            limit = OTHER_FIELDS_MAX.get(f"{kind}.{name}")
            if limit is not None and len(value) > limit:
                problem(f"{prefix}.{name}", _l("At most %(n)s characters.", n=limit))
                continue
            if name == "tags" and len(value) > YOUTUBE_TAG_COUNT_MAX:
                problem(f"{prefix}.{name}", _l("At most %(n)s tags.", n=YOUTUBE_TAG_COUNT_MAX))
                continue
            out[name] = value
        _check_kind(kind, out, prefix, problem)
        cleaned[kind] = out
    return cleaned, problems


def channel_media(post: Post, kind: str) -> list[MediaItem]:
    """The attached media a channel of ``kind`` gets: the variant's choice (``media_ids``) or, without one, all."""
    chosen = post.variant(kind).get("media_ids")
    if not isinstance(chosen, list):
        return post.media
    attached = {item.id: item for item in post.media}
    return [attached[i] for i in dict.fromkeys(chosen) if i in attached]


def _check_kind(kind: str, data: dict[str, Any], prefix: str, problem: Any) -> None:
    if "media_ids" in data:
        ids = data["media_ids"]
        if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
            problem(f"{prefix}.media_ids", _l("Expected a list of media ids."))
        else:
            data["media_ids"] = list(dict.fromkeys(ids))
    if kind == "facebook":
        message = data.get("message", "")
        if len(message) > FACEBOOK_MESSAGE_MAX:
            problem(f"{prefix}.message", _l("Facebook allows at most %(n)s characters (this has %(have)s).",
                                            n=FACEBOOK_MESSAGE_MAX, have=len(message)))
        link = data.get("link")
        if link and not link.startswith(("http://", "https://")):
            problem(f"{prefix}.link", _l("A link must start with http:// or https://."))
    elif kind == "youtube":
        title = data.get("title", "")
        if len(title) > YOUTUBE_TITLE_MAX:
            problem(f"{prefix}.title", _l("YouTube allows at most %(n)s characters in a title (this has %(have)s).",
                                          n=YOUTUBE_TITLE_MAX, have=len(title)))
        description = data.get("description", "")
        size = len(description.encode("utf-8"))
        if size > YOUTUBE_DESCRIPTION_MAX_BYTES:
            problem(f"{prefix}.description",
                    _l("YouTube allows at most %(n)s bytes in a description (this has %(have)s; a Vietnamese "
                       "letter with tone marks takes 2–3 bytes).", n=YOUTUBE_DESCRIPTION_MAX_BYTES, have=size))
        for name in ("title", "description"):
            if "<" in data.get(name, "") or ">" in data.get(name, ""):
                problem(f"{prefix}.{name}", _l("YouTube does not accept the characters < and >."))
        tags = data.get("tags", [])
        if not all(isinstance(t, str) for t in tags):
            problem(f"{prefix}.tags", _l("Tags must be text."))
        else:
            data["tags"] = [t.strip() for t in tags if t.strip()]
            length = youtube_tags_length(data["tags"])
            if length > YOUTUBE_TAGS_MAX:
                problem(f"{prefix}.tags", _l("YouTube allows at most %(n)s characters of tags (these take %(have)s).",
                                             n=YOUTUBE_TAGS_MAX, have=length))
        privacy = data.get("privacy")
        if privacy is not None and privacy not in YOUTUBE_PRIVACY:
            problem(f"{prefix}.privacy", _l("Choose public, unlisted or private."))
    elif kind == "website":
        if len(data.get("title", "")) > WEBSITE_TITLE_MAX:
            problem(f"{prefix}.title", _l("At most %(n)s characters.", n=WEBSITE_TITLE_MAX))
        if len(data.get("summary", "")) > WEBSITE_SUMMARY_MAX:
            problem(f"{prefix}.summary", _l("At most %(n)s characters.", n=WEBSITE_SUMMARY_MAX))
        if "title" in data:
            data["title"] = clean_text(data["title"])
        if "body_html" in data:
            dangerous = find_dangerous_markup(data["body_html"])
            if dangerous:
                problem(f"{prefix}.body_html", dangerous_markup_message(dangerous))
            else:
                data["body_html"] = clean_html(data["body_html"])


def dangerous_markup_message(found: list[str]) -> Any:
    return _l("Remove the script-capable markup: %(found)s.", found=", ".join(found))
