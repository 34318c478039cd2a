from __future__ import annotations

import json
import time

from flask import current_app, jsonify
from sqlalchemy import func, select, text

from publisher.db import db, utcnow
from publisher.queue import QUEUE_NAMES, get_queue, redis_connection
from web import current_settings
from web.api import bp

STARTED_KEY = "publisher.started_at"


@bp.record_once
def _remember_start(state) -> None:  # type: ignore[no-untyped-def]
    state.app.extensions.setdefault(STARTED_KEY, time.time())


def _oldest_overdue() -> dict | None:
    from publisher.scheduler.models import Delivery
    from publisher.scheduler.pipeline import due_filter

    now = utcnow()
    row = db.session.execute(select(Delivery.id, Delivery.scheduled_at).where(*due_filter(now))
                             .order_by(Delivery.scheduled_at).limit(1)).first()
    stuck = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "publishing"))
    if row is None:
        return {"delivery_id": None, "overdue_seconds": 0, "publishing": stuck}
    return {"delivery_id": row[0], "scheduled_at": row[1].isoformat(),
            "overdue_seconds": round((now - row[1]).total_seconds(), 1), "publishing": stuck}


@bp.get("/health")
def health():  # type: ignore[no-untyped-def]
    """Database and queue reachability, and proof that workers consume (no token needed); 503 when down.

    ``queue`` is "ok" only while the workers' heartbeat job has run recently (or the process has just started):
    a queue nobody consumes is not healthy, however reachable Redis is."""
    settings = current_settings()
    body: dict = {"status": "ok", "database": "ok", "queue": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        body["oldest_overdue"] = _oldest_overdue()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", said in the body
        db.session.rollback()
        body["database"] = f"error: {exc.__class__.__name__}"
    try:
        conn = redis_connection(settings)
        conn.ping()
        body["queue_depth"] = {name: get_queue(settings, name).count for name in QUEUE_NAMES}
        raw = conn.get("loa:heartbeat")
        beat = json.loads(raw)["at"] if raw else None
        now = time.time()
        started = current_app.extensions.get(STARTED_KEY, now)
        body["heartbeat_at"] = beat
        body["heartbeat_age_seconds"] = round(now - beat, 1) if beat else None
        grace = settings.heartbeat_grace_seconds
        if (beat is None or now - beat > grace) and now - started > grace:
            body["queue"] = "error: no worker has run the heartbeat job recently"
    except Exception as exc:  # noqa: BLE001
        body["queue"] = f"error: {exc.__class__.__name__}"
    ok = body["database"] == "ok" and body["queue"] == "ok"
    body["status"] = "ok" if ok else "error"
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    return response
