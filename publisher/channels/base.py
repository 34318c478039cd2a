"""The one interface every channel adapter implements, its data shapes, its error set and the registry.

A new channel kind is one new module under ``publisher/channels/`` with one ``ChannelAdapter`` subclass
decorated with ``@register``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from publisher.channels.description import ChannelDescription
from publisher.publish_request import MediaFile, PublishRequest  # noqa: F401  (the adapters' request, re-exported)
from publisher.settings import Settings

# Environment variables through which an operator routes outbound HTTPS through a proxy: ``requests`` then has to
# read the environment on every call (``NO_PROXY`` is decided per URL).
_PROXY_ENVIRONMENT = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
# ... and through which it trusts a private CA: one path, the same for every call, read when the session is made.
_CA_ENVIRONMENT = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def http_session() -> Any:
    """A ``requests`` session for an adapter's calls, kept by the adapter so its connections stay alive.

    With a proxy configured (or a ``.netrc`` file, which ``requests`` also reads from the environment) the session
    reads the environment on every call, as ``requests`` does. Otherwise it reads it once, here: a CA bundle named
    by ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` becomes the session's ``verify``, exactly what ``requests``
    would pick per call, and the per-call look-ups of ``.netrc`` and of every proxy variable (a scan of the whole
    environment, a fifth of a publish's time in the worker) are skipped."""
    import requests

    session = requests.Session()
    session.trust_env = _reads_environment_per_call()
    if not session.trust_env:
        bundle = next((os.environ[name] for name in _CA_ENVIRONMENT if os.environ.get(name)), None)
        if bundle:
            session.verify = bundle
    return session


def _reads_environment_per_call() -> bool:
    if any(os.environ.get(name) or os.environ.get(name.lower()) for name in _PROXY_ENVIRONMENT):
        return True
    netrc = os.environ.get("NETRC")
    candidates = [netrc] if netrc else [os.path.expanduser(f"~/{name}") for name in (".netrc", "_netrc")]
    return any(os.path.exists(path) for path in candidates)


class ErrorKind(StrEnum):
    """What the pipeline can do about a failed channel call."""

    TRANSIENT = "transient"  # retry with back-off
    RATE_LIMITED = "rate_limited"  # retry after ``retry_after`` seconds
    AUTH_EXPIRED = "auth_expired"  # pause the channel's deliveries until it is reconnected
    REJECTED = "rejected"  # permanent: the platform refuses this content; a person must change it
    DUPLICATE = "duplicate"  # the platform already has this post


class ChannelError(Exception):
    """A classified platform failure: a sentence for people plus the platform's own code and message."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str | None = None,
        subcode: str | None = None,
        platform_message: str | None = None,
        retry_after: float | None = None,
        http_status: int | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.subcode = subcode
        self.platform_message = platform_message
        self.retry_after = retry_after
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [self.message]
        if self.code or self.platform_message:
            parts.append(f"[{self.code or '-'}{'/' + self.subcode if self.subcode else ''}] {self.platform_message or ''}")
        return " ".join(p.strip() for p in parts if p)


@dataclass(frozen=True)
class PublishResult:
    """What a publish or update produced (one result out)."""

    remote_id: str
    remote_url: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """One thing a channel would refuse, found before anything is scheduled."""

    field: str
    message: str


@dataclass(frozen=True)
class Metrics:
    """Engagement of one remote post as the platform reports it now (cumulative totals)."""

    remote_id: str
    values: dict[str, int]  # platform metric name -> value, e.g. {"post_media_view": 10, "shares": 2}
    removed: bool = False  # the remote post no longer exists
    error: ChannelError | None = None  # this post's read failed (the others of its batch may not have): why


@dataclass(frozen=True)
class RemoteComment:
    remote_id: str
    post_remote_id: str
    author_name: str
    message: str
    created_at: datetime
    parent_remote_id: str | None = None
    like_count: int = 0


@dataclass(frozen=True)
class ConnectionStatus:
    ok: bool
    message: str
    error: ChannelError | None = None
    details: dict[str, Any] = field(default_factory=dict)


class ChannelAdapter(ABC):
    """One channel kind. Instances are cheap: built per use from a channel's settings and decrypted secrets."""

    kind: ClassVar[str]
    # What the kind says about itself (label, connect fields, variant fields and limits, media rules, rates,
    # capabilities, metric mapping): everything outside the adapter's module reads it through the registry.
    description: ClassVar[ChannelDescription]
    supports_update: ClassVar[bool] = True
    # True when ``unpublish`` only changes Loa's own database (the website): the pipeline then removes the post in
    # the very request that unpublishes it, and the queued job finds it already gone.
    unpublishes_in_request: ClassVar[bool] = False

    # The platform metric names the engagement configuration maps (engagement.toml, the one place for them), set by
    # the collector before ``fetch_metrics``; None: the adapter reads its own defaults.
    wanted_metrics: tuple[str, ...] | None = None

    def __init__(self, settings: Settings, channel_settings: dict[str, Any], secrets: dict[str, Any],
                 channel_id: int | None = None):
        self.settings = settings
        self.channel_settings = channel_settings
        self.secrets = secrets
        self.channel_id = channel_id

    @abstractmethod
    def validate(self, request: PublishRequest) -> list[Problem]:
        """Every problem the platform would refuse this post for (lengths, formats, required media)."""

    @abstractmethod
    def publish(self, request: PublishRequest) -> PublishResult:
        """Publish the post; raise ChannelError on failure."""

    @abstractmethod
    def update(self, remote_id: str, request: PublishRequest) -> PublishResult:
        """Change an already published post."""

    @abstractmethod
    def unpublish(self, remote_id: str) -> None:
        """Remove the post from the channel (an already removed post is not an error)."""

    @abstractmethod
    def find_existing(self, request: PublishRequest) -> PublishResult | None:
        """The remote post published for ``request.idempotency_key``, if the platform has it.

        Raise ChannelError(TRANSIENT) when the platform cannot tell right now.
        """

    @abstractmethod
    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Current totals for many remote posts (batched where the platform allows). A post whose own read failed
        while others succeeded answers ``Metrics(error=…)``; a failure of the whole call raises ChannelError."""

    @abstractmethod
    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[RemoteComment]:
        """Comments on one remote post, oldest first."""

    @abstractmethod
    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        """Answer a comment on the platform; returns the reply's remote id."""

    @abstractmethod
    def check_connection(self) -> ConnectionStatus:
        """Whether the stored credentials work for this channel, said in one sentence."""


REGISTRY: dict[str, type[ChannelAdapter]] = {}


def register(cls: type[ChannelAdapter]) -> type[ChannelAdapter]:
    """Add an adapter class to the registry; its ``description`` must name the same kind."""
    if _described(cls).kind != cls.kind:
        raise ValueError(f"{cls.__name__}.description describes {cls.description.kind!r}, not {cls.kind!r}")
    REGISTRY[cls.kind] = cls
    return cls


def unregister(kind: str) -> None:
    """Drop a kind from the registry (tests that register a kind of their own)."""
    REGISTRY.pop(kind, None)


def descriptions() -> dict[str, ChannelDescription]:
    """Every registered kind's description, in registration order (website, facebook, youtube, …)."""
    from publisher.channels import load_adapters

    load_adapters()
    return {kind: _described(cls) for kind, cls in REGISTRY.items()}


def description(kind: str) -> ChannelDescription:
    """One kind's description; KeyError for a kind no adapter registered."""
    return _described(adapter_class(kind))


def _described(cls: type[ChannelAdapter]) -> ChannelDescription:
    """The class's description; a bare one (its kind as label, nothing else) for an adapter put in the registry
    without one (a test's stand-in platform)."""
    found = getattr(cls, "description", None)
    return found if isinstance(found, ChannelDescription) else ChannelDescription(kind=cls.kind, label=cls.kind)


def kinds() -> tuple[str, ...]:
    return tuple(descriptions())


def adapter_class(kind: str) -> type[ChannelAdapter]:
    # Adapters register themselves on import; import them here, lazily, so that importing this module is cheap.
    from publisher.channels import load_adapters

    load_adapters()
    try:
        return REGISTRY[kind]
    except KeyError:
        raise KeyError(f"no adapter for channel kind {kind!r}") from None
