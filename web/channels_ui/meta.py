"""Meta's required callbacks for the Facebook Login app (no sign-in, no CSRF token: Meta signs them instead).

- ``POST /facebook/deauthorize``: a person removed Loa on Facebook → their Pages' channels lose their tokens and
  need reconnecting; answers 200 ``{"ok": true}``.
- ``POST /facebook/data-deletion``: a person asks for their data to be deleted → their tokens are erased; answers
  ``{"url", "confirmation_code"}`` (Meta's "Data Deletion Request Callback", read 2026-12-02), the url being
- ``GET /facebook/data-deletion/<code>``: the human-readable status page.

Both POSTs verify ``signed_request`` (HMAC-SHA256 with the app secret): a bad signature is 403, a malformed or
missing one 400, an app without Facebook Login configured 404.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for

from publisher.channels import facebook_connect
from publisher.errors import Conflict, PermissionDenied, ValidationFailed
from web import csrf, current_settings
from web.tx import commit_request

bp = Blueprint("facebook_callbacks", __name__, url_prefix="/facebook")


@bp.after_request
def _commit(response):  # type: ignore[no-untyped-def]
    return commit_request(response, api=True)


def _problem(code: str, message: str, status: int):  # type: ignore[no-untyped-def]
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _payload():  # type: ignore[no-untyped-def]
    """The verified payload, or the 4xx answer."""
    try:
        return facebook_connect.parse_signed_request(current_settings(), request.form.get("signed_request")), None
    except Conflict:
        return None, _problem("not_configured", "Facebook Login is not configured on this Loa.", 404)
    except PermissionDenied:
        return None, _problem("bad_signature", "The signed_request signature does not match.", 403)
    except ValidationFailed as exc:
        return None, _problem("bad_request", str(exc.message), 400)


@bp.post("/deauthorize")
@csrf.exempt
def deauthorize():  # type: ignore[no-untyped-def]
    payload, problem = _payload()
    if problem is not None:
        return problem
    channels = facebook_connect.deauthorize(current_settings(), payload)
    return jsonify({"ok": True, "channels": len(channels)})


@bp.post("/data-deletion")
@csrf.exempt
def data_deletion():  # type: ignore[no-untyped-def]
    payload, problem = _payload()
    if problem is not None:
        return problem
    code = facebook_connect.delete_user_data(current_settings(), payload)
    return jsonify({"url": url_for("facebook_callbacks.data_deletion_status", code=code, _external=True),
                    "confirmation_code": code})


@bp.get("/data-deletion/<code>")
def data_deletion_status(code: str):  # type: ignore[no-untyped-def]
    status = facebook_connect.deletion_status(current_settings(), code)
    return render_template("channels/facebook_deletion.html", status=status, code=code), (200 if status else 404)
