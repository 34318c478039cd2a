"""Channel connections in the editorial UI (/admin/channels): list with state, connect, test, reconnect,
disconnect. Writes are for admins; every signed-in user may see the list. Also the kinds' colours as a stylesheet
(``/channel-kinds.css``, no sign-in: the sign-in page's loa.css imports it too)."""

from __future__ import annotations

from flask import Blueprint, Response

from web.auth import editorial_blueprint
from web.channel_look import STYLESHEET_PATH, kinds_stylesheet

bp = Blueprint("channels_ui", __name__, url_prefix="/admin/channels")
editorial_blueprint(bp)  # signed in; one commit per request


def channel_kinds_css() -> Response:
    response = Response(kinds_stylesheet(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.record_once
def _serve_kinds_stylesheet(state) -> None:  # type: ignore[no-untyped-def]
    """Outside the blueprint's /admin/ prefix and its sign-in rule: every page's stylesheet imports it."""
    state.app.add_url_rule(STYLESHEET_PATH, "channel_kinds_css", channel_kinds_css, methods=["GET"])


from web.channels_ui import views  # noqa: E402,F401
