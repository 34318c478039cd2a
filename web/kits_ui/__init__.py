"""Campaign kits in the editorial UI: the inbox of kits received, sending a kit, and the sender's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from publisher.accounts.models import Unit
from publisher.content.models import Post
from publisher.content.queries import visible_campaigns
from publisher.content.services import get_campaign
from publisher.db import db, utcnow
from publisher.errors import ValidationFailed
from publisher.hierarchy.services import adopt_kit, get_kit, kit_progress, kits_for, send_kit, suggested_time_of
from web import current_settings
from web.auth import editorial_blueprint

bp = Blueprint("kits", __name__, url_prefix="/admin/kits")
editorial_blueprint(bp)


@bp.app_template_global("kit_suggested_at")
def kit_suggested_at(post: Post | None, upcoming: bool = False) -> datetime | None:
    """For a draft adopted from a kit: the time the sender suggested for it (``upcoming``: only if still ahead)."""
    at = suggested_time_of(post) if post is not None and post.id is not None else None
    if at is not None and upcoming and at <= utcnow():
        return None
    return at


# Only approved posts go down to other units: a kit is what the sending unit stands behind.
def kit_refusal(post: Post) -> str | None:
    """Why ``post`` cannot be sent in a kit (said next to it in the form), or None when it can."""
    if post.state == "draft":
        return _("A draft has not been approved yet: send it for review and have it approved first.")
    if post.state == "in_review":
        return _("Waiting for review: it can be sent once it is approved.")
    return None


@bp.get("/")
def inbox():  # type: ignore[no-untyped-def]
    sendable = [c for c in visible_campaigns(current_user) if c.unit_id == current_user.unit_id] \
        if current_user.has_role("editor") else []
    return render_template("kits/inbox.html", kits=kits_for(current_user), campaigns=sendable)


@bp.route("/new/<int:campaign_id>", methods=["GET", "POST"])
def new(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = get_campaign(campaign_id, current_user)
    posts = db.session.scalars(select(Post).where(Post.unit_id == campaign.unit_id)
                               .order_by(Post.campaign_id != campaign.id, Post.updated_at.desc()).limit(200)).all()
    units = db.session.scalars(select(Unit).where(Unit.path.startswith(campaign.unit.path),
                                                  Unit.id != campaign.unit_id).order_by(Unit.path)).all()
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        data = {"post_ids": [int(i) for i in form.getlist("post_ids") if i.isdigit()],
                "deadline": form.get("deadline") or None}
        if form.get("all_below"):
            data["all_below"] = True
        else:
            data["unit_ids"] = [int(i) for i in form.getlist("unit_ids") if i.isdigit()]
        # One <input type="datetime-local" name="suggested_at_ID"> per post: the organisation's local time.
        schedule = [{"post_id": post.id, "at": form[f"suggested_at_{post.id}"].strip()} for post in posts
                    if form.get(f"suggested_at_{post.id}", "").strip()]
        if schedule:
            data["schedule"] = schedule
        by_id = {post.id: post for post in posts}
        refused = [(by_id[i], kit_refusal(by_id[i])) for i in data["post_ids"] if i in by_id and kit_refusal(by_id[i])]
        try:
            if refused:
                raise ValidationFailed({"post_ids": [_("“%(title)s”: %(reason)s", title=post.title, reason=reason)
                                                     for post, reason in refused]})
            kit = send_kit(current_user, campaign, data, current_settings())
        except ValidationFailed as exc:
            errors = {_form_field(k, schedule): [str(m) for m in v] for k, v in exc.fields.items()}
        else:
            flash(_("The kit was sent to %(n)s units.", n=len(kit.recipients)), "success")
            return redirect(url_for("kits.progress", kit_id=kit.id))
    return render_template("kits/new.html", campaign=campaign, posts=posts, units=units, errors=errors, form=form,
                           refusals={post.id: kit_refusal(post) for post in posts}), (
        422 if errors else 200)


def _form_field(field: str, schedule: list[dict[str, Any]]) -> str:
    """``schedule.N.at`` (the service's name) -> ``suggested_at_ID``, the input the sender typed it in."""
    parts = field.split(".")
    if parts[0] == "schedule" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(schedule):
        return f"suggested_at_{schedule[int(parts[1])]['post_id']}"
    return field


@bp.post("/<int:kit_id>/adopt")
def adopt(kit_id: int):  # type: ignore[no-untyped-def]
    posts = adopt_kit(get_kit(kit_id, current_user), current_user)
    flash(_("%(n)s drafts are ready in your unit: adapt them for your members.", n=len(posts)), "success")
    return redirect(url_for("kits.inbox"))


@bp.get("/<int:kit_id>")
def progress(kit_id: int):  # type: ignore[no-untyped-def]
    kit = get_kit(kit_id, current_user)
    today = datetime.now(current_settings().zone).date()
    rows = kit_progress(kit, current_user, today)
    posts = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(kit.post_ids)))}
    return render_template("kits/progress.html", kit=kit, rows=rows, posts=posts)
