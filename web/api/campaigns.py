from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from publisher.accounts.services import visible_filter
from publisher.content.models import Campaign
from publisher.content.services import create_campaign, get_campaign, update_campaign
from publisher.db import db
from web.api import api_user, bp, json_body
from web.api.posts import optional_unit_id
from web.api.serializers import campaign_json


@bp.post("/campaigns")
def post_campaign():  # type: ignore[no-untyped-def]
    data = json_body()
    unit_id = optional_unit_id(data)
    campaign = create_campaign(api_user(), data, unit_id=unit_id)
    response = jsonify(campaign_json(campaign))
    response.status_code = 201
    return response


@bp.get("/campaigns")
def list_campaigns():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(select(Campaign).where(visible_filter(api_user(), Campaign.unit_id))
                              .order_by(Campaign.id.desc()))
    return jsonify({"campaigns": [campaign_json(c) for c in rows]})


@bp.get("/campaigns/<int:campaign_id>")
def show_campaign(campaign_id: int):  # type: ignore[no-untyped-def]
    return jsonify(campaign_json(get_campaign(campaign_id, api_user())))


@bp.patch("/campaigns/<int:campaign_id>")
def patch_campaign(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = get_campaign(campaign_id, api_user())
    return jsonify(campaign_json(update_campaign(campaign, api_user(), json_body())))
