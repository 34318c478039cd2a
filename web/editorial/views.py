"""Signing in and out, the dashboard, the user's own profile and password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from publisher.accounts.services import authenticate, change_password
from publisher.accounts.throttle import clear_failures, is_throttled, record_failure
from publisher.content import queries
from publisher.db import db
from publisher.errors import ValidationFailed
from publisher.scheduler import queries as scheduler_queries
from web.editorial import bp, login_exempt
from web.editorial.forms import LoginForm, PasswordForm, ProfileForm
from web.editorial.helpers import add_field_errors


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("editorial.dashboard")


def _fresh_session() -> None:
    """Start a new session (no state carries over a sign-in or sign-out); a new form token comes with it."""
    session.clear()
    g.pop("csrf_token", None)


def _client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
@login_exempt
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("editorial.dashboard"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        email = form.email.data or ""
        if is_throttled(email, _client_ip()):
            error = _("Too many failed sign-in attempts. Wait 15 minutes and try again.")
            status = 429
        else:
            user = authenticate(email, form.password.data or "")
            if user is not None:
                clear_failures(email, _client_ip())
                _fresh_session()
                session.permanent = True
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            record_failure(email, _client_ip())
            db.session.commit()  # the failure counts even though this answer is an error
            error = _("The e-mail address or password is not correct.")
            status = 400
    elif request.method == "POST":
        status = 400
    return render_template("editorial/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    _fresh_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("editorial.login"))


@bp.get("/")
def dashboard():  # type: ignore[no-untyped-def]
    return render_template(
        "editorial/dashboard.html",
        drafts=queries.my_drafts(current_user),
        queue=queries.review_queue(current_user, limit=20),
        approved=scheduler_queries.approved_unscheduled(current_user),
        recent=queries.recently_changed(current_user),
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():  # type: ignore[no-untyped-def]
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.name = (form.name.data or "").strip()
        current_user.locale = form.locale.data if form.locale.data in ("vi", "en") else "vi"
        flash(_("Your settings are saved."), "info")
        return redirect(url_for("editorial.profile"))
    status = 400 if request.method == "POST" else 200
    return render_template("editorial/profile.html", form=form), status


@bp.route("/password", methods=["GET", "POST"])
def password():  # type: ignore[no-untyped-def]
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current_password.data or "", form.new_password.data or "")
        except ValidationFailed as exc:
            add_field_errors(form, exc)
        else:
            # The password change ends every other session; this one continues under the new epoch.
            login_user(current_user._get_current_object())  # type: ignore[attr-defined]
            flash(_("Your password is changed."), "info")
            return redirect(url_for("editorial.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("editorial/password.html", form=form), status
