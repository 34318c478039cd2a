"""The OpenAPI description matches the server (issue #19, item 6): schemathesis generates requests for every
operation of /api/v1/openapi.json, valid ones and invalid ones, sends them to the WSGI app in-process with a valid
Bearer token (an admin of the root unit, with a few objects to find) and runs its default checks on every answer:
no 500, documented statuses, content types, headers and bodies, valid data accepted, invalid data refused.

schemathesis' pytest loader for fixtures does not run under pytest 9 (it sets ``node._nodeid``), so each operation
is its own test here and drives schemathesis' strategies with Hypothesis directly. The number of examples per
operation and mode is bounded (``LOA_FUZZ_EXAMPLES``, default 10) so that the whole file stays within a couple of
minutes on SQLite; the same tests run on PostgreSQL in CI."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

import web.api  # noqa: F401  (every area's operations are described once its module is imported)
from publisher.db import db
from web.api.openapi import PATHS

EXAMPLES = int(os.environ.get("LOA_FUZZ_EXAMPLES", "10"))
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
OPERATIONS = [(path, method, mode) for path, methods in sorted(PATHS.items()) for method, op in sorted(methods.items())
              for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
              # an operation that takes nothing (no parameter, no body) has no invalid request to make
              if mode is GenerationMode.POSITIVE or op.get("parameters") or op.get("requestBody")]
# Valid requests that the server may still refuse with 422 for reasons no schema can say, each named here:
# a period longer than the report allows (3,700 days), a parent unit that does not exist, a file that is not a real
# image or video, Facebook credentials that Facebook does not accept (checked when a Page is connected).
# Also ids in a body that name no object (a post, channel or media item that does not exist: 422 naming the field),
# and a campaign's or news source's name made only of markup ("<entry>"): names are plain text, tags are dropped,
# and what is left is empty (no JSON Schema pattern says "text outside HTML tags" exactly as the sanitiser reads it).
SEMANTIC_REFUSALS = {("/reports/engagement", "get"), ("/units", "post"), ("/media", "post"), ("/channels", "post"),
                     ("/campaigns/{campaign_id}/schedule-series", "post"), ("/posts", "post"), ("/campaigns", "post"),
                     ("/sources", "post")}


@pytest.fixture
def fuzz(app, make_user, make_token, make_post, make_campaign):  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    headers = {"Authorization": f"Bearer {make_token(admin)}"}
    # A few objects with small ids, so that generated ids sometimes name something.
    campaign = make_campaign(user=admin)
    make_post(author=admin, state="approved", campaign_id=campaign.id)
    make_post(author=admin)
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return schema, headers


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    app_config["facebook_graph_url"] = "http://127.0.0.1:9"  # nothing listens: a Page never connects, offline
    app_config["channel_timeout_seconds"] = 2.0
    return app_config


@pytest.mark.parametrize(("path", "method", "mode"), OPERATIONS, ids=[f"{mode}-{m.upper()} {p}"
                                                                      for p, m, mode in OPERATIONS])
def test_operation_matches_its_description(fuzz, path: str, method: str, mode: GenerationMode) -> None:  # type: ignore[no-untyped-def]
    schema, headers = fuzz
    operation = schema[path][method]
    excluded = [positive_data_acceptance] if (path, method) in SEMANTIC_REFUSALS else []
    if (path, method) == ("/media", "post"):  # in multipart every part is text: "null" is a caption like any other
        excluded.append(negative_data_rejection)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)
        db.session.rollback()  # the next request starts from the committed state, as a new request does

    run()


def test_undescribed_methods_answer_405_with_allow(client, api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("admin")
    for path, methods in PATHS.items():
        concrete = "/api/v1" + path.replace("{", "").replace("}", "")
        for name in ("post_id", "campaign_id", "media_id", "unit_id", "channel_id", "delivery_id", "kit_id",
                     "source_id", "item_id"):
            concrete = concrete.replace(name, "1")
        for method in set(HTTP_METHODS) - set(methods):
            answer = api.client.open(concrete, method=method.upper(), headers=api._headers())
            assert answer.status_code == 405, (method, concrete, answer.status_code)
            allowed = {m.strip().lower() for m in answer.headers.get("Allow", "").split(",") if m.strip()}
            assert set(methods) <= allowed, (method, concrete, answer.headers.get("Allow"))
            assert answer.get_json()["error"]["code"] == "method_not_allowed"
