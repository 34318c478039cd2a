"""Connecting a YouTube channel: Google's OAuth 2 web flow, for admins, under /admin/channels/youtube/."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from publisher.accounts.services import get_unit
from publisher.channels.youtube_connect import finish_youtube_connect, start_youtube_connect
from publisher.errors import ValidationFailed
from web import current_settings
from web.tx import commit_request

bp = Blueprint("youtube_oauth", __name__, url_prefix="/admin/channels/youtube")
SESSION_KEY = "youtube_oauth"


@bp.after_request
def _commit(response):  # type: ignore[no-untyped-def]
    return commit_request(response, api=False)


def _callback_url() -> str:
    return url_for("youtube_oauth.callback", _external=True)


def _back() -> str:
    from flask import current_app

    if "channels_ui.index" in current_app.view_functions:
        return url_for("channels_ui.index")
    return url_for("editorial.dashboard")


@bp.get("/connect")
@login_required
def connect():  # type: ignore[no-untyped-def]
    """Send the admin to Google's consent page; ``?unit_id=`` picks the unit the channel will belong to."""
    unit_id = request.args.get("unit_id", type=int) or current_user.unit_id
    start = start_youtube_connect(current_settings(), current_user, get_unit(unit_id), _callback_url())
    session[SESSION_KEY] = {"state": start.state, "verifier": start.code_verifier, "unit_id": unit_id}
    return redirect(start.url)


@bp.get("/callback")
@login_required
def callback():  # type: ignore[no-untyped-def]
    pending = session.pop(SESSION_KEY, None) or {}
    if request.args.get("error"):
        flash(_("Google did not grant access: %(error)s", error=request.args["error"]), "error")
        return redirect(_back())
    unit = get_unit(int(pending.get("unit_id") or current_user.unit_id))
    try:
        channel = finish_youtube_connect(
            current_settings(), current_user, unit, _callback_url(), code=request.args.get("code", ""),
            state=request.args.get("state", ""), expected_state=pending.get("state"),
            code_verifier=pending.get("verifier"))
    except ValidationFailed as exc:
        for messages in exc.fields.values():
            for message in messages:
                flash(str(message), "error")
        return redirect(_back())
    flash(_("YouTube channel “%(name)s” is connected.", name=channel.name), "success")
    return redirect(_back())
