"""Reports for leadership under /admin/reports: dashboard, campaign report, comments inbox, exports."""

from __future__ import annotations

from flask import Blueprint

from web.auth import editorial_blueprint

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")
editorial_blueprint(bp)  # signed in; one commit per request


from web.reports import views  # noqa: E402,F401
