"""Channel connections in the editorial UI (/admin/channels): list with state, connect, test, reconnect,
disconnect. Writes are for admins; every signed-in user may see the list."""

from __future__ import annotations

from flask import Blueprint

from web.auth import editorial_blueprint

bp = Blueprint("channels_ui", __name__, url_prefix="/admin/channels")
editorial_blueprint(bp)  # signed in; one commit per request


from web.channels_ui import views  # noqa: E402,F401
