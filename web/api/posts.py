from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from publisher.accounts.services import visible_filter
from publisher.content.models import POST_STATES, Post
from publisher.content.queries import without_bodies
from publisher.content.services import (
    approve_post,
    create_post,
    get_post,
    reject_post,
    revisions,
    submit_post,
    update_post,
)
from publisher.db import db
from publisher.errors import ValidationFailed
from publisher.ids import parse_id, parse_id_text
from web.api import api_user, bp, json_body, page_number
from web.api.serializers import iso, post_json


def optional_unit_id(data: dict[str, Any]) -> int | None:
    return parse_id(data.pop("unit_id", None), "unit_id", message=_("Wrong type of value."))


def _created(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    response = jsonify(body)
    response.status_code = 201
    return response


@bp.post("/posts")
def post_post():  # type: ignore[no-untyped-def]
    data = json_body()
    unit_id = optional_unit_id(data)
    return _created(post_json(create_post(api_user(), data, unit_id=unit_id), deliveries=[]))


@bp.get("/posts")
def list_posts():  # type: ignore[no-untyped-def]
    """Posts the caller can see, newest first: ``?state=``, ``?campaign_id=``, ``?page=`` (50 a page)."""
    query = select(Post).where(visible_filter(api_user(), Post.unit_id))
    state = request.args.get("state")
    if state:
        if state not in POST_STATES:
            raise ValidationFailed({"state": _("Choose one of: %(states)s.", states=", ".join(POST_STATES))})
        query = query.where(Post.state == state)
    campaign_id = parse_id_text(request.args.get("campaign_id"), "campaign_id")
    if campaign_id:
        query = query.where(Post.campaign_id == campaign_id)
    page = page_number()
    total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(Post.id).subquery()))
    rows = db.session.scalars(without_bodies(query).order_by(Post.updated_at.desc(), Post.id.desc()).limit(50)
                              .offset((page - 1) * 50))
    return jsonify({"posts": [post_json(p, full=False) for p in rows], "page": page, "total": total})


@bp.get("/posts/<int:post_id>")
def show_post(post_id: int):  # type: ignore[no-untyped-def]
    return jsonify(post_json(get_post(post_id, api_user())))


@bp.patch("/posts/<int:post_id>")
def patch_post(post_id: int):  # type: ignore[no-untyped-def]
    data = json_body()
    post = get_post(post_id, api_user())
    version = data.pop("version", None)
    data.pop("unit_id", None)
    return jsonify(post_json(update_post(post, api_user(), data, version)))


@bp.post("/posts/<int:post_id>/submit")
def submit(post_id: int):  # type: ignore[no-untyped-def]
    return jsonify(post_json(submit_post(get_post(post_id, api_user()), api_user())))


@bp.post("/posts/<int:post_id>/approve")
def approve(post_id: int):  # type: ignore[no-untyped-def]
    return jsonify(post_json(approve_post(get_post(post_id, api_user()), api_user())))


@bp.post("/posts/<int:post_id>/reject")
def reject(post_id: int):  # type: ignore[no-untyped-def]
    data = json_body(required=False)
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        raise ValidationFailed({"reason": _("Wrong type of value.")})
    return jsonify(post_json(reject_post(get_post(post_id, api_user()), api_user(), reason)))


@bp.get("/posts/<int:post_id>/revisions")
def list_revisions(post_id: int):  # type: ignore[no-untyped-def]
    post = get_post(post_id, api_user())
    return jsonify({"revisions": [{"version": r.version, "saved_at": iso(r.saved_at), "saved_by_id": r.saved_by_id,
                                   "snapshot": r.snapshot} for r in revisions(post)]})
