from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from publisher.content.media import save_upload, update_media
from publisher.content.services import get_media
from publisher.errors import ValidationFailed
from web import current_settings
from web.api import api_user, bp, json_body
from web.api.serializers import media_json
from web.uploads import media_limits


@bp.post("/media")
def post_media():  # type: ignore[no-untyped-def]
    """Multipart upload, field ``file`` (+ optional ``caption``, ``alt_text``). Checked as it arrives
    (web/uploads.py): a Content-Length over the largest limit is 413 before the body is read, a file that is no
    picture or video 422 on its first bytes, a picture declared over the picture limit 413 on its first bytes."""
    if not request.mimetype.startswith("multipart/form-data"):
        raise ValidationFailed({"file": _("Send the file as multipart/form-data in the field 'file'.")})
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": _("Choose a file to upload.")})
    item = save_upload(upload.stream, upload.filename, api_user(), current_settings().media_dir, media_limits(),
                       caption=request.form.get("caption", ""), alt_text=request.form.get("alt_text", ""))
    response = jsonify(media_json(item))
    response.status_code = 201
    return response


@bp.get("/media/<int:media_id>")
def show_media(media_id: int):  # type: ignore[no-untyped-def]
    return jsonify(media_json(get_media(media_id, api_user())))


@bp.patch("/media/<int:media_id>")
def patch_media(media_id: int):  # type: ignore[no-untyped-def]
    data = json_body()
    item = get_media(media_id, api_user())
    for name in ("caption", "alt_text"):
        if name in data and not isinstance(data[name], str):
            raise ValidationFailed({name: _("Wrong type of value.")})
    return jsonify(media_json(update_media(item, api_user(), caption=data.get("caption"),
                                           alt_text=data.get("alt_text"))))
