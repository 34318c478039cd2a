"""Scheduling in the editorial UI: the schedule form, the calendar (month and week), a delivery's detail page
with its attempt history and "retry now", and the dashboard flag for overdue deliveries."""

from __future__ import annotations

from flask import Blueprint

from web.auth import editorial_blueprint

bp = Blueprint("schedule_ui", __name__, url_prefix="/admin")
editorial_blueprint(bp)  # signed in; one commit per request


from web.calendar_ui import views  # noqa: E402,F401
