"""Channels in the JSON API: connect (admins), list, change or reconnect, test, disconnect. Tokens are never
echoed: an answer names which credentials a channel holds, never their values."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from publisher.channels import services
from publisher.channels.base import descriptions
from publisher.channels.models import Channel
from web import current_settings
from web.api import api_user, bp, json_body
from web.api.openapi import NAME_TEXT, register
from web.api.posts import optional_unit_id
from web.api.serializers import iso


def channel_json(channel: Channel) -> dict[str, Any]:
    settings = current_settings()
    return {
        "id": channel.id,
        "unit_id": channel.unit_id,
        "kind": channel.kind,
        "name": channel.name,
        "settings": dict(channel.settings or {}),
        "credentials": services.secret_names(channel, settings),
        "state": channel.state,
        "last_checked_at": iso(channel.last_checked_at),
        "last_error": channel.last_error or None,
        "quota": services.quota_for(channel, settings),
        "created_at": iso(channel.created_at),
        "updated_at": iso(channel.updated_at),
    }


@bp.post("/channels")
def post_channel():  # type: ignore[no-untyped-def]
    data = json_body()
    channel = services.create_channel(api_user(), data, current_settings(), unit_id=optional_unit_id(data))
    response = jsonify(channel_json(channel))
    response.status_code = 201
    return response


@bp.get("/channels")
def list_channels():  # type: ignore[no-untyped-def]
    return jsonify({"channels": [channel_json(c) for c in services.list_channels(api_user())]})


@bp.get("/channels/kinds")
def channel_kinds():  # type: ignore[no-untyped-def]
    """Every channel kind this Loa knows, as it describes itself (interface.md)."""
    api_user()
    return jsonify({"kinds": [d.as_json() for d in descriptions().values()]})


@bp.get("/channels/<int:channel_id>")
def show_channel(channel_id: int):  # type: ignore[no-untyped-def]
    return jsonify(channel_json(services.get_channel(channel_id, api_user())))


@bp.patch("/channels/<int:channel_id>")
def patch_channel(channel_id: int):  # type: ignore[no-untyped-def]
    channel = services.get_channel(channel_id, api_user())
    return jsonify(channel_json(services.update_channel(channel, api_user(), json_body(), current_settings())))


@bp.post("/channels/<int:channel_id>/test")
def test_channel(channel_id: int):  # type: ignore[no-untyped-def]
    channel = services.get_channel(channel_id, api_user())
    status = services.check_channel(channel, current_settings(), actor=api_user())
    body: dict[str, Any] = {"ok": status.ok, "message": status.message, "channel": channel_json(channel)}
    if status.error is not None:
        body["code"] = status.error.code
        body["platform_message"] = status.error.platform_message
    return jsonify(body)


@bp.post("/channels/<int:channel_id>/disconnect")
def disconnect_channel(channel_id: int):  # type: ignore[no-untyped-def]
    channel = services.get_channel(channel_id, api_user())
    return jsonify(channel_json(services.disconnect_channel(channel, api_user(), current_settings())))


# Every kind's connect fields (each kind's description), secret ones write-only.
CHANNEL_SETTINGS = {"type": "object", "additionalProperties": {"type": ["string", "integer", "boolean", "null"]},
                    "properties": {spec.name: {"type": "string", **({"writeOnly": True} if spec.secret else {})}
                                   for d in descriptions().values() for spec in d.connect_fields}}
CHANNEL = {"type": "object", "properties": {
    "id": {"type": "integer"}, "unit_id": {"type": "integer"},
    "kind": {"type": "string", "enum": list(descriptions())}, "name": {"type": "string"},
    "settings": {"type": "object"}, "credentials": {"type": "array", "items": {"type": "string"}},
    "state": {"type": "string", "enum": ["connected", "needs_reconnect", "disconnected"]},
    "last_checked_at": {"type": ["string", "null"], "format": "date-time"}, "last_error": {"type": ["string", "null"]},
    "quota": {"type": ["object", "null"]}, "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}}}
ID = [{"name": "channel_id", "in": "path", "required": True, "schema": {"type": "integer"}}]



def _connect_body(kind: str) -> dict[str, Any]:
    """The body connecting one kind of channel: its required settings (its description's) must be there."""
    required = list(descriptions()[kind].required_settings)
    settings: dict[str, Any] = {**CHANNEL_SETTINGS, "properties": {
        key: ({**value, "minLength": 1} if key in required else value)
        for key, value in CHANNEL_SETTINGS["properties"].items()}}
    if required:
        settings["required"] = required
    body: dict[str, Any] = {"type": "object", "required": ["kind", "name"] + (["settings"] if required else []),
                            "properties": {"kind": {"type": "string", "const": kind},
                                           "name": {**NAME_TEXT, "maxLength": 200}, "settings": settings,
                                           "unit_id": {"type": "integer"}}}
    if not required:
        body["properties"]["settings"] = {"type": ["object", "null"], **{k: v for k, v in settings.items()
                                                                           if k != "type"}}
    return body


register("/channels", "post", "Connect a channel (admins; Facebook credentials are checked with Facebook first)",
         status="201", answer=CHANNEL, body={"oneOf": [_connect_body(kind) for kind in descriptions()]})
KIND = {"type": "object", "required": ["kind", "label", "settings", "variant", "capabilities"], "properties": {
    "kind": {"type": "string"}, "label": {"type": "string"},
    "settings": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "label": {"type": "string"}, "required": {"type": "boolean"},
        "secret": {"type": "boolean"}, "max_length": {"type": "integer"}, "reconnect": {"type": "boolean"}}}},
    "oauth": {"type": "boolean"},
    "variant": {"type": "object", "additionalProperties": {"type": "object", "properties": {
        "name": {"type": "string"}, "type": {"type": "string"}, "label": {"type": "string"},
        "max_length": {"type": "integer"}, "count": {"type": "string", "enum": ["chars", "bytes", "tags"]},
        "platform_limit": {"type": "boolean"}, "max_items": {"type": "integer"},
        "choices": {"type": "array", "items": {"type": "string"}}}}},
    "media": {"type": "object"}, "capabilities": {"type": "array", "items": {"type": "string", "enum": [
        "edit", "delete", "metrics", "comments", "reply", "platform_scheduling"]}},
    "rate_per_minute": {"type": ["integer", "null"]}, "metrics_batch_size": {"type": "integer"},
    "metrics": {"type": "object"}}}
register("/channels/kinds", "get", "The channel kinds this Loa knows, each as it describes itself (fields, limits, "
         "media rules, capabilities, metric mapping)",
         answer={"type": "object", "required": ["kinds"], "properties": {"kinds": {"type": "array", "items": KIND}}})
register("/channels", "get", "Channels visible to the caller",
         answer={"type": "object", "properties": {"channels": {"type": "array", "items": CHANNEL}}})
register("/channels/{channel_id}", "get", "One channel", answer=CHANNEL, params=ID)
register("/channels/{channel_id}", "patch", "Change or reconnect a channel (settings merge; admins)", answer=CHANNEL,
         params=ID, body={"type": "object", "properties": {"name": {**NAME_TEXT, "maxLength": 200},
                                                           "settings": CHANNEL_SETTINGS}})
register("/channels/{channel_id}/test", "post", "Check the channel's credentials on the platform now (admins)",
         params=ID, answer={"type": "object", "properties": {"ok": {"type": "boolean"}, "message": {"type": "string"},
                                                             "channel": CHANNEL}})
register("/channels/{channel_id}/disconnect", "post", "Forget the channel's credentials (admins)", answer=CHANNEL,
         params=ID)
