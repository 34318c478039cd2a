from __future__ import annotations

from flask import abort, render_template, send_file

from publisher.content.media import media_path
from web import current_settings
from web.public import bp


@bp.get("/")
def front_page():  # type: ignore[no-untyped-def]
    return render_template("public/front.html", articles=[])


@bp.get("/media/<path:path>")
def media_file(path: str):  # type: ignore[no-untyped-def]
    settings = current_settings()
    try:
        full = media_path(settings.media_dir, path)
    except ValueError:
        abort(404)
    if not full.is_file():
        abort(404)
    return send_file(full, conditional=True, max_age=30 * 24 * 3600)
