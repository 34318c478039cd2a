"""The JSON API under /api/v1: bearer tokens, JSON in and out, problem bodies for every error."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from publisher.accounts.models import User
from publisher.accounts.services import user_for_token
from publisher.content.services import StaleEdit
from publisher.errors import DomainError, ValidationFailed
from web import current_settings
from web.tx import commit_request

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = {"api.health", "api.openapi"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def problem(status: int, code: str, message: str, **extra: Any):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="loa"'
    return response


def api_user() -> User:
    return g.api_user


def json_body(required: bool = True) -> dict[str, Any]:
    """The request's JSON object; 400 for a body that is not JSON or not an object."""
    if not request.get_data(cache=True):
        if required:
            raise ApiError(400, "malformed_body", _("A JSON object is required in the request body."))
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested thousands deep: not a body anyone means to send
        data = None
    if data is None:
        raise ApiError(400, "malformed_body", _("The request body is not valid JSON."))
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_body", _("The request body must be a JSON object."))
    return _storable(data)


MAX_PAGE = 1_000_000


def page_number() -> int:
    """``?page=N`` of a list (1 when absent); 422 for anything but a whole number from 1 to :data:`MAX_PAGE`."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 7 or not 1 <= int(text) <= MAX_PAGE:
        raise ValidationFailed({"page": _("Expected a page number from 1 to %(max)s.", max=MAX_PAGE)})
    return int(text)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any) -> Any:
    """Text every database can store: NUL characters (meaningless, refused by PostgreSQL) are dropped, and lone
    surrogates (``"\\ud800"`` is valid JSON but not valid Unicode text) become U+FFFD. A whole number written with a
    fraction (``500.0``) is the integer it is, as JSON Schema counts it."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)
        return value
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


# Endpoints that take a file upload keep the app's MAX_CONTENT_LENGTH (sized for videos); every other API request
# body is JSON and is read only up to PUBLISHER_API_MAX_BODY_MB (413 above it, before anything reads it).
UPLOAD_ENDPOINTS = {"api.post_media"}


@bp.before_request
def _limit_body():  # type: ignore[no-untyped-def]
    if request.endpoint not in UPLOAD_ENDPOINTS:
        request.max_content_length = current_settings().api_max_body_mb * 1024 * 1024


@bp.before_request
def _authenticate():  # type: ignore[no-untyped-def]
    g.api_user = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "unauthorized", _("Send an API token as 'Authorization: Bearer TOKEN'."))
    user = user_for_token(token.strip())
    if user is None:
        return problem(401, "unauthorized", _("The API token is not valid or has been revoked."))
    g.api_user = user
    return None


@bp.after_request
def _commit(response):  # type: ignore[no-untyped-def]
    return commit_request(response, api=True)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):  # type: ignore[no-untyped-def]
    return problem(exc.status, exc.code, exc.message, **exc.extra)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
    from publisher.db import db

    extra: dict[str, Any] = dict(exc.details)
    if isinstance(exc, ValidationFailed):
        extra["fields"] = {k: [str(m) for m in v] for k, v in exc.fields.items()}
    if isinstance(exc, StaleEdit):
        from publisher.audit import record
        from web.api.serializers import post_json

        db.session.rollback()
        # The refused changes are kept in the audit log as well as echoed back: nothing the user sent is lost.
        try:
            record(g.api_user, "post.stale_edit", exc.post, submitted=exc.submitted)
            db.session.commit()
        except Exception:  # noqa: BLE001 - the answer (with the refused changes) matters more than the log entry
            db.session.rollback()
            log.exception("could not keep a refused stale edit in the audit log")
        extra["current"] = post_json(exc.post)
        extra["yours"] = exc.submitted
    return problem(exc.status, exc.code, str(exc.message), **extra)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
             415: "unsupported_media_type"}
    messages = {400: _("The request could not be understood."), 404: _("No such object or address."),
                405: _("This method is not allowed here."), 413: _("The request is too large."),
                415: _("This type of content is not accepted here.")}
    status = exc.code or 500
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods and not _path_exists(sorted(valid_methods)[0]):
        # Werkzeug answers 405 when only a converter refused the path (an id over the id range): nothing is there.
        status = 404
    response = problem(status, codes.get(status, "error"), messages.get(status, exc.description or exc.name))
    if status == 405 and valid_methods:  # RFC 9110: a 405 names the methods that are allowed
        response.headers["Allow"] = ", ".join(sorted(valid_methods))
    return response


def _path_exists(method: str) -> bool:
    try:
        current_app.url_map.bind_to_environ(request.environ).match(method=method)
    except HTTPException as exc:
        return exc.code != 404
    return True


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
    log.exception("unexpected API error")
    return problem(500, "internal_error", _("Something went wrong on the server; nothing was changed. "
                                            "The error has been logged."))


from web.api import (  # noqa: E402,F401
    campaigns,
    channels,
    deliveries,
    feeds,
    health,
    kits,
    media,
    openapi,
    posts,
    reports,
    units,
)
