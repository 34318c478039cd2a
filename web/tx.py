"""One commit per request, at its edge: a successful answer commits, an error answer rolls back."""

from __future__ import annotations

import logging

from flask import Response, jsonify
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError, OperationalError

from publisher.db import db

log = logging.getLogger(__name__)


def commit_request(response: Response, *, api: bool) -> Response:
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.warning("integrity error on commit", exc_info=True)
        if api:
            body = {"error": {"code": "conflict",
                              "message": _("This change conflicts with another one; reload and try again.")}}
            return _json(body, 409)
        raise
    except OperationalError:
        db.session.rollback()
        log.exception("database unavailable on commit")
        if api:
            body = {"error": {"code": "database_unavailable",
                              "message": _("The database is not answering; nothing was saved. Try again shortly.")}}
            return _json(body, 503)
        raise
    return response


def _json(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
