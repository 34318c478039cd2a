"""The editorial web UI under /admin/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, request
from flask_login import current_user

from web import login_manager  # noqa: E402
from web.tx import commit_request

bp = Blueprint("editorial", __name__, url_prefix="/admin")


def login_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as reachable without signing in (the sign-in page itself)."""
    view.login_exempt = True  # type: ignore[attr-defined]
    return view


@bp.before_request
def _signed_in():  # type: ignore[no-untyped-def]
    """Every /admin/ page needs a signed-in user, except the sign-in page itself."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "login_exempt", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _commit(response):  # type: ignore[no-untyped-def]
    return commit_request(response, api=False)


from web.editorial import views  # noqa: E402,F401
