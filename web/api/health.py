from __future__ import annotations

from flask import jsonify
from sqlalchemy import text

from publisher.db import db
from publisher.queue import redis_connection
from web import current_settings
from web.api import bp


@bp.get("/health")
def health():  # type: ignore[no-untyped-def]
    """Database and queue reachability (no token needed); 503 when either is down."""
    body = {"status": "ok", "database": "ok", "queue": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "down", said in the body
        db.session.rollback()
        body["database"] = f"error: {exc.__class__.__name__}"
    try:
        redis_connection(current_settings()).ping()
    except Exception as exc:  # noqa: BLE001
        body["queue"] = f"error: {exc.__class__.__name__}"
    ok = body["database"] == "ok" and body["queue"] == "ok"
    body["status"] = "ok" if ok else "error"
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    return response
