"""GET /api/v1/reports/engagement: engagement gained in a period, with breakdowns that sum to the totals."""

from __future__ import annotations

from flask import jsonify, request

from publisher.reports.services import engagement_report, parse_flag, parse_id, parse_period, resolve_scope
from web import current_settings
from web.api import api_user, bp
from web.api.openapi import register

TOTALS = {"type": "object", "required": ["views", "reactions", "comments", "shares"],
          "properties": {m: {"type": "integer"} for m in ("views", "reactions", "comments", "shares")}}

REPORT = {"type": "object", "required": ["totals", "by_channel", "by_post"], "properties": {
    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
    "totals": TOTALS,
    "by_channel": {"type": "array", "items": {"type": "object", "required": ["channel_id", "kind", "name", "totals"],
                                              "properties": {"channel_id": {"type": "integer"},
                                                             "kind": {"type": "string"}, "name": {"type": "string"},
                                                             "totals": TOTALS}}},
    "by_post": {"type": "array", "items": {"type": "object", "required": ["post_id", "title", "totals"],
                                           "properties": {"post_id": {"type": "integer"}, "title": {"type": "string"},
                                                          "totals": TOTALS}}},
    "by_unit": {"type": "array", "items": {"type": "object", "required": ["unit_id", "name", "totals"],
                                           "properties": {"unit_id": {"type": "integer"}, "name": {"type": "string"},
                                                          "totals": TOTALS}}},
    "by_campaign": {"type": "array", "items": {"type": "object"}},
    "previous": {"type": "object"}}}


@bp.get("/reports/engagement")
def engagement():  # type: ignore[no-untyped-def]
    args = request.args
    period = parse_period(args.get("from"), args.get("to"))
    scope = resolve_scope(api_user(), unit_id=parse_id(args.get("unit_id"), "unit_id"),
                          include_sub_units=parse_flag(args.get("include_sub_units"), "include_sub_units"),
                          campaign_id=parse_id(args.get("campaign_id"), "campaign_id"))
    return jsonify(engagement_report(scope, period, current_settings()))


register("/reports/engagement", "get", "Engagement gained in a period (dates inclusive, the organisation's time zone)",
         answer=REPORT, params=[
             {"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
             {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
             {"name": "campaign_id", "in": "query", "schema": {"type": "integer"}},
             {"name": "unit_id", "in": "query", "schema": {"type": "integer"}},
             {"name": "include_sub_units", "in": "query", "schema": {"type": "boolean"}}])
