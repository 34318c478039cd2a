"""Media uploads checked on their first bytes (issue #14, "uploads that respect people's time").

For the upload endpoints, before the multipart body is read the request's ``Content-Length`` is held against the
largest upload allowed (413), and while Werkzeug parses the body the file part's first bytes are held against the
picture and video magic numbers (422) and the declared length against that kind's limit (413), so a 97 MB file
that is no picture, or a picture over the picture limit, is refused after a few kilobytes, not after the upload.
The domain rules are :func:`publisher.content.media.check_declared_size` and ``check_first_bytes``; this module
only wires them into Werkzeug's form parser.
"""

from __future__ import annotations

from typing import IO, Any

from flask import Request, current_app, jsonify
from flask.wrappers import Response
from flask_babel import lazy_gettext as _l

from publisher.content.media import HEAD_BYTES, MediaLimits, check_declared_size, check_first_bytes
from publisher.errors import DomainError, TooLarge, ValidationFailed

# The endpoints whose multipart body carries one media file (the editorial library and picker, the JSON API).
GUARDED_ENDPOINTS = {"editorial.media_upload", "api.post_media"}


def media_limits() -> MediaLimits:
    settings = current_app.extensions["publisher.settings"]
    return MediaLimits(max_image_bytes=settings.max_image_mb * 1024 * 1024,
                       max_video_bytes=settings.max_video_mb * 1024 * 1024)


class FirstBytesGuard:
    """The container Werkzeug writes a file part into: checks the first bytes before any is stored, then the running
    size against the kind's limit; everything else goes to the spooled temporary file it wraps."""

    def __init__(self, inner: IO[bytes], limits: MediaLimits, content_length: int | None):
        self._inner = inner
        self._limits = limits
        self._content_length = content_length
        self._head = b""
        self._limit: int | None = None
        self._written = 0

    def _check(self) -> None:
        kind = check_first_bytes(self._head, self._limits, self._content_length)
        self._limit = self._limits.max_video_bytes if kind == "video" else self._limits.max_image_bytes
        self._inner.write(self._head)
        self._written = len(self._head)

    def write(self, data: bytes) -> int:
        if self._limit is None:
            self._head += bytes(data)
            if len(self._head) >= HEAD_BYTES:
                self._check()
            return len(data)
        self._written += len(data)
        if self._written > self._limit:
            raise TooLarge(_l("The file is larger than the %(mb)s MB allowed.", mb=self._limit // (1024 * 1024)))
        return self._inner.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if self._limit is None and self._head:  # a file shorter than the magic numbers: checked at its end
            self._check()
        return self._inner.seek(offset, whence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class LoaRequest(Request):
    """Flask's request, with the media upload endpoints' body checked as it arrives."""

    def _load_form_data(self) -> None:
        if self.endpoint in GUARDED_ENDPOINTS and "form" not in self.__dict__:
            check_declared_size(self.content_length, media_limits())  # before a byte of the body is read
        super()._load_form_data()

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        inner = super()._get_file_stream(total_content_length, content_type, filename, content_length)
        if self.endpoint in GUARDED_ENDPOINTS:
            return FirstBytesGuard(inner, media_limits(), total_content_length)  # type: ignore[return-value]
        return inner


def upload_error_json(exc: DomainError) -> tuple[Response, int]:
    """The editorial upload script's error body (the API answers its own problem body)."""
    body: dict[str, Any] = {"error": {"code": exc.code, "message": str(exc.message)}}
    if isinstance(exc, ValidationFailed):
        body["error"]["fields"] = {k: [str(m) for m in v] for k, v in exc.fields.items()}
        body["error"]["message"] = "; ".join(m for v in body["error"]["fields"].values() for m in v)
    return jsonify(body), exc.status
