"""What a channel kind says about itself: the one place for its label, connect fields, variant fields and their
limits, media rules, rates, capabilities and default metric mapping.

Each adapter class carries a :class:`ChannelDescription` as ``description``; the registry
(:data:`publisher.channels.base.REGISTRY`) hands them out through :func:`publisher.channels.base.descriptions` and
:func:`publisher.channels.base.description`. The channel forms, the compose tabs and their counters, variant
validation, the API's ``GET /api/v1/channels/kinds``, OpenAPI, the pipeline's per-kind rates and the engagement
defaults all read it, so a new kind is one new adapter module.

This module imports nothing of Loa's: content (which must not import the channels package at module level) may
receive descriptions and run :func:`check_variant` on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The measures of Loa's engagement store; a description maps platform metrics onto them.
MEASURES = ("views", "reactions", "comments", "shares")

# How a text field's length is counted against its limit.
COUNT_CHARS = "chars"  # Unicode characters (code points)
COUNT_BYTES = "bytes"  # UTF-8 bytes (a Vietnamese letter with tone marks takes 2–3)
COUNT_TAGS = "tags"  # a tag list as joined by commas, a tag holding a space counting its two quotes too

# The value types a variant field holds (the JSON type is the Python type beside it).
FIELD_TYPES: dict[str, type] = {"text": str, "html": str, "link": str, "choice": str, "datetime": str,
                                "tags": list, "media": list, "bool": bool}


@dataclass(frozen=True)
class ConnectField:
    """One setting a person types to connect a channel of this kind (the channel form, the API's ``settings``)."""

    name: str
    label: Any  # a lazy_gettext string
    required: bool = True
    secret: bool = False  # stored encrypted, never echoed, typed into a password field
    max_length: int = 200
    required_message: Any = None  # the sentence when it is missing (lazy_gettext)
    reconnect: bool = False  # asked again when a person reconnects the channel (new tokens)
    reconnect_label: Any = None  # its label on the reconnect form (default: ``label``)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": str(self.label), "required": self.required, "secret": self.secret,
                "max_length": self.max_length, "reconnect": self.reconnect}


@dataclass(frozen=True)
class VariantField:
    """One field of a kind's variant of a post, with its limit and rules.

    ``max_length`` is the platform's limit when ``limit_message`` is given: a callable taking ``n`` (the limit) and
    ``have`` (what the value takes) that answers the sentence naming the platform, e.g.
    ``lambda **kw: _l("Facebook allows at most %(n)s characters (this has %(have)s).", **kw)``; without one it is
    Loa's own bound on a sane size for what the field holds.
    """

    name: str
    type: str  # a key of FIELD_TYPES
    label: Any = ""  # lazy_gettext; empty: not shown as its own input on the compose tab
    max_length: int | None = None
    count: str = COUNT_CHARS
    limit_message: Callable[..., Any] | None = None
    max_items: int | None = None  # tags: at most this many
    max_items_message: Any = None
    choices: tuple[tuple[str, Any], ...] = ()  # (value, label) for type "choice"
    choice_message: Any = None
    default: Any = None  # shown on the compose tab when the variant has no value
    forbidden_chars: str = ""  # characters the platform refuses in this field
    forbidden_message: Any = None
    multiline: bool = False
    fill_from_story: bool = False  # the compose tab's "Fill from the story" button sits under this field
    # What "Fill from the story" writes here: "story" (title, summary and the campaign's hashtags), "summary"
    # (summary and hashtags), "title" (the story's title cut to the limit, only when the field is empty); "": nothing.
    fill: str = ""
    preview: str = ""  # the preview slot this field feeds ("title", "summary", "message", "description")
    clean: str = ""  # "text" or "html": the content layer runs its sanitiser on the value after the checks
    compose: bool = True  # drawn on the compose tab (media fields are drawn by the media chooser)

    @property
    def python_type(self) -> type:
        return FIELD_TYPES[self.type]

    @property
    def platform_limit(self) -> bool:
        return self.limit_message is not None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "label": str(self.label)}
        if self.max_length is not None:
            out["max_length"] = self.max_length
            out["count"] = self.count
            out["platform_limit"] = self.platform_limit
        if self.max_items is not None:
            out["max_items"] = self.max_items
        if self.choices:
            out["choices"] = [value for value, _label in self.choices]
        if self.forbidden_chars:
            out["forbidden_chars"] = self.forbidden_chars
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class MediaRules:
    """Which of a post's media a kind takes, how many, how large, of which types."""

    accepts: tuple[str, ...] = ("image", "video")  # media kinds it takes at all
    max_images: int | None = None  # None: no limit
    max_videos: int | None = None
    mix: bool = True  # pictures and a video together in one post
    link_with_media: bool = True  # a variant's link may go with media
    needs_video: bool = False  # a post on this kind is a video (text without one is refused)
    media_without_text: bool = True  # media chosen on the compose tab make a variant even with no text written
    image_types: frozenset[str] = frozenset()  # empty: any image type Loa accepts
    video_types: frozenset[str] = frozenset()
    image_max_bytes: int | None = None
    video_max_bytes: int | None = None
    # The picture chosen on this kind's tab is the post's cover (YouTube's thumbnail); none chosen: no cover at all.
    cover_from_chosen: bool = False
    rule: Any = ""  # the sentence the compose tab shows (lazy_gettext)
    choose_label: Any = ""  # the media chooser's legend on the compose tab
    # The sentences the compose tab and the post page say when the chosen media break a rule (lazy_gettext).
    mix_message: Any = ""  # pictures and a video chosen together where ``mix`` is False
    videos_message: Any = ""  # more videos than ``max_videos``
    images_message: Any = ""  # more pictures than ``max_images``
    link_message: Any = ""  # a link together with media where ``link_with_media`` is False
    needs_video_message: Any = ""  # text written but no video chosen where ``needs_video``

    def as_json(self) -> dict[str, Any]:
        return {"accepts": list(self.accepts), "max_images": self.max_images, "max_videos": self.max_videos,
                "mix": self.mix, "link_with_media": self.link_with_media, "needs_video": self.needs_video,
                "image_types": sorted(self.image_types), "video_types": sorted(self.video_types),
                "image_max_bytes": self.image_max_bytes, "video_max_bytes": self.video_max_bytes,
                "rule": str(self.rule)}


@dataclass(frozen=True)
class Capabilities:
    """What Loa can do on the platform after publishing."""

    edit: bool = False
    delete: bool = False
    metrics: bool = False
    comments: bool = False
    reply: bool = False
    platform_scheduling: bool = False  # the platform itself can hold a post until a time

    def names(self) -> list[str]:
        return [name for name in ("edit", "delete", "metrics", "comments", "reply", "platform_scheduling")
                if getattr(self, name)]


@dataclass(frozen=True)
class MetricMapping:
    """The default mapping of platform metrics onto Loa's measures (engagement.toml may override it).

    ``measures``: measure → platform metric names, the first one present in the platform's answer is used.
    A measure of :data:`MEASURES` missing from ``measures`` is one the platform does not give: it is shown as
    "not available", never as 0.
    """

    measures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    zero_when_missing: tuple[str, ...] = ()  # measures the platform omits when they are zero
    retired: tuple[str, ...] = ()  # platform metrics that no longer exist

    @property
    def not_available(self) -> tuple[str, ...]:
        return tuple(m for m in MEASURES if not self.measures.get(m))

    def as_json(self) -> dict[str, Any]:
        return {"measures": {k: list(v) for k, v in self.measures.items()},
                "zero_when_missing": list(self.zero_when_missing), "retired": list(self.retired),
                "not_available": list(self.not_available)}


@dataclass(frozen=True)
class SignIn:
    """The platform's own sign-in an admin connects a channel of this kind with (the channels page's button).

    ``endpoint`` is the Flask endpoint that starts it; it takes ``kind=`` when ``pass_kind`` (the generic OAuth
    views), and ``channel_id=`` to reconnect one channel when ``reconnect_label`` is given. ``configured(settings)``
    says whether the app credentials it needs are set (no button otherwise)."""

    endpoint: str
    label: Any  # lazy_gettext: the button
    button_id: str  # the button's element id
    configured: Callable[[Any], bool]
    pass_kind: bool = False
    reconnect_label: Any = None  # lazy_gettext: the button on each channel of this kind; None: not offered

    def url_arguments(self, kind: str, channel_id: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": kind} if self.pass_kind else {}
        if channel_id is not None:
            out["channel_id"] = channel_id
        return out


@dataclass(frozen=True)
class HealthLine:
    """One line of a channel's token health on the channels page: ``label`` and a time (``when``, formatted by
    the page in the reader's locale; ``empty`` when there is none) or a ``text``; ``warn`` marks what ends soon,
    ``error`` what is wrong already."""

    label: Any = ""
    when: datetime | None = None
    text: Any = None
    empty: Any = ""
    warn: bool = False
    error: bool = False


@dataclass(frozen=True)
class TokenHealth:
    """What the platform said about a channel's credentials, as the channels page shows it."""

    lines: tuple[HealthLine, ...] = ()
    alert: Any = ""  # a sentence asking the admin to act (shown as an alert)


@dataclass(frozen=True)
class ChannelDescription:
    """Everything Loa outside a channel's own module needs to know about its kind."""

    kind: str
    label: Any  # lazy_gettext: "Trang Facebook", …
    short_label: Any = None  # the compose tab's title (default: ``label``)
    icon: str = ""  # a short mark the UI may draw
    colour: str = ""  # CSS colour for charts
    connect_fields: tuple[ConnectField, ...] = ()
    sign_in: SignIn | None = None  # the platform's own sign-in flow for admins, if any
    check_at_connect: bool = False  # credentials are checked with the platform before a channel is saved
    connect_hint: Any = ""  # a sentence above the connect form (lazy_gettext)
    variant: tuple[VariantField, ...] = ()
    media: MediaRules = field(default_factory=MediaRules)
    rate_per_minute: int | None = None  # publishes per minute by default; None: Loa's fallback
    metrics_batch_size: int = 50  # remote ids per fetch_metrics call
    capabilities: Capabilities = field(default_factory=Capabilities)
    metrics: MetricMapping = field(default_factory=MetricMapping)
    preview: str = ""  # the compose tab's preview style ("card", "video", "article"); empty: none
    # Extra checks on a variant beyond the fields' own rules: (cleaned variant) → [(field name, message)].
    extra_checks: Callable[[dict[str, Any]], list[tuple[str, Any]]] | None = None
    # The channels page's quota cell: ``quota(channel, settings) -> {"used", "limit"} | None`` and what it counts
    # (lazy_gettext, e.g. "API units today"); a kind with a quota but no figure yet shows "not tracked yet".
    quota: Callable[[Any, Any], dict[str, Any] | None] | None = None
    quota_label: Any = ""
    # The channels page's token-health cell: ``token_health(channel) -> TokenHealth | None`` (None: never read).
    token_health: Callable[[Any], TokenHealth | None] | None = None
    # Run after a channel of this kind is connected from its form (``(channel, settings)``, in the caller's unit of
    # work): e.g. reading what the platform says about the token just typed.
    after_connect: Callable[[Any, Any], None] | None = None
    # The platform's error codes (as a delivery keeps them, e.g. "-210") -> the kind's own sentence for people
    # (lazy_gettext), which the delivery's explanation quotes as the reason (publisher/scheduler/explain.py).
    error_sentences: Mapping[str, Any] = field(default_factory=dict)
    # The platform's error codes that mean the photo or video file was refused (too large, a format it does not take).
    media_error_codes: frozenset[str] = frozenset()

    @property
    def oauth_endpoint(self) -> str | None:
        """The endpoint of the platform's own sign-in flow for admins, if any."""
        return self.sign_in.endpoint if self.sign_in is not None else None

    @property
    def tab_label(self) -> Any:
        return self.short_label if self.short_label is not None else self.label

    def variant_field(self, name: str) -> VariantField | None:
        return next((f for f in self.variant if f.name == name), None)

    def connect_field(self, name: str) -> ConnectField | None:
        return next((f for f in self.connect_fields if f.name == name), None)

    @property
    def required_settings(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.connect_fields if f.required)

    @property
    def connection_settings(self) -> tuple[str, ...]:
        """The required settings that name the remote account (a Page id): changing one is a reconnect."""
        return tuple(f.name for f in self.connect_fields if f.required and not f.secret)

    @property
    def secret_settings(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.connect_fields if f.secret)

    def limits(self) -> dict[str, int]:
        """``{"<kind>.<field>": limit}`` for the fields with a platform limit (the compose counters)."""
        return {f"{self.kind}.{f.name}": f.max_length for f in self.variant
                if f.max_length is not None and f.platform_limit}

    def as_json(self) -> dict[str, Any]:
        """The shape of ``GET /api/v1/channels/kinds`` (interface.md)."""
        return {
            "kind": self.kind,
            "label": str(self.label),
            "settings": [f.as_json() for f in self.connect_fields],
            "oauth": self.oauth_endpoint is not None,
            "variant": {f.name: f.as_json() for f in self.variant},
            "media": self.media.as_json(),
            "capabilities": self.capabilities.names(),
            "rate_per_minute": self.rate_per_minute,
            "metrics_batch_size": self.metrics_batch_size,
            "metrics": self.metrics.as_json(),
        }


# --- checking a variant against its description (a pure function) ---------------------------------------------


def tags_length(tags: list[str]) -> int:
    """A tag list's length as joined by commas, a tag with a space counting its quotes too (YouTube's rule)."""
    total = 0
    for tag in tags:
        total += len(tag) + (2 if " " in tag else 0)
    return total + max(len(tags) - 1, 0)


def measured_length(value: Any, count: str) -> int:
    if count == COUNT_BYTES:
        return len(str(value).encode("utf-8"))
    if count == COUNT_TAGS:
        return tags_length(list(value))
    return len(value)


def check_variant(description: ChannelDescription, data: dict[str, Any], gettext: Callable[..., Any]
                  ) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Check one variant against its kind's description: unknown fields, types, lengths (characters, UTF-8 bytes
    or the tag rule), forbidden characters, choices, tag lists, links and media ids.

    ``gettext`` is lazy_gettext (messages of Loa's own, e.g. "Unknown field."), passed in so that this module stays
    free of Flask. Returns the cleaned variant (``None`` values dropped, tags stripped, media ids de-duplicated)
    and ``(field name, message)`` problems. Fields with ``clean`` set are left for the caller's sanitiser.
    """
    problems: list[tuple[str, Any]] = []
    out: dict[str, Any] = {}
    for name, value in data.items():
        spec = description.variant_field(name)
        if spec is None:
            problems.append((name, gettext("Unknown field.")))
            continue
        if value is None:
            continue
        expected = spec.python_type
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            problems.append((name, gettext("Wrong type of value.")))
            continue
        if spec.type == "tags" and spec.max_items is not None and len(value) > spec.max_items:
            problems.append((name, spec.max_items_message or gettext("At most %(n)s tags.", n=spec.max_items)))
            continue
        if spec.max_length is not None and not spec.platform_limit and spec.type not in ("tags", "media") \
                and len(value) > spec.max_length:
            problems.append((name, gettext("At most %(n)s characters.", n=spec.max_length)))
            continue
        out[name] = value
    for spec in description.variant:
        if spec.name not in out:
            continue
        value = out[spec.name]
        if spec.type == "media":
            if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in value):
                problems.append((spec.name, gettext("Expected a list of media ids.")))
            else:
                out[spec.name] = list(dict.fromkeys(value))
            continue
        if spec.type == "tags":
            if not all(isinstance(t, str) for t in value):
                problems.append((spec.name, gettext("Tags must be text.")))
                continue
            value = out[spec.name] = [t.strip() for t in value if t.strip()]
        if spec.max_length is not None and spec.platform_limit:
            have = measured_length(value, spec.count)
            if have > spec.max_length:
                problems.append((spec.name, spec.limit_message(n=spec.max_length, have=have)))
        if spec.forbidden_chars and isinstance(value, str) and any(c in value for c in spec.forbidden_chars):
            problems.append((spec.name, spec.forbidden_message))
        if spec.type == "choice" and value not in [v for v, _label in spec.choices]:
            problems.append((spec.name, spec.choice_message or gettext("Choose one of the offered values.")))
        if spec.type == "link" and value and not value.startswith(("http://", "https://")):
            problems.append((spec.name, gettext("A link must start with http:// or https://.")))
    if description.extra_checks is not None:
        problems.extend(description.extra_checks(out))
    return out, problems

