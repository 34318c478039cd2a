"""Scheduling in the editorial UI: the schedule form, the calendar (month and week), a delivery's detail page
with its attempt history and "retry now", and the dashboard flag for overdue deliveries."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from web import login_manager
from web.tx import commit_request

bp = Blueprint("schedule_ui", __name__, url_prefix="/admin")


@bp.before_request
def _signed_in():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _commit(response):  # type: ignore[no-untyped-def]
    return commit_request(response, api=False)


from web.calendar_ui import views  # noqa: E402,F401
