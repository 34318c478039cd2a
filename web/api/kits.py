"""Campaign kits pushed down the tree: send, list, adopt, progress."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from publisher.content.services import get_campaign
from publisher.hierarchy.models import Kit
from publisher.hierarchy.services import (
    adopt_kit,
    adoption_of,
    get_kit,
    kit_progress,
    kits_for,
    send_kit,
)
from web import current_settings
from web.api import api_user, bp, json_body
from web.api.openapi import register
from web.api.serializers import iso

KIT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "campaign_id": {"type": "integer"},
    "post_ids": {"type": "array", "items": {"type": "integer"}},
    "unit_ids": {"type": "array", "items": {"type": "integer"}}, "deadline": {"type": ["string", "null"]},
    "campaign_name": {"type": "string"}, "sender_unit_id": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"},
    "schedule": {"type": "array", "description": "Suggested publish time per post of the kit (posts without a "
                 "suggestion are left out)", "items": {
                     "type": "object", "required": ["post_id", "at"], "properties": {
                         "post_id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}}}}}
SCHEDULE_IN = {"type": "array", "description": "Optional suggested publish time per post of the kit; a time without "
               "offset is in the organisation's time zone; it must not be in the past", "items": {
                   "type": "object", "required": ["post_id"], "properties": {
                       "post_id": {"type": "integer"},
                       "at": {"type": ["string", "null"], "format": "date-time"}}}}
ADOPTED = {"type": "object", "properties": {
    "post_ids": {"type": "array", "items": {"type": "integer"}},
    "schedule": {"type": "array", "description": "The sender's suggested publish time for each adopted draft that "
                 "has one", "items": {"type": "object", "properties": {
                     "post_id": {"type": "integer"}, "original_post_id": {"type": "integer"},
                     "at": {"type": "string", "format": "date-time"}}}}}}


def kit_json(kit: Kit) -> dict[str, Any]:
    return {"id": kit.id, "campaign_id": kit.campaign_id, "campaign_name": kit.campaign.name,
            "sender_unit_id": kit.sender_unit_id, "post_ids": kit.post_ids, "unit_ids": kit.unit_ids,
            "deadline": iso(kit.deadline), "created_at": iso(kit.created_at),
            "schedule": [{"post_id": item.post_id, "at": iso(item.suggested_at)} for item in kit.schedule]}


@bp.post("/campaigns/<int:campaign_id>/kits")
def post_kit(campaign_id: int):  # type: ignore[no-untyped-def]
    data = json_body()
    kit = send_kit(api_user(), get_campaign(campaign_id, api_user()), data, current_settings())
    response = jsonify(kit_json(kit))
    response.status_code = 201
    return response


@bp.get("/kits")
def list_kits():  # type: ignore[no-untyped-def]
    kits = kits_for(api_user())
    return jsonify({"received": [kit_json(k) for k in kits["received"]], "sent": [kit_json(k) for k in kits["sent"]]})


@bp.get("/kits/<int:kit_id>")
def show_kit(kit_id: int):  # type: ignore[no-untyped-def]
    return jsonify(kit_json(get_kit(kit_id, api_user())))


@bp.post("/kits/<int:kit_id>/adopt")
def adopt(kit_id: int):  # type: ignore[no-untyped-def]
    posts = adopt_kit(get_kit(kit_id, api_user()), api_user())
    schedule = [{"post_id": p.id, "original_post_id": link.original_post_id, "at": iso(link.suggested_at)}
                for p in posts if (link := adoption_of(p)) is not None and link.suggested_at is not None]
    return jsonify({"post_ids": [p.id for p in posts], "schedule": schedule})


@bp.get("/kits/<int:kit_id>/progress")
def progress(kit_id: int):  # type: ignore[no-untyped-def]
    from datetime import datetime

    today = datetime.now(current_settings().zone).date()
    rows = kit_progress(get_kit(kit_id, api_user()), api_user(), today)
    return jsonify({"kit_id": kit_id, "units": [{**r, "adopted_at": iso(r["adopted_at"])} for r in rows]})


register("/campaigns/{campaign_id}/kits", "post", "Push a campaign kit down to units below", status="201",
         answer=KIT, body={"type": "object", "required": ["post_ids"], "properties": {
             "post_ids": {"type": "array", "items": {"type": "integer"}},
             "unit_ids": {"type": "array", "items": {"type": "integer"}}, "all_below": {"type": "boolean"},
             "deadline": {"type": "string", "format": "date"}, "schedule": SCHEDULE_IN}})
register("/kits", "get", "Kits received and sent by the caller's unit")
register("/kits/{kit_id}", "get", "One kit", answer=KIT,
         params=[{"name": "kit_id", "in": "path", "required": True, "schema": {"type": "integer"}}])
register("/kits/{kit_id}/adopt", "post", "Copy a kit's posts into the caller's unit as drafts", answer=ADOPTED,
         params=[{"name": "kit_id", "in": "path", "required": True, "schema": {"type": "integer"}}])
register("/kits/{kit_id}/progress", "get", "Per receiving unit: pending, adopted, adapted or published",
         params=[{"name": "kit_id", "in": "path", "required": True, "schema": {"type": "integer"}}])
