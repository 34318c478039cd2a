"""Scheduling and deliveries: schedule a post, look at a delivery and its history, cancel, reschedule, pause
(hold) and resume, retry, unpublish."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from publisher.content.services import get_campaign, get_post
from publisher.scheduler.explain import explain_delivery
from publisher.scheduler.models import Delivery
from publisher.scheduler.services import (
    cancel_delivery,
    delivery_summary,
    get_delivery,
    hold_delivery,
    reschedule_delivery,
    resume_delivery,
    retry_delivery,
    schedule_post,
    schedule_series,
    unpublish_post,
)
from web import current_settings
from web.api import api_user, bp, json_body
from web.api.openapi import DELIVERY, register
from web.api.serializers import iso


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    body = delivery_summary(delivery)
    body.update({
        "post_id": delivery.post_id,
        "version": delivery.version,
        "published_at": iso(delivery.published_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
        "error_code": delivery.last_error_code,
        # Why it has not gone out, in Loa's words and the caller's language (``error`` keeps the platform's).
        "explanation": _explanation(delivery),
        "history": [{"started_at": iso(a.started_at), "ended_at": iso(a.ended_at), "action": a.action,
                     "outcome": a.outcome, "code": a.code, "message": a.message, "worker": a.worker,
                     "remote_id": a.remote_id, "remote_url": a.remote_url} for a in delivery.history],
    })
    return body


def _explanation(delivery: Delivery) -> dict[str, str] | None:
    problem = explain_delivery(delivery)
    return {"cause": problem.cause, "message": problem.sentence} if problem is not None else None


@bp.post("/posts/<int:post_id>/schedule")
def schedule(post_id: int):  # type: ignore[no-untyped-def]
    post = get_post(post_id, api_user())
    deliveries = schedule_post(post, api_user(), json_body(required=False), current_settings())
    response = jsonify({"deliveries": [delivery_summary(d) for d in deliveries]})
    response.status_code = 201
    return response


@bp.post("/campaigns/<int:campaign_id>/schedule-series")
def campaign_series(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = get_campaign(campaign_id, api_user())
    deliveries = schedule_series(campaign, api_user(), json_body(), current_settings())
    response = jsonify({"deliveries": [delivery_summary(d) for d in deliveries]})
    response.status_code = 201
    return response


@bp.get("/deliveries/<int:delivery_id>")
def show_delivery(delivery_id: int):  # type: ignore[no-untyped-def]
    return jsonify(delivery_json(get_delivery(delivery_id, api_user())))


@bp.post("/deliveries/<int:delivery_id>/cancel")
def cancel(delivery_id: int):  # type: ignore[no-untyped-def]
    return jsonify(delivery_json(cancel_delivery(get_delivery(delivery_id, api_user()), api_user())))


@bp.post("/deliveries/<int:delivery_id>/reschedule")
def reschedule(delivery_id: int):  # type: ignore[no-untyped-def]
    delivery = get_delivery(delivery_id, api_user())
    data = json_body()
    return jsonify(delivery_json(reschedule_delivery(delivery, api_user(), data.get("at"), current_settings())))


@bp.post("/deliveries/<int:delivery_id>/pause")
def pause(delivery_id: int):  # type: ignore[no-untyped-def]
    return jsonify(delivery_json(hold_delivery(get_delivery(delivery_id, api_user()), api_user())))


@bp.post("/deliveries/<int:delivery_id>/resume")
def resume(delivery_id: int):  # type: ignore[no-untyped-def]
    delivery = get_delivery(delivery_id, api_user())
    return jsonify(delivery_json(resume_delivery(delivery, api_user(), current_settings())))


@bp.post("/deliveries/<int:delivery_id>/retry")
def retry(delivery_id: int):  # type: ignore[no-untyped-def]
    delivery = get_delivery(delivery_id, api_user())
    return jsonify(delivery_json(retry_delivery(delivery, api_user(), current_settings())))


@bp.post("/posts/<int:post_id>/unpublish")
def unpublish(post_id: int):  # type: ignore[no-untyped-def]
    post = get_post(post_id, api_user())
    data = json_body(required=False)
    changed = unpublish_post(post, api_user(), data.get("channel_ids"), current_settings())
    return jsonify({"deliveries": [delivery_summary(d) for d in changed]})


# A person's hold is its own state, ``held``: the contract's ``paused`` keeps meaning "channel needs reconnecting".
if "held" not in DELIVERY["properties"]["state"]["enum"]:
    DELIVERY["properties"]["state"]["enum"].append("held")
_DELIVERY_ID = [{"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_HISTORY = {"type": "array", "items": {"type": "object", "properties": {
    k: {"type": ["string", "null"]} for k in ("started_at", "ended_at", "outcome", "code", "message")}}}
_DELIVERY_FULL = {**DELIVERY, "properties": {**DELIVERY["properties"], "history": _HISTORY}}
_DELIVERIES = {"type": "object", "properties": {"deliveries": {"type": "array", "items": DELIVERY}}}
register("/posts/{post_id}/schedule", "post", "Schedule an approved post on channels", status="201",
         answer=_DELIVERIES, body={"type": "object", "properties": {
             "channel_ids": {"type": "array", "items": {"type": "integer"}},
             "at": {"type": "string", "format": "date-time"},
             "queue": {"type": "boolean", "description": "each channel's next free posting slot"},
             "deliveries": {"type": "array", "items": {"type": "object", "required": ["channel_id"], "properties": {
                 "channel_id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}}}}})
register("/deliveries/{delivery_id}", "get", "One delivery with its attempt history", answer=_DELIVERY_FULL,
         params=_DELIVERY_ID)
register("/deliveries/{delivery_id}/cancel", "post", "Cancel a delivery not yet published", answer=_DELIVERY_FULL,
         params=_DELIVERY_ID)
register("/deliveries/{delivery_id}/reschedule", "post", "Move a delivery not yet published", answer=_DELIVERY_FULL,
         params=_DELIVERY_ID, body={"type": "object", "required": ["at"],
                                    "properties": {"at": {"type": "string", "format": "date-time"}}})
register("/deliveries/{delivery_id}/pause", "post",
         "Hold a delivery not yet published (state held; a channel reconnect does not resume it)",
         answer=_DELIVERY_FULL, params=_DELIVERY_ID)
register("/deliveries/{delivery_id}/resume", "post",
         "Resume a held delivery at its time (now if that has passed)", answer=_DELIVERY_FULL, params=_DELIVERY_ID)
register("/deliveries/{delivery_id}/retry", "post", "Try a failed or unconfirmed delivery again now",
         answer=_DELIVERY_FULL, params=_DELIVERY_ID)
register("/posts/{post_id}/unpublish", "post", "Remove a published post from channels", answer=_DELIVERIES,
         body={"type": "object", "properties": {"channel_ids": {"type": "array", "items": {"type": "integer"}}}})
register("/campaigns/{campaign_id}/schedule-series", "post", "Schedule a campaign's posts as a series",
         status="201", answer=_DELIVERIES, body={"type": "object", "required": ["channel_ids", "start", "time"],
                                                 "properties": {
             "channel_ids": {"type": "array", "items": {"type": "integer"}},
             "post_ids": {"type": "array", "minItems": 1, "items": {"type": "integer"},
                          "description": "default: the campaign's approved posts"},
             "start": {"type": "string", "format": "date"},
             "time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "07:30"},
             "every_days": {"type": "integer", "minimum": 1, "maximum": 365}}})
