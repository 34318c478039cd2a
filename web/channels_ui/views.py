from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from publisher.accounts.services import has_role_in
from publisher.channels import services
from publisher.errors import ValidationFailed
from web import current_settings
from web.channels_ui import bp
from web.channels_ui.forms import FORMS, RECONNECT_FORMS

KIND_LABELS = {"website": "Website", "facebook": "Facebook Page", "youtube": "YouTube"}


def _form_data(form: Any) -> dict[str, Any]:
    return {f.name: f.data for f in form if f.name not in ("csrf_token", "name") and f.data not in (None, "")}


def _show_errors(form: Any, exc: ValidationFailed) -> list[str]:
    """Put the service's field problems on the form's fields; answer those that fit no field."""
    general: list[str] = []
    for key, messages in exc.fields.items():
        field = form._fields.get(key.removeprefix("settings."))
        if field is None:
            general.extend(str(m) for m in messages)
        else:
            field.errors = list(field.errors) + [str(m) for m in messages]
    return general


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    settings = current_settings()
    channels = services.list_channels(current_user)
    rows = [{"channel": c, "quota": services.quota_for(c, settings),
             "can_manage": has_role_in(current_user, "admin", c.unit)} for c in channels]
    return render_template("channels/index.html", rows=rows, kinds=services.KINDS, labels=KIND_LABELS,
                           is_admin=has_role_in(current_user, "admin", current_user.unit),
                           google_ready=bool(settings.google_client_id and settings.google_client_secret))


@bp.route("/new/<kind>", methods=["GET", "POST"])
def connect(kind: str):  # type: ignore[no-untyped-def]
    if kind not in FORMS:
        abort(404)
    if not has_role_in(current_user, "admin", current_user.unit):
        abort(403)
    form = FORMS[kind]()
    status, problems = 200, []
    if form.validate_on_submit():
        try:
            channel = services.create_channel(current_user, {"kind": kind, "name": form.name.data,
                                                             "settings": _form_data(form)}, current_settings())
        except ValidationFailed as exc:
            problems = _show_errors(form, exc)
            status = 422
        else:
            flash(_("The channel %(name)s is connected.", name=channel.name), "success")
            return redirect(url_for("channels_ui.index"))
    elif form.is_submitted():
        status = 422
    return render_template("channels/connect.html", form=form, kind=kind, label=KIND_LABELS[kind],
                           problems=problems), status


@bp.post("/<int:channel_id>/test")
def test(channel_id: int):  # type: ignore[no-untyped-def]
    channel = services.get_channel(channel_id, current_user)
    status = services.check_channel(channel, current_settings(), actor=current_user)
    flash(status.message if status.ok else _("Test failed: %(reason)s", reason=status.message),
          "success" if status.ok else "error")
    return redirect(url_for("channels_ui.index"))


@bp.route("/<int:channel_id>/reconnect", methods=["GET", "POST"])
def reconnect(channel_id: int):  # type: ignore[no-untyped-def]
    channel = services.get_channel(channel_id, current_user)
    if not has_role_in(current_user, "admin", channel.unit):
        abort(403)
    if channel.kind not in RECONNECT_FORMS:
        abort(404)
    form = RECONNECT_FORMS[channel.kind]()
    status, problems = 200, []
    if form.validate_on_submit():
        try:
            services.update_channel(channel, current_user, {"settings": _form_data(form)}, current_settings())
        except ValidationFailed as exc:
            problems = _show_errors(form, exc)
            status = 422
        else:
            flash(_("The channel %(name)s is connected again.", name=channel.name), "success")
            return redirect(url_for("channels_ui.index"))
    elif form.is_submitted():
        status = 422
    return render_template("channels/reconnect.html", form=form, channel=channel,
                           label=KIND_LABELS.get(channel.kind, channel.kind), problems=problems), status


@bp.post("/<int:channel_id>/disconnect")
def disconnect(channel_id: int):  # type: ignore[no-untyped-def]
    channel = services.get_channel(channel_id, current_user)
    services.disconnect_channel(channel, current_user, current_settings())
    flash(_("The channel %(name)s is disconnected; its credentials were deleted.", name=channel.name), "success")
    return redirect(url_for("channels_ui.index"))
