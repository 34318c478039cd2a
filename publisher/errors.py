"""Loa's domain errors. Services raise these; the API turns them into JSON problem bodies, the UI into
messages in the user's language. Messages are lazy Flask-Babel strings so that they translate when shown."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: ``code`` is stable for machines, ``message`` is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: Any, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """A stale edit or an action the object's state does not allow."""

    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    """One or more fields fail validation; ``fields`` maps a field name to its messages."""

    status = 422
    code = "validation_failed"

    def __init__(self, fields: dict[str, list[Any] | Any], message: Any | None = None):
        normalised = {k: (v if isinstance(v, list) else [v]) for k, v in fields.items()}
        from flask_babel import lazy_gettext

        super().__init__(message or lazy_gettext("Some fields are not valid."))
        self.fields = normalised


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class FieldTooLarge(ValidationFailed):
    """A field over its size limit (a post's ``body_html`` over 2 MB): 413 in the API, a field error in the pages
    (it is a :class:`ValidationFailed`, so every form that shows field errors shows this one too)."""

    status = 413
    code = "too_large"
