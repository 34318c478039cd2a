"""The periodic retention job (declared in ``publisher.scheduler.periodic.PERIODIC_JOBS``), run by a worker."""

from __future__ import annotations

import logging

from flask import current_app

from publisher.db import db
from publisher.privacy.services import RetentionResult
from publisher.privacy.services import apply_retention as apply_retention_now
from publisher.settings import Settings

log = logging.getLogger(__name__)


def apply_retention() -> dict[str, int]:
    """Apply the retention periods once and commit; idempotent (what was done is not done again)."""
    settings: Settings = current_app.extensions["publisher.settings"]
    try:
        result: RetentionResult = apply_retention_now(settings)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if result.anything:
        log.info("retention applied: %s", result.as_dict())
    return result.as_dict()
