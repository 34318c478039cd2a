"""Per-channel variants of a post, checked against each channel kind's own description.

Each kind's fields and limits are written once, in its adapter's description (publisher/channels/); they are
checked when a variant is saved so that a writer hears of them at once, and adapters check again before
scheduling (media, connection-specific rules).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from publisher.content.sanitize import clean_html, clean_text, find_dangerous_markup

if TYPE_CHECKING:
    from publisher.content.models import MediaItem, Post

BODY_HTML_MAX_BYTES = 2 * 1024 * 1024  # the contract (interface.md): a post's body_html is at most 2 MB (413)

# The channel kinds' descriptions (publisher.channels.base.descriptions), handed to content by the app factory at
# start-up: content must not import the channels package (channels/website → the website domain → content).
_describe: Callable[[], Mapping[str, Any]] | None = None
_check: Callable[..., tuple[dict[str, Any], list[tuple[str, Any]]]] | None = None


def use_channel_descriptions(describe: Callable[[], Mapping[str, Any]],
                             check: Callable[..., tuple[dict[str, Any], list[tuple[str, Any]]]]) -> None:
    """Let variant validation read the channel kinds' descriptions (``describe()`` → kind → ChannelDescription)
    and check a variant with ``check(description, data, gettext)`` (publisher.channels.description.check_variant).
    """
    global _describe, _check
    _describe, _check = describe, check


def channel_descriptions() -> Mapping[str, Any]:
    if _describe is None:
        raise RuntimeError("variant validation needs the channel descriptions: create the app (web.create_app) first")
    return _describe()


def html_fields(kind: str) -> tuple[str, ...]:
    """The variant fields of ``kind`` that hold HTML (checked for size with ``body_html``)."""
    description = channel_descriptions().get(kind)
    return tuple(f.name for f in description.variant if f.type == "html") if description is not None else ()


def normalise_variants(raw: Any) -> tuple[dict[str, dict[str, Any] | None], dict[str, list[Any]]]:
    """Check a ``{"<kind>": {...}, …}`` mapping against each kind's description (its fields, their types and
    limits), then run the sanitiser on the fields that ask for it.

    Returns the cleaned variants (``None`` for a kind to remove) and field problems keyed like
    ``variants.<kind>.<field>``.
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
    described = channel_descriptions()
    assert _check is not None
    for kind, data in raw.items():
        prefix = f"variants.{kind}"
        description = described.get(kind)
        if description is None:
            problem(prefix, _l("Unknown channel kind %(kind)s.", kind=kind))
            continue
        if data is None:
            cleaned[kind] = None
            continue
        if not isinstance(data, dict):
            problem(prefix, _l("Expected an object."))
            continue
        out, found = _check(description, data, _l)
        for name, message in found:
            problem(f"{prefix}.{name}", message)
        for spec in description.variant:
            if spec.name not in out or f"{prefix}.{spec.name}" in problems:
                continue
            if spec.clean == "text":
                out[spec.name] = clean_text(out[spec.name])
            elif spec.clean == "html":
                dangerous = find_dangerous_markup(out[spec.name])
                if dangerous:
                    problem(f"{prefix}.{spec.name}", dangerous_markup_message(dangerous))
                else:
                    out[spec.name] = clean_html(out[spec.name])
        cleaned[kind] = out
    return cleaned, problems


def channel_media(post: Post, kind: str) -> list[MediaItem]:
    """The attached media a channel of ``kind`` gets: the variant's choice (``media_ids``) or, without one, all."""
    chosen = post.variant(kind).get("media_ids")
    if not isinstance(chosen, list):
        return post.media
    attached = {item.id: item for item in post.media}
    return [attached[i] for i in dict.fromkeys(chosen) if i in attached]


def dangerous_markup_message(found: list[str]) -> Any:
    return _l("Remove the script-capable markup: %(found)s.", found=", ".join(found))
