"""Editorial pages for news sources: /admin/sources (admins manage sources) and /admin/items (the inbox)."""

from __future__ import annotations

from flask import Blueprint

from web.auth import editorial_blueprint

bp = Blueprint("feeds_ui", __name__, url_prefix="/admin")
editorial_blueprint(bp)  # signed in; one commit per request


from web.feeds_ui import views  # noqa: E402,F401
