"""Compressed answers (Brotli or gzip, through Flask-Compress) for HTML, CSS, the feeds and the sitemap.

Flask-Compress gives a compressed answer the strong ETag ``"<etag>:<encoding>"`` and adds ``Vary:
Accept-Encoding``; the public pages' own 304 check (``views.cached_page``) accepts those variants, so a reader
whose browser holds the compressed copy still gets a 304 without the page being rendered or compressed again.
A public page's compressed bytes are kept beside its rendered bytes, under the same key (site version, page,
language), so the busiest pages are compressed once per change of the site, not once per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Flask, Request, g
from flask_compress import Compress

ENCODINGS = ("br", "gzip")
MIMETYPES = [
    "text/html", "text/css", "text/plain", "text/xml", "text/javascript", "application/javascript",
    "application/xml", "application/rss+xml", "application/atom+xml", "application/manifest+json", "image/svg+xml",
]
PAGE_KEY = "compressed_page_key"


class CompressedPages:
    """Flask-Compress's cache backend: keeps only answers a public page marked as cacheable (``g.<PAGE_KEY>``)."""

    def __init__(self, size: int = 512):
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        if key.endswith(";"):
            return None
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";"):
            return  # not a cacheable page (an editor's screen, an error, a form with errors)
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def page_cache_key(request: Request) -> str:
    return str(g.get(PAGE_KEY, ""))


def mark_cacheable(key: str) -> None:
    """The answer being built is the same for every reader with this key: its compressed bytes may be kept."""
    g.setdefault(PAGE_KEY, key)


def init_compression(app: Flask) -> Compress:
    """Register compression on ``app`` (one extension object per app: its page cache belongs to that app)."""
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", list(ENCODINGS))
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", list(ENCODINGS))  # static files and media are streamed
    app.config.setdefault("COMPRESS_STREAMING_ENDPOINT_CONDITIONAL", ["static", "public.media_file"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", CompressedPages)
    app.config.setdefault("COMPRESS_CACHE_KEY", page_cache_key)
    compress = Compress()
    compress.init_app(app)
    app.extensions["publisher.compress"] = compress
    return compress
