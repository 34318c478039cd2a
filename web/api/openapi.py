"""The OpenAPI 3 description of the API, built from the routes' declared shapes."""

from __future__ import annotations

import copy
from typing import Any

from flask import jsonify
from flask_babel import gettext as _

from publisher import __version__
from publisher.channels.base import descriptions
from publisher.db import MAX_ID
from web.api import bp

ID_RANGE = {"minimum": 1, "maximum": MAX_ID}  # what publisher.ids accepts; anything else is 422 (404 in a path)
# A name or title: some text that is not only spaces (the server trims it and refuses it empty).
NAME_TEXT = {"type": "string", "minLength": 1, "pattern": "\\S",
             "description": "Plain text. Titles and the names of campaigns and news sources drop HTML tags, so one "
                            "made only of tags is refused (422)."}

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}}}

CHANNEL_MEDIA = {"type": "array", "items": {"type": "integer"}, "description": (
    "Which of the post's media_ids this channel gets, in order (Facebook: the photos or one video; YouTube: the video "
    "and the picture for its thumbnail). Omitted: every attached medium. Ids not attached to the post are dropped.")}


def _variant_field_schema(spec: Any) -> dict[str, Any]:
    """One variant field as its kind's description gives it."""
    if spec.type == "media":
        return CHANNEL_MEDIA
    if spec.type == "bool":
        return {"type": "boolean"}
    if spec.type == "choice":
        return {"type": "string", "enum": [value for value, _label in spec.choices]}
    if spec.type == "tags":
        out: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
        if spec.max_items is not None:
            out["maxItems"] = spec.max_items
        if spec.max_length is not None:
            out["description"] = f"At most {spec.max_length} characters of tags, joined by commas"
        return out
    out = {"type": "string"}
    if spec.max_length is not None:
        if spec.count == "chars":
            out["maxLength"] = spec.max_length
        else:
            out["description"] = f"At most {spec.max_length} UTF-8 bytes"
    return out


# Each channel kind's variant, as its description gives it (its fields, their types and limits).
VARIANTS = {"type": "object", "properties": {
    kind: {"type": "object", "properties": {spec.name: _variant_field_schema(spec) for spec in d.variant}}
    for kind, d in descriptions().items()}}

POST_IN = {"type": "object", "required": ["title"], "properties": {
    "title": {**NAME_TEXT, "maxLength": 300}, "summary": {"type": "string", "maxLength": 1000},
    "body_html": {"type": "string", "description": "At most 2 MB of UTF-8 (413 above it)"},
    "slug": {"type": "string"}, "byline": {"type": "string"}, "category": {"type": "string"},
    "locality": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
    "campaign_id": {"type": ["integer", "null"]}, "cover_media_id": {"type": ["integer", "null"]},
    "media_ids": {"type": "array", "items": {"type": "integer"}}, "variants": VARIANTS, "unit_id": {"type": "integer"}}}

DELIVERY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "channel_id": {"type": "integer"},
    "state": {"type": "string", "enum": ["scheduled", "publishing", "published", "failed", "paused", "unconfirmed",
                                         "cancelled", "unpublished"]},
    "at": {"type": "string", "format": "date-time"}, "remote_id": {"type": ["string", "null"]},
    "remote_url": {"type": ["string", "null"]}, "attempts": {"type": "integer"}, "error": {"type": ["string", "null"]}}}

POST_OUT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "unit_id": {"type": "integer"}, "version": {"type": "integer"},
    "state": {"type": "string", "enum": ["draft", "in_review", "approved"]},
    **POST_IN["properties"], "deliveries": {"type": "array", "items": DELIVERY},
    "adopted_from": {"type": ["object", "null"], "description": "For a draft adopted from a campaign kit: the kit, the "
                     "original post and the sender's suggested publish time (null if none); null for other posts",
                     "properties": {"kit_id": {"type": "integer"}, "original_post_id": {"type": "integer"},
                                    "suggested_at": {"type": ["string", "null"], "format": "date-time"}}}}}

CAMPAIGN_IN = {"type": "object", "required": ["name"], "properties": {
    "name": {**NAME_TEXT, "maxLength": 200}, "description": {"type": "string", "maxLength": 5000},
    "starts_on": {"type": "string", "format": "date"},
    "ends_on": {"type": "string", "format": "date"}, "hashtags": {"type": "array", "items": {"type": "string"}},
    "goal": {"type": "string"}, "unit_id": {"type": "integer"}}}

UNIT = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                         "parent_id": {"type": ["integer", "null"]}}}

MEDIA = {"type": "object", "properties": {"id": {"type": "integer"}, "kind": {"type": "string", "enum": ["image", "video"]},
                                          "renditions": {"type": "object"}}}

PATHS: dict[str, dict[str, Any]] = {}


def request_schema(schema: Any, name: str = "") -> Any:
    """A request body's schema as the server checks it (a copy; answers keep the open shapes): objects take only
    the fields they list (the server answers "Unknown field." for others) and ids are within the id range."""
    if isinstance(schema, list):
        return [request_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: request_schema(value) for key, value in schema.items() if key not in ("properties", "items")}
    if "properties" in schema:
        out["properties"] = {key: request_schema(value, key) for key, value in schema["properties"].items()}
        out.setdefault("additionalProperties", False)
    if "items" in schema:
        out["items"] = request_schema(schema["items"], name[:-1] if name.endswith("_ids") else "")
    kinds = schema.get("type")
    if (name == "id" or name.endswith("_id")) and (kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)):
        out.update(ID_RANGE)
    return out


def operation(path: str, method: str, summary: str, *, body: dict | None = None, answer: dict | None = None,
              public: bool = False, status: str = "200", multipart: bool = False, params: list | None = None) -> None:
    op: dict[str, Any] = {"summary": summary, "responses": {
        status: {"description": "OK", "content": {"application/json": {"schema": answer or {"type": "object"}}}},
        "default": {"description": "An error", "content": {"application/json": {"schema": ERROR}}}}}
    if public:
        op["security"] = []
    if body is not None:
        content_type = "multipart/form-data" if multipart else "application/json"
        op["requestBody"] = {"required": True, "content": {content_type: {"schema": request_schema(body)}}}
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
                  for p in ("post_id", "campaign_id", "media_id", "unit_id") if "{" + p + "}" in path]
    parameters += copy.deepcopy(params or [])
    for parameter in parameters:
        if parameter["in"] == "path" or parameter["name"].endswith("_id"):
            parameter["schema"] = {**parameter["schema"], **ID_RANGE}
    if parameters:
        op["parameters"] = parameters
    PATHS.setdefault(path, {})[method] = op


operation("/openapi.json", "get", "This description", public=True)
operation("/health", "get", "Database and queue reachability", public=True,
          answer={"type": "object", "properties": {"status": {"type": "string"}, "database": {"type": "string"},
                                                   "queue": {"type": "string"}}})
operation("/units", "get", "Organisation units visible to the caller")
operation("/units", "post", "Create a unit below another", body={"type": "object", "required": ["name", "parent_id"],
          "properties": {"name": {**NAME_TEXT, "maxLength": 200}, "parent_id": {"type": "integer"}}}, answer=UNIT, status="201")
operation("/units/{unit_id}", "get", "One unit", answer=UNIT)
operation("/campaigns", "get", "Campaigns")
operation("/campaigns", "post", "Create a campaign", body=CAMPAIGN_IN, status="201")
operation("/campaigns/{campaign_id}", "get", "One campaign")
operation("/campaigns/{campaign_id}", "patch", "Change a campaign", body={**CAMPAIGN_IN, "required": []})
operation("/media", "post", "Upload an image or a video", multipart=True, status="201", answer=MEDIA,
          body={"type": "object", "required": ["file"], "properties": {
              "file": {"type": "string", "format": "binary"}, "caption": {"type": "string"},
              "alt_text": {"type": "string"}}})
operation("/media/{media_id}", "get", "One media item", answer=MEDIA)
operation("/media/{media_id}", "patch", "Caption and alt text", answer=MEDIA, body={"type": "object", "properties": {
    "caption": {"type": "string"}, "alt_text": {"type": "string"}}})
operation("/posts", "get", "Posts, newest first", params=[
    {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["draft", "in_review", "approved"]}},
    {"name": "campaign_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000}}])
operation("/posts", "post", "Create a draft post", body=POST_IN, answer=POST_OUT, status="201")
operation("/posts/{post_id}", "get", "One post with its deliveries", answer=POST_OUT)
operation("/posts/{post_id}", "patch", "Edit a post (optimistic locking on version)", answer=POST_OUT,
          body={**POST_IN, "required": ["version"], "properties": {**POST_IN["properties"], "version": {"type": "integer"}}})
operation("/posts/{post_id}/submit", "post", "Send a draft for review", answer=POST_OUT)
operation("/posts/{post_id}/approve", "post", "Approve a post in review", answer=POST_OUT)
operation("/posts/{post_id}/reject", "post", "Send a post back to its author", answer=POST_OUT,
          body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}})
operation("/posts/{post_id}/revisions", "get", "Saved revisions of a post")


def register(path: str, method: str, summary: str, **kwargs: Any) -> None:
    """Other areas describe their endpoints here when they add them."""
    operation(path, method, summary, **kwargs)


@bp.before_request
def _known_query_parameters():  # type: ignore[no-untyped-def]
    """A query parameter the description does not list for the operation is refused (422 naming it): a typo such
    as ``?stat=draft`` would otherwise silently list everything."""
    from flask import request

    from web.api import problem

    rule = request.url_rule
    if rule is None or not request.args:
        return None
    path = rule.rule[len(bp.url_prefix or ""):]
    for converter in ("int:", "path:", "string:"):
        path = path.replace("<" + converter, "<")
    op = PATHS.get(path.replace("<", "{").replace(">", "}"), {}).get(request.method.lower())
    if op is None:
        return None
    known = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    unknown = sorted(set(request.args) - known)
    if unknown:
        return problem(422, "validation_failed", _("Some fields are not valid."),
                       fields={name: [_("Unknown parameter.")] for name in unknown})
    return None


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify({
        "openapi": "3.1.0",
        "info": {"title": "Loa API", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Error": ERROR, "Post": POST_OUT, "Delivery": DELIVERY}},
        "security": [{"bearer": []}],
        "paths": PATHS,
    })
