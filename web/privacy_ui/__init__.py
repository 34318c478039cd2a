"""Personal data requests (see, export, erase one person's data) and the retention periods, at /admin/privacy."""

from __future__ import annotations

from flask import Blueprint

from web.auth import editorial_blueprint

bp = Blueprint("privacy_ui", __name__, url_prefix="/admin/privacy")
editorial_blueprint(bp)  # signed in; one commit per request


from web.privacy_ui import views  # noqa: E402,F401
