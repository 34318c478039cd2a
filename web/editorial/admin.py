"""Campaigns, organisation units and users."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from publisher.accounts import admin as accounts_admin
from publisher.accounts import services as accounts
from publisher.content import queries
from publisher.content import services as content
from publisher.errors import Conflict, ValidationFailed
from web.editorial import bp
from web.editorial.forms import CampaignForm, UnitForm, UserCreateForm, UserEditForm
from web.editorial.helpers import add_field_errors, require

# --- campaigns ---------------------------------------------------------------------------------------------


@bp.get("/campaigns")
def campaign_list():  # type: ignore[no-untyped-def]
    return render_template("editorial/campaigns/list.html", campaigns=queries.visible_campaigns(current_user),
                           can_edit=current_user.has_role("editor"))


def _campaign_data(form: CampaignForm) -> dict:
    return {"name": form.name.data or "", "description": form.description.data or "", "goal": form.goal.data or "",
            "starts_on": str(form.starts_on.data or "").strip() or None,
            "ends_on": str(form.ends_on.data or "").strip() or None,
            "hashtags": _hashtags(form.hashtags.data)}


def _hashtags(value: object) -> list[str]:
    if isinstance(value, list):  # the form was posted without the field: keep the campaign's
        return [str(v) for v in value]
    return [t for t in re.split(r"[\s,]+", str(value or "")) if t]


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new():  # type: ignore[no-untyped-def]
    require("editor")
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = content.create_campaign(current_user, _campaign_data(form))
        except ValidationFailed as exc:
            add_field_errors(form, exc)
        else:
            flash(_("Campaign created."), "info")
            return redirect(url_for("editorial.campaign_show", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("editorial/campaigns/form.html", form=form, campaign=None), status


@bp.get("/campaigns/<int:campaign_id>")
def campaign_show(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = content.get_campaign(campaign_id, current_user)
    return render_template("editorial/campaigns/show.html", campaign=campaign,
                           posts=queries.campaign_posts(campaign, current_user),
                           can_edit=current_user.has_role("editor"))


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
def campaign_edit(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = content.get_campaign(campaign_id, current_user)
    require("editor")
    form = CampaignForm(obj=campaign)
    if request.method == "GET":
        form.hashtags.data = " ".join(campaign.hashtags or [])
        form.starts_on.data = campaign.starts_on.isoformat() if campaign.starts_on else ""
        form.ends_on.data = campaign.ends_on.isoformat() if campaign.ends_on else ""
    if form.validate_on_submit():
        try:
            content.update_campaign(campaign, current_user, _campaign_data(form))
        except ValidationFailed as exc:
            add_field_errors(form, exc)
        else:
            flash(_("Campaign saved."), "info")
            return redirect(url_for("editorial.campaign_show", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("editorial/campaigns/form.html", form=form, campaign=campaign), status


# --- units -------------------------------------------------------------------------------------------------


@bp.route("/units", methods=["GET", "POST"])
def unit_list():  # type: ignore[no-untyped-def]
    form = UnitForm()
    form.parent_id.choices = accounts_admin.unit_choices(current_user)
    status = 200
    if request.method == "POST":
        require("admin")
        status = 422
        if form.validate_on_submit():
            try:
                unit = accounts.create_unit(form.name.data or "", accounts.get_unit(form.parent_id.data),
                                            actor=current_user)
            except ValidationFailed as exc:
                add_field_errors(form, exc)
            else:
                flash(_("Unit “%(name)s” created.", name=unit.name), "info")
                return redirect(url_for("editorial.unit_list"))
    return render_template("editorial/units.html", tree=accounts_admin.unit_tree(current_user), form=form,
                           is_admin=current_user.has_role("admin")), status


@bp.post("/units/<int:unit_id>/rename")
def unit_rename(unit_id: int):  # type: ignore[no-untyped-def]
    require("admin")
    unit = accounts.get_unit(unit_id)
    try:
        accounts.rename_unit(unit, request.form.get("name", ""), current_user)
    except ValidationFailed as exc:
        flash("; ".join(str(m) for v in exc.fields.values() for m in v), "error")
        return redirect(url_for("editorial.unit_list"))
    flash(_("Unit renamed."), "info")
    return redirect(url_for("editorial.unit_list"))


# --- users -------------------------------------------------------------------------------------------------


@bp.get("/users")
def user_list():  # type: ignore[no-untyped-def]
    require("admin")
    return render_template("editorial/users/list.html", users=accounts_admin.managed_users(current_user))


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():  # type: ignore[no-untyped-def]
    require("admin")
    form = UserCreateForm()
    form.unit_id.choices = accounts_admin.unit_choices(current_user)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data or "", form.role.data, accounts.get_unit(form.unit_id.data),
                                        name=form.name.data or "", password=form.password.data, actor=current_user)
        except ValidationFailed as exc:
            add_field_errors(form, exc)
        except Conflict as exc:
            form.email.errors = [*form.email.errors, str(exc.message)]
        else:
            flash(_("User %(email)s created; give them their password in person.", email=user.email), "info")
            return redirect(url_for("editorial.user_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("editorial/users/form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):  # type: ignore[no-untyped-def]
    require("admin")
    user = accounts.get_user(user_id)
    if not accounts.can_see_unit(current_user, user.unit.path):
        abort(404)
    form = UserEditForm(obj=user)
    form.unit_id.choices = accounts_admin.unit_choices(current_user)
    if request.method == "GET":
        form.active.data = "1" if user.active else "0"
    if form.validate_on_submit():
        try:
            accounts.update_user(user, current_user, name=form.name.data or "", role=form.role.data,
                                 unit=accounts.get_unit(form.unit_id.data), active=form.active.data == "1")
        except ValidationFailed as exc:
            add_field_errors(form, exc)
        except Conflict as exc:
            form.active.errors = [*form.active.errors, str(exc.message)]
        else:
            flash(_("User saved."), "info")
            return redirect(url_for("editorial.user_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("editorial/users/form.html", form=form, user=user), status
