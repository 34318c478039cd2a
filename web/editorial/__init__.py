"""The editorial web UI under /admin/.

Other areas add their pages as their own blueprints whose templates extend ``editorial/base.html``; they add one
``<li>`` to its nav and may fill the dashboard slots (``editorial/slots/*.html``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from web import login_manager  # noqa: E402
from web.tx import commit_request

bp = Blueprint("editorial", __name__, url_prefix="/admin")


def login_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as reachable without signing in (the sign-in page itself)."""
    view.login_exempt = True  # type: ignore[attr-defined]
    return view


def wants_json() -> bool:
    """Scripts of the editorial UI ask for JSON; they get JSON answers (401 instead of a redirect)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


@bp.before_request
def _signed_in():  # type: ignore[no-untyped-def]
    """Every /admin/ page needs a signed-in user, except the sign-in page itself."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "login_exempt", False):
        return None
    if not current_user.is_authenticated:
        if wants_json():
            body = {"error": {"code": "unauthenticated",
                              "message": _("Your session has ended. Sign in again; your draft is kept.")}}
            return jsonify(body), 401
        return login_manager.unauthorized()
    return None


@bp.app_errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
    """A refused form token. Scripts of the editorial UI get JSON: 401 once the session has ended (the token lived
    in it), so that the page can ask to sign in again and keep the draft."""
    if request.path.startswith("/admin") and wants_json():
        if not current_user.is_authenticated:
            return jsonify({"error": {"code": "unauthenticated",
                                      "message": _("Your session has ended. Sign in again; your draft is kept.")}}), 401
        return jsonify({"error": {"code": "csrf", "message": _("The page has expired. Reload it; your draft is kept "
                                                                "in this browser.")}}), 400
    if request.path.startswith("/api/"):
        from web.api import _http_error

        return _http_error(exc)
    message = _("The form has expired or was not sent from this site. Reload the page and try again; "
                "what you typed is still in the page.")
    return render_template("errors/error.html", status=400, title=_("The request could not be understood"),
                           message=message), 400


@bp.after_request
def _commit(response):  # type: ignore[no-untyped-def]
    response.headers.setdefault("Cache-Control", "no-store")
    return commit_request(response, api=False)


from web.editorial import admin, media, posts, views  # noqa: E402,F401
