"""The one dataclass every channel adapter takes: a post as one channel gets it, with its media on disk.

A low module of its own (beside settings and db): the adapters (through :mod:`publisher.channels.base`, which
re-exports both names), the website domain behind the site adapter, and the scheduler that builds the request
(:mod:`publisher.scheduler.requests`) all read it, and none of them has to import another for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MediaFile:
    """A media item as an adapter needs it: where its file and renditions are on disk."""

    media_id: int
    kind: str  # image | video
    path: Path
    content_type: str
    size_bytes: int
    caption: str = ""
    alt_text: str = ""
    renditions: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishRequest:
    """Everything an adapter needs to publish one post on one channel (one dataclass in)."""

    post_id: int
    idempotency_key: str  # travels with the publish so that a retry can ask the platform whether it exists
    title: str
    summary: str
    body_html: str
    slug: str
    variant: dict[str, Any]
    media: tuple[MediaFile, ...] = ()
    cover: MediaFile | None = None
    hashtags: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    public_url: str = ""  # the article's address on the public website, for link posts
    campaign_id: int | None = None
    campaign_name: str = ""
    progress: Callable[[int, int], None] | None = None  # (bytes sent, total) during long uploads
