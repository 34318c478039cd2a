"""Moderation of readers' comments on the public website, in the editorial UI at /admin/comments."""

from __future__ import annotations

from flask import Blueprint

from web.auth import editorial_blueprint

bp = Blueprint("moderation", __name__, url_prefix="/admin/comments")
editorial_blueprint(bp)  # signed in; one commit per request


from web.moderation import views  # noqa: E402,F401
