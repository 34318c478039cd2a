"""The media library: upload (several files, progress shown by the page's script), captions, alt text."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from publisher.content import queries
from publisher.content.media import MAX_PIXELS, save_upload, update_media
from publisher.content.services import get_media
from publisher.errors import DomainError, ValidationFailed
from web import current_settings
from web.api.serializers import media_json
from web.editorial import bp
from web.editorial.helpers import require
from web.uploads import media_limits, upload_error_json


@bp.app_template_global()
def upload_limits() -> dict[str, object]:
    """What the upload script checks before a byte is sent (the server checks the same again on the first bytes):
    each kind's size limit, the pixel limit, and the messages it shows, in the user's language."""
    limits = media_limits()
    image_mb, video_mb = limits.max_image_bytes // (1024 * 1024), limits.max_video_bytes // (1024 * 1024)
    return {"max_image_bytes": limits.max_image_bytes, "max_video_bytes": limits.max_video_bytes,
            "max_pixels": MAX_PIXELS, "messages": {
                "image_too_large": _("The image is larger than the %(mb)s MB allowed.", mb=image_mb),
                "video_too_large": _("The video is larger than the %(mb)s MB allowed.", mb=video_mb),
                "not_media": _("This file is not an image or video Loa can use: use JPEG, PNG, WebP or GIF pictures, "
                               "or MP4, MOV, WebM, AVI or MPEG videos."),
                "too_many_pixels": _("The image is {w}×{h} pixels; at most %(mp)s megapixels are allowed.",
                                     mp=MAX_PIXELS // 1_000_000),
                "not_sent": _("Not sent."),
            }}


@bp.get("/media")
def media_index():  # type: ignore[no-untyped-def]
    return render_template("editorial/media.html", items=queries.media_library(current_user),
                           can_upload=current_user.has_role("editor"))


@bp.get("/media/library.json")
def media_library_json():  # type: ignore[no-untyped-def]
    return jsonify({"items": [media_json(item) for item in queries.media_library(current_user)]})


@bp.post("/media/upload")
def media_upload():  # type: ignore[no-untyped-def]
    """One file per request (the page sends several in turn, each with its own progress bar)."""
    require("editor")
    try:
        upload = request.files.get("file")  # checked as it arrives: web/uploads.py
        if upload is None or not upload.filename:
            raise ValidationFailed({"file": _("Choose a file to upload.")})
        item = save_upload(upload.stream, upload.filename, current_user, current_settings().media_dir, media_limits(),
                           caption=request.form.get("caption", ""), alt_text=request.form.get("alt_text", ""))
    except DomainError as exc:
        return upload_error_json(exc)
    return jsonify(media_json(item)), 201


@bp.post("/media/<int:media_id>")
def media_update(media_id: int):  # type: ignore[no-untyped-def]
    require("editor")
    item = get_media(media_id, current_user)
    update_media(item, current_user, caption=request.form.get("caption"), alt_text=request.form.get("alt_text"))
    flash(_("Caption and alt text saved."), "info")
    return redirect(url_for("editorial.media_index") + f"#media-{item.id}")
