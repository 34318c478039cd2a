"""The deliveries of a post as the API and UI show them. The scheduler area registers the real lookup; until a
post has been scheduled it has none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from publisher.content.models import Post

_lookup: Callable[[Post], list[dict[str, Any]]] | None = None


def register_lookup(lookup: Callable[[Post], list[dict[str, Any]]]) -> None:
    global _lookup
    _lookup = lookup


def deliveries_for_post(post: Post) -> list[dict[str, Any]]:
    return _lookup(post) if _lookup is not None else []
