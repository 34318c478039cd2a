"""Reports for leadership under /admin/reports: dashboard, campaign report, comments inbox, exports."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from web import login_manager
from web.tx import commit_request

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")


@bp.before_request
def _signed_in():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _commit(response):  # type: ignore[no-untyped-def]
    return commit_request(response, api=False)


from web.reports import views  # noqa: E402,F401
