from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from publisher.accounts.services import authenticate
from publisher.content.models import Post
from publisher.db import db
from web.editorial import bp, login_exempt
from web.editorial.forms import LoginForm


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("editorial.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@login_exempt
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("editorial.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            session.permanent = True
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        error = _("The e-mail address or password is not correct.")
    status = 200 if request.method == "GET" or not (form.errors or error) else 400
    return render_template("editorial/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    return redirect(url_for("editorial.login"))


@bp.get("/")
def dashboard():  # type: ignore[no-untyped-def]
    drafts = db.session.scalars(
        select(Post).where(Post.author_id == current_user.id, Post.state == "draft").order_by(Post.updated_at.desc())
    ).all()
    return render_template("editorial/dashboard.html", drafts=drafts)
