"""News sources and their items: /api/v1/sources, /api/v1/sources/ID/items, /api/v1/items/ID/draft."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from publisher.accounts.services import require_role
from publisher.feeds.models import Item, Source
from publisher.feeds.services import (
    create_source,
    draft_from_item,
    get_item,
    get_source,
    list_items,
    list_sources,
    update_source,
)
from web.api import api_user, bp, json_body
from web.api.openapi import NAME_TEXT
from web.api.posts import optional_unit_id
from web.api.serializers import iso, post_json


def source_json(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "unit_id": source.unit_id,
        "url": source.url,
        "name": source.name,
        "fetch_interval_minutes": source.fetch_interval_minutes,
        "active": source.active,
        "auto_draft": source.auto_draft,
        "allow_private_address": source.allow_private_address,
        "last_fetch_at": iso(source.last_fetch_at),
        "last_fetch_status": source.last_fetch_status,
        "last_error": source.last_error or None,
        "last_error_code": source.last_error_code,
        "last_new_count": source.last_new_count,
        "created_at": iso(source.created_at),
    }


def item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "link": item.link,
        "published": iso(item.published_at),
        "summary": item.summary,
        "image_url": item.image_url or None,
        "source_id": item.source_id,
        "fetched_at": iso(item.fetched_at),
        "draft_post_id": item.draft_post_id,
    }


@bp.post("/sources")
def post_source():  # type: ignore[no-untyped-def]
    data = json_body()
    unit_id = optional_unit_id(data)
    response = jsonify(source_json(create_source(api_user(), data, unit_id=unit_id)))
    response.status_code = 201
    return response


@bp.get("/sources")
def get_sources():  # type: ignore[no-untyped-def]
    """Admins: the sources of their unit and the units below it (a bare list)."""
    user = api_user()
    require_role(user, "admin", user.unit)
    return jsonify([source_json(s) for s in list_sources(user)])


@bp.get("/sources/<int:source_id>")
def show_source(source_id: int):  # type: ignore[no-untyped-def]
    source = get_source(source_id, api_user())
    require_role(api_user(), "admin", source.unit)
    return jsonify(source_json(source))


@bp.patch("/sources/<int:source_id>")
def patch_source(source_id: int):  # type: ignore[no-untyped-def]
    data = json_body()
    return jsonify(source_json(update_source(get_source(source_id, api_user()), api_user(), data)))


@bp.get("/sources/<int:source_id>/items")
def get_source_items(source_id: int):  # type: ignore[no-untyped-def]
    """Editors and up: the source's fetched items, newest first (a bare list, as the contract shows)."""
    source = get_source(source_id, api_user())
    return jsonify([item_json(i) for i in list_items(source, api_user())])


@bp.post("/items/<int:item_id>/draft")
def post_item_draft(item_id: int):  # type: ignore[no-untyped-def]
    """A draft post from the item: 201 when made now; 200 with the same post when the item already has one."""
    post, created = draft_from_item(get_item(item_id, api_user()), api_user())
    response = jsonify(post_json(post))
    response.status_code = 201 if created else 200
    return response


# --- OpenAPI -------------------------------------------------------------------------------------------------

SOURCE_IN = {"type": "object", "required": ["url", "name"], "properties": {
    "url": {"type": "string", "format": "uri"}, "name": {**NAME_TEXT, "maxLength": 200},
    "fetch_interval_minutes": {"type": "integer", "minimum": 5, "maximum": 10080, "default": 60},
    "auto_draft": {"type": "boolean", "default": False}, "allow_private_address": {"type": "boolean", "default": False},
    "active": {"type": "boolean", "default": True}, "unit_id": {"type": "integer"}}}
SOURCE_OUT = {"type": "object", "properties": {
    **{k: v for k, v in SOURCE_IN["properties"].items() if k != "unit_id"},
    "id": {"type": "integer"}, "unit_id": {"type": "integer"},
    "last_fetch_at": {"type": ["string", "null"], "format": "date-time"},
    "last_fetch_status": {"type": ["string", "null"], "enum": ["ok", "not_modified", "warning", "error", None]},
    "last_error": {"type": ["string", "null"]}, "last_error_code": {"type": ["string", "null"]},
    "last_new_count": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"}}}
ITEM_OUT = {"type": "object", "required": ["id", "title", "link", "published", "summary", "image_url"], "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "link": {"type": "string"},
    "published": {"type": ["string", "null"], "format": "date-time"}, "summary": {"type": "string"},
    "image_url": {"type": ["string", "null"]}, "source_id": {"type": "integer"},
    "fetched_at": {"type": "string", "format": "date-time"}, "draft_post_id": {"type": ["integer", "null"]}}}


def _describe() -> None:
    from web.api.openapi import POST_OUT, register

    source_id = [{"name": "source_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    item_id = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    register("/sources", "post", "Add an RSS/Atom news source (admin)", body=SOURCE_IN, answer=SOURCE_OUT, status="201")
    register("/sources", "get", "News sources with their last fetch status and error (admin)",
             answer={"type": "array", "items": SOURCE_OUT})
    register("/sources/{source_id}", "get", "One news source (admin)", answer=SOURCE_OUT, params=source_id)
    register("/sources/{source_id}", "patch", "Change a news source (admin)", answer=SOURCE_OUT, params=source_id,
             body={**SOURCE_IN, "required": []})
    register("/sources/{source_id}/items", "get", "Fetched items of a source, newest first (editors and up)",
             answer={"type": "array", "items": ITEM_OUT}, params=source_id)
    register("/items/{item_id}/draft", "post", "Make a draft post from a fetched item, keeping its link and source "
             "as attribution (201; 200 with the same post when the item already has a draft)", answer=POST_OUT,
             status="201", params=item_id)


_describe()
