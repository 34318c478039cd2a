from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from publisher.accounts.services import get_unit, has_role_in
from publisher.channels import facebook_connect as facebook_connect_service
from publisher.channels import services
from publisher.channels.base import descriptions
from publisher.errors import ValidationFailed
from web import current_settings
from web.channels_ui import bp
from web.channels_ui.forms import connect_form, reconnect_form


def kind_labels() -> dict[str, str]:
    return {kind: str(d.label) for kind, d in descriptions().items()}


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
    """The channels, each with what its kind's description reports (quota, token health), and the connect
    buttons: a form per kind, and the platforms' own sign-in where the description offers one that is set up."""
    settings = current_settings()
    described = descriptions()
    rows = [{"channel": c, "quota": services.quota_for(c, settings), "health": services.token_health(c),
             "can_manage": has_role_in(current_user, "admin", c.unit)}
            for c in services.list_channels(current_user)]
    sign_ins = {kind: d.sign_in for kind, d in described.items()
                if d.sign_in is not None and d.sign_in.configured(settings)}
    return render_template("channels/index.html", rows=rows, kinds=list(described), labels=kind_labels(),
                           described=described, sign_ins=sign_ins,
                           reconnectable={kind for kind in described if reconnect_form(kind) is not None},
                           is_admin=has_role_in(current_user, "admin", current_user.unit))


@bp.route("/new/<kind>", methods=["GET", "POST"])
def connect(kind: str):  # type: ignore[no-untyped-def]
    form_class = connect_form(kind)
    if form_class is None:
        abort(404)
    if not has_role_in(current_user, "admin", current_user.unit):
        abort(403)
    form = form_class()
    status, problems = 200, []
    if form.validate_on_submit():
        try:
            channel = services.create_channel(current_user, {"kind": kind, "name": form.name.data,
                                                             "settings": _form_data(form)}, current_settings())
        except ValidationFailed as exc:
            problems = _show_errors(form, exc)
            status = 422
        else:
            services.after_connect(channel, current_settings())
            flash(_("The channel %(name)s is connected.", name=channel.name), "success")
            return redirect(url_for("channels_ui.index"))
    elif form.is_submitted():
        status = 422
    return render_template("channels/connect.html", form=form, kind=kind, label=kind_labels()[kind],
                           hint=descriptions()[kind].connect_hint,
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
    form_class = reconnect_form(channel.kind)
    if form_class is None:
        abort(404)
    form = form_class()
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
                           label=kind_labels().get(channel.kind, channel.kind), problems=problems), status


@bp.post("/<int:channel_id>/disconnect")
def disconnect(channel_id: int):  # type: ignore[no-untyped-def]
    channel = services.get_channel(channel_id, current_user)
    services.disconnect_channel(channel, current_user, current_settings())
    flash(_("The channel %(name)s is disconnected; its credentials were deleted.", name=channel.name), "success")
    return redirect(url_for("channels_ui.index"))


# --- Facebook Login for Pages --------------------------------------------------------------------------------

LOGIN_KEY = "facebook_login"  # the dialog's state, bound to this session, used once
PICK_KEY = "facebook_pages"  # the signed-in person's long-lived token (encrypted) until Pages are picked


def _facebook_callback_url() -> str:
    return url_for("channels_ui.facebook_callback", _external=True)


def _login_problem(message: Any, status: int = 400):  # type: ignore[no-untyped-def]
    return render_template("channels/facebook_problem.html", message=message), status


@bp.get("/facebook/connect")
def facebook_connect():  # type: ignore[no-untyped-def]
    """Send the admin to Facebook Login's dialog; ``?channel_id=`` reconnects that channel, ``?unit_id=`` picks
    the unit new channels belong to."""
    settings = current_settings()
    channel_id = request.args.get("channel_id", type=int)
    channel = facebook_connect_service.visible_channel(current_user, channel_id) if channel_id else None
    unit = channel.unit if channel is not None else get_unit(request.args.get("unit_id", type=int)
                                                             or current_user.unit_id)
    if not has_role_in(current_user, "admin", unit):
        abort(403)
    if not facebook_connect_service.login_configured(settings):
        return _login_problem(_("Facebook Login is not configured: set PUBLISHER_FACEBOOK_APP_ID and "
                                "PUBLISHER_FACEBOOK_APP_SECRET (see the README's “Meta app set-up”)."), 409)
    start = facebook_connect_service.start_facebook_login(settings, current_user, unit, _facebook_callback_url())
    session.pop(PICK_KEY, None)
    session[LOGIN_KEY] = {"state": start.state, "unit_id": unit.id, "channel_id": channel.id if channel else None}
    return redirect(start.url)


@bp.get("/facebook/callback")
def facebook_callback():  # type: ignore[no-untyped-def]
    pending_login = session.pop(LOGIN_KEY, None) or {}  # single use: a replayed answer finds no state
    settings = current_settings()
    unit = get_unit(int(pending_login.get("unit_id") or current_user.unit_id))
    try:
        pending = facebook_connect_service.finish_facebook_login(
            settings, current_user, unit, _facebook_callback_url(), args=request.args,
            expected_state=pending_login.get("state"))
    except ValidationFailed as exc:
        return _login_problem(exc.message)
    session[PICK_KEY] = {"pending": pending.seal(settings), "unit_id": unit.id,
                         "channel_id": pending_login.get("channel_id")}
    return redirect(url_for("channels_ui.facebook_pages"))


@bp.route("/facebook/pages", methods=["GET", "POST"])
def facebook_pages():  # type: ignore[no-untyped-def]
    """The Page picker: the person's Pages, those Loa cannot publish to shown but not selectable."""
    settings = current_settings()
    picking = session.get(PICK_KEY) or {}
    pending = facebook_connect_service.PendingLogin.unseal(settings, picking.get("pending"))
    if pending is None:
        return _login_problem(_("This Facebook sign-in has ended. Nothing was connected: start again."))
    unit = get_unit(int(picking.get("unit_id") or current_user.unit_id))
    reconnect = (facebook_connect_service.visible_channel(current_user, int(picking["channel_id"]))
                 if picking.get("channel_id") else None)
    problems: list[Any] = []
    status = 200
    if request.method == "POST":
        try:
            connected = facebook_connect_service.connect_pages(
                settings, current_user, unit, pending, request.form.getlist("page_id"), reconnect=reconnect)
        except ValidationFailed as exc:
            problems = [m for messages in exc.fields.values() for m in messages]
            status = 422
        else:
            session.pop(PICK_KEY, None)
            flash(_("Connected with Facebook Login: %(names)s.", names=", ".join(c.name for c in connected)),
                  "success")
            if pending.declined:
                flash(facebook_connect_service.declined_sentence(pending.declined), "warning")
            return redirect(url_for("channels_ui.index"))
    try:
        pages = facebook_connect_service.list_pages(settings, pending)
    except ValidationFailed as exc:
        return _login_problem(exc.message)
    return render_template("channels/facebook_pages.html", pages=pages, pending=pending, reconnect=reconnect,
                           unit=unit, problems=problems,
                           declined=facebook_connect_service.declined_sentence(pending.declined),
                           task_uses=facebook_connect_service.TASK_USES), status


@bp.app_template_global("facebook_token_warnings")
def facebook_token_warnings() -> list[Any]:
    """For the dashboard's slot: admins' Facebook channels whose token or data access ends soon."""
    if not current_user.is_authenticated or not has_role_in(current_user, "admin", current_user.unit):
        return []
    return facebook_connect_service.expiring_channels(current_user)


# --- platform sign-in for any kind whose adapter offers it (authorization_url / exchange_code): Zalo OAs -----------

OAUTH_KEY = "channel_oauth"  # the sign-in's state (and PKCE verifier), bound to this session, used once


def _oauth_problem(kind: str, message: Any, status: int = 400):  # type: ignore[no-untyped-def]
    return render_template("channels/oauth_problem.html", kind=kind, label=kind_labels().get(kind, kind),
                           message=message), status


@bp.get("/<kind>/connect")
def oauth_connect(kind: str):  # type: ignore[no-untyped-def]
    """Send the admin to the platform's sign-in; ``?channel_id=`` reconnects that channel, ``?unit_id=`` picks the
    unit a new channel belongs to."""
    cls = services.oauth_adapter(kind)
    if cls is None:
        abort(404)
    settings = current_settings()
    channel_id = request.args.get("channel_id", type=int)
    channel = services.get_channel(channel_id, current_user) if channel_id else None
    unit = channel.unit if channel is not None else get_unit(request.args.get("unit_id", type=int)
                                                             or current_user.unit_id)
    if not has_role_in(current_user, "admin", unit):
        abort(403)
    if not cls.oauth_configured(settings):
        return _oauth_problem(kind, _("Signing in with %(label)s is not configured (see the README's settings).",
                                      label=kind_labels().get(kind, kind)), 409)
    url, kept = cls.authorization_url(settings, url_for("channels_ui.oauth_callback", kind=kind, _external=True))
    session[OAUTH_KEY] = {**kept, "kind": kind, "unit_id": unit.id, "channel_id": channel.id if channel else None}
    return redirect(url)


@bp.get("/<kind>/callback")
def oauth_callback(kind: str):  # type: ignore[no-untyped-def]
    cls = services.oauth_adapter(kind)
    if cls is None:
        abort(404)
    kept = session.pop(OAUTH_KEY, None) or {}  # single use: a replayed answer finds no state
    if kept.get("kind") != kind:
        kept = {}
    settings = current_settings()
    unit = get_unit(int(kept.get("unit_id") or current_user.unit_id))
    if not has_role_in(current_user, "admin", unit):
        abort(403)
    channel = services.get_channel(int(kept["channel_id"]), current_user) if kept.get("channel_id") else None
    try:
        connected = cls.exchange_code(settings, request.args.to_dict(), kept)
        channel = services.connect_with_oauth(current_user, kind, connected, settings, unit, channel)
    except ValidationFailed as exc:
        return _oauth_problem(kind, exc.message if not exc.fields else
                              " ".join(str(m) for messages in exc.fields.values() for m in messages))
    flash(_("The channel %(name)s is connected.", name=channel.name), "success")
    return redirect(url_for("channels_ui.index"))
