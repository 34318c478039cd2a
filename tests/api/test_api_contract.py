"""The JSON API's contract: health, openapi.json, units, campaigns, media, status codes and problem bodies."""

from __future__ import annotations

import itertools
import json

from flask import Flask
from openapi_spec_validator import validate

from publisher.accounts.services import update_user
from publisher.db import db
from tests.conftest import image_bytes

POST = {"title": "Tin mới", "summary": "Tóm tắt", "body_html": "<p>x</p>", "media_ids": [], "variants": {}}


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.mimetype == "application/json", (response.status_code, response.data[:200])
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- health and openapi --------------------------------------------------------------------------------------


def test_health(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()  # the contract's keys; the pipeline adds heartbeat, queue depth, oldest overdue
    assert {k: body[k] for k in ("status", "database", "queue")} == {"status": "ok", "database": "ok", "queue": "ok"}


def test_openapi_is_an_openapi_3_document_listing_every_api_route(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    validate(doc)  # against the official OpenAPI 3.x schema
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert isinstance(doc["paths"], dict) and doc["paths"]
    methods = {"get", "post", "put", "patch", "delete"}
    for path, operations in doc["paths"].items():
        assert path.startswith("/")
        for method, op in operations.items():
            assert method in methods, (path, method)
            assert op["responses"], (path, method)
            for status, answer in op["responses"].items():
                assert status == "default" or status.isdigit()
                assert "description" in answer
            for parameter in op.get("parameters", []):
                assert parameter["in"] in ("path", "query", "header") and "schema" in parameter
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in path
            for name in (p[1:-1] for p in path.split("/") if p.startswith("{")):
                assert any(p["name"] == name and p["in"] == "path" for p in op.get("parameters", [])), (path, name)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = rule.rule[len("/api/v1"):]
        for converter in ("int:", "path:", "string:"):
            path = path.replace("<" + converter, "<")
        path = path.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is missing from openapi.json"


# --- authentication ------------------------------------------------------------------------------------------


def test_401_for_missing_bad_revoked_token_and_deactivated_user(client, make_user, make_token) -> None:  # type: ignore[no-untyped-def]
    from publisher.accounts.services import revoke_api_token, user_tokens

    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic YTpi"},
                    {"Authorization": "Bearer loa_nonsense"}, {"Authorization": "Bearer " + "x" * 5000}):
        response = client.get("/api/v1/posts", headers=headers)
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    user = make_user("editor")
    token = make_token(user)
    assert client.get("/api/v1/posts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revoke_api_token(user_tokens(user)[0], user)
    db.session.commit()
    assert client.get("/api/v1/posts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    other = make_user("editor")
    other_token = make_token(other)
    admin = make_user("admin")
    update_user(other, admin, active=False)
    db.session.commit()
    assert client.get("/api/v1/posts", headers={"Authorization": f"Bearer {other_token}"}).status_code == 401
    # a deactivated user with a token that somehow survived is still refused
    other.active = False
    db.session.commit()
    assert client.get("/api/v1/units", headers={"Authorization": f"Bearer {other_token}"}).status_code == 401


# --- status codes --------------------------------------------------------------------------------------------


def test_400_for_malformed_json_and_non_object_bodies(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    for data in ("{not json", "", "[1, 2]", '"text"', "null", "42", "\xff\xfe"):
        response = api.post("/api/v1/posts", data=data, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (data, response.get_json())
        assert error_of(response)["code"] == "malformed_body"
    response = api.post("/api/v1/posts", data=json.dumps(POST), headers={"Content-Type": "text/plain"})
    assert response.status_code in (201, 400, 415)
    error_or_body = response.get_json()
    assert isinstance(error_or_body, dict)


def test_404_for_unknown_objects_and_paths_with_json_bodies(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("admin")
    for path in ("/api/v1/posts/999999", "/api/v1/campaigns/999999", "/api/v1/media/999999",
                 "/api/v1/units/999999", "/api/v1/nothing/here", "/api/v1/posts/abc",
                 "/api/v1/posts/99999999999999999999999", "/api/v1/posts/999999/revisions"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    for path in ("/api/v1/posts/999999/submit", "/api/v1/posts/999999/approve", "/api/v1/posts/999999/reject"):
        assert api.post(path, json={"reason": "x"}).status_code == 404
    assert api.patch("/api/v1/posts/999999", json={"version": 1}).status_code == 404
    unauthenticated = api.client.get("/api/v1/nothing/here")
    assert unauthenticated.status_code in (401, 404) and error_of(unauthenticated)


def test_405_is_json_too(api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("editor").delete("/api/v1/units")
    assert response.status_code == 405
    error_of(response)


def test_every_answer_is_json_with_no_204(api_as, make_post) -> None:  # type: ignore[no-untyped-def]
    editor = api_as("editor")
    approver = api_as("approver")
    post = make_post(author=editor.user)
    for response in (editor.post(f"/api/v1/posts/{post.id}/submit"),
                     approver.post(f"/api/v1/posts/{post.id}/reject", json={"reason": "Sửa lại"}),
                     editor.post(f"/api/v1/posts/{post.id}/submit"),
                     approver.post(f"/api/v1/posts/{post.id}/approve"),
                     editor.get("/api/v1/units"), editor.get("/api/v1/campaigns"), editor.get("/api/v1/posts")):
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert isinstance(response.get_json(), dict)


# --- units ---------------------------------------------------------------------------------------------------


def test_units_list_and_create(api_as, root_unit, make_unit) -> None:  # type: ignore[no-untyped-def]
    admin = api_as("admin")
    created = admin.post("/api/v1/units", json={"name": "LĐLĐ huyện Văn Lâm", "parent_id": root_unit.id})
    assert created.status_code == 201
    unit = created.get_json()
    assert unit["parent_id"] == root_unit.id and unit["name"] == "LĐLĐ huyện Văn Lâm"
    child = admin.post("/api/v1/units", json={"name": "CĐCS", "parent_id": unit["id"]}).get_json()
    listed = admin.get("/api/v1/units").get_json()["units"]
    assert [u["id"] for u in listed] == [root_unit.id, unit["id"], child["id"]]
    assert admin.get(f"/api/v1/units/{unit['id']}").get_json()["name"] == "LĐLĐ huyện Văn Lâm"

    for body, field in (({"name": "x"}, "parent_id"), ({"name": "", "parent_id": root_unit.id}, "name"),
                        ({"name": "x", "parent_id": 999999}, "parent_id"), ({"name": 5, "parent_id": root_unit.id},
                                                                           "name"),
                        ({"name": "x", "parent_id": "1"}, "parent_id")):
        response = admin.post("/api/v1/units", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in error_of(response)["fields"]

    district = make_unit("Huyện B")
    local_admin = api_as("admin", unit=district)
    assert [u["id"] for u in local_admin.get("/api/v1/units").get_json()["units"]] == [district.id]
    assert local_admin.get(f"/api/v1/units/{root_unit.id}").status_code == 404
    assert local_admin.get(f"/api/v1/units/{unit['id']}").status_code == 404
    assert local_admin.post("/api/v1/units", json={"name": "x", "parent_id": unit["id"]}).status_code in (404, 422)
    assert api_as("editor").post("/api/v1/units", json={"name": "x", "parent_id": root_unit.id}).status_code == 403


# --- scope: sideways and upwards objects answer 404 ---------------------------------------------------------


def test_sibling_and_upward_objects_answer_404(api_as, make_unit, make_user, make_post, make_campaign, client,
                                               settings) -> None:  # type: ignore[no-untyped-def]
    from io import BytesIO

    from publisher.content.media import MediaLimits, save_upload

    a = make_unit("Huyện A")
    a1 = make_unit("CĐCS A1", parent=a)
    b = make_unit("Huyện B")
    root_editor = make_user("editor")
    b_editor = make_user("approver", unit=b)
    a_approver = api_as("approver", unit=a)

    upward = make_post(author=root_editor)
    sideways = make_post(author=b_editor)
    below = make_post(author=make_user("editor", unit=a1), state="in_review")
    up_campaign = make_campaign(root_editor)
    side_campaign = make_campaign(b_editor)
    side_media = save_upload(BytesIO(image_bytes()), "a.jpg", b_editor, settings.media_dir,
                             MediaLimits(10 * 2**20, 10 * 2**20))
    db.session.commit()

    for post in (upward, sideways):
        assert a_approver.get(f"/api/v1/posts/{post.id}").status_code == 404
        assert a_approver.patch(f"/api/v1/posts/{post.id}", json={"version": 1, "title": "x"}).status_code == 404
        for action in ("submit", "approve", "reject"):
            assert a_approver.post(f"/api/v1/posts/{post.id}/{action}", json={"reason": "x"}).status_code == 404
        assert a_approver.get(f"/api/v1/posts/{post.id}/revisions").status_code == 404
    for campaign in (up_campaign, side_campaign):
        assert a_approver.get(f"/api/v1/campaigns/{campaign.id}").status_code == 404
        assert a_approver.patch(f"/api/v1/campaigns/{campaign.id}", json={"name": "x"}).status_code == 404
    assert a_approver.get(f"/api/v1/media/{side_media.id}").status_code == 404
    assert a_approver.patch(f"/api/v1/media/{side_media.id}", json={"caption": "x"}).status_code == 404
    # ...nor can they be attached to one's own post
    response = a_approver.post("/api/v1/posts", json={**POST, "campaign_id": side_campaign.id,
                                                      "media_ids": [side_media.id]})
    assert response.status_code == 422
    assert {"campaign_id", "media_ids"} <= set(error_of(response)["fields"])
    assert a_approver.post("/api/v1/posts", json={**POST, "unit_id": b.id}).status_code == 404
    assert a_approver.post("/api/v1/campaigns", json={"name": "x", "unit_id": b.id}).status_code == 404

    listed = {p["id"] for p in a_approver.get("/api/v1/posts").get_json()["posts"]}
    assert listed == {below.id}
    assert a_approver.get("/api/v1/campaigns").get_json()["campaigns"] == []
    # ...while the unit below is in scope
    assert a_approver.post(f"/api/v1/posts/{below.id}/approve").get_json()["state"] == "approved"
    in_a1 = a_approver.post("/api/v1/posts", json={**POST, "unit_id": a1.id})
    assert in_a1.status_code == 201 and in_a1.get_json()["unit_id"] == a1.id


# --- campaigns -----------------------------------------------------------------------------------------------


def test_campaigns(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    response = api.post("/api/v1/campaigns", json={"name": "Tháng Công nhân 2026", "description": "Tuyên truyền",
                                                   "starts_on": "2026-05-01", "ends_on": "2026-05-31",
                                                   "hashtags": ["#ThangCongNhan", "ThangCongNhan", "ATVSLĐ"],
                                                   "goal": "100 000 lượt xem"})
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    assert campaign["hashtags"] == ["ThangCongNhan", "ATVSLĐ"] and campaign["starts_on"] == "2026-05-01"
    assert campaign["description"] == "Tuyên truyền" and campaign["goal"] == "100 000 lượt xem"
    assert api.get(f"/api/v1/campaigns/{campaign['id']}").get_json() == campaign
    assert [c["id"] for c in api.get("/api/v1/campaigns").get_json()["campaigns"]] == [campaign["id"]]
    changed = api.patch(f"/api/v1/campaigns/{campaign['id']}", json={"ends_on": "2026-06-15"})
    assert changed.status_code == 200 and changed.get_json()["ends_on"] == "2026-06-15"
    for body, field in (({"name": ""}, "name"), ({"name": "x", "starts_on": "2026-13-01"}, "starts_on"),
                        ({"name": "x", "starts_on": "2026-05-10", "ends_on": "2026-05-01"}, "ends_on"),
                        ({"name": "x", "hashtags": ["two words"]}, "hashtags"), ({"name": "x", "budget": 1}, "budget"),
                        ({"name": "x", "hashtags": "x"}, "hashtags"), ({"name": ["x"]}, "name")):
        refused = api.post("/api/v1/campaigns", json=body)
        assert refused.status_code == 422, (body, refused.get_json())
        assert field in error_of(refused)["fields"]
    assert api.patch(f"/api/v1/campaigns/{campaign['id']}", json={"ends_on": "2026-04-01"}).status_code == 422


# --- media through the API -----------------------------------------------------------------------------------


def test_media_upload_show_and_caption(api_as, client) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    response = api.post("/api/v1/media", data={"file": (__import__("io").BytesIO(image_bytes()), "ảnh.jpg"),
                                               "caption": "Hội nghị", "alt_text": "Đại biểu"},
                        content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["kind"] == "image" and {"w480", "w960", "social", "youtube_thumb"} <= set(item["renditions"])
    assert item["caption"] == "Hội nghị" and item["alt_text"] == "Đại biểu" and item["filename"] == "ảnh.jpg"
    assert client.get(item["renditions"]["social"]["url"]).status_code == 200
    assert api.get(f"/api/v1/media/{item['id']}").get_json() == item
    changed = api.patch(f"/api/v1/media/{item['id']}", json={"alt_text": "Ảnh đại biểu"})
    assert changed.get_json()["alt_text"] == "Ảnh đại biểu"
    assert api.patch(f"/api/v1/media/{item['id']}", json={"caption": 5}).status_code == 422
    post = api.post("/api/v1/posts", json={**POST, "media_ids": [item["id"]], "cover_media_id": item["id"]})
    assert post.status_code == 201 and post.get_json()["media_ids"] == [item["id"]]
    assert api.post("/api/v1/media", json={"file": "x"}).status_code == 422
    no_file = api.post("/api/v1/media", data={"caption": "x"}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in error_of(no_file)["fields"]
    assert api_as("viewer").post("/api/v1/media", data={"file": (__import__("io").BytesIO(image_bytes()), "a.jpg")},
                                 content_type="multipart/form-data").status_code == 403


# --- garbage never gives a 500 -------------------------------------------------------------------------------

GARBAGE = [None, True, False, 0, -1, 2**31, 2**63, 10**30, 1.5, float("1e308"), "", " ", "x" * 100_000,
           "\x00\ud7ff", "<script>alert(1)</script>", [], [None], [1, "a"], [10**30], {}, {"a": None}, {"a": [{}]}]


def _bodies(fields: list[str]) -> list[dict]:
    bodies = [{name: value} for name, value in itertools.product(fields, GARBAGE)]
    bodies += [{name: None for name in fields}, {name: "x" * 100_000 for name in fields}]
    return bodies


def test_garbage_in_every_field_never_gives_a_500(api_as, make_post, make_campaign, root_unit) -> None:  # type: ignore[no-untyped-def]
    api = api_as("admin")
    post = make_post(author=api.user)
    campaign = make_campaign(api.user)
    post_fields = ["title", "slug", "summary", "body_html", "byline", "category", "locality", "tags", "campaign_id",
                   "cover_media_id", "media_ids", "variants", "unit_id"]
    targets = [
        ("post", "/api/v1/posts", _bodies(post_fields)),
        ("patch", f"/api/v1/posts/{post.id}", [{"version": 1, **b} for b in _bodies(post_fields)]
         + [{"version": v} for v in GARBAGE]),
        ("post", "/api/v1/campaigns", _bodies(["name", "description", "starts_on", "ends_on", "hashtags", "goal",
                                               "unit_id"])),
        ("patch", f"/api/v1/campaigns/{campaign.id}", _bodies(["name", "starts_on", "hashtags"])),
        ("post", "/api/v1/units", _bodies(["name", "parent_id"])),
        ("post", f"/api/v1/posts/{post.id}/reject", _bodies(["reason"])),
        ("post", f"/api/v1/posts/{post.id}/submit", [{"x": v} for v in GARBAGE[:5]]),
    ]
    variant_bodies = [{"variants": {kind: {field: value}}} for kind, field in
                      [("facebook", "message"), ("facebook", "link"), ("youtube", "title"),
                       ("youtube", "description"), ("youtube", "tags"), ("youtube", "privacy"),
                       ("youtube", "made_for_kids"), ("website", "title"), ("website", "body_html")]
                      for value in GARBAGE]
    targets.append(("post", "/api/v1/posts", [{"title": "x", **b} for b in variant_bodies]))
    for method, path, bodies in targets:
        for body in bodies:
            response = getattr(api, method)(path, json=body)
            assert response.status_code < 500, (method, path, str(body)[:200], response.get_json())
            assert response.mimetype == "application/json"
            if response.status_code >= 400:
                error_of(response)
    for query in ("state=", "state=%00", "page=-5", "page=99999999999999", "campaign_id=99999999999999999999",
                  "campaign_id=x", "page=0"):
        response = api.get(f"/api/v1/posts?{query}")
        assert response.status_code < 500, (query, response.get_json())


def test_huge_ids_in_paths_answer_404(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("admin")
    for path in ("/api/v1/posts/2147483648", "/api/v1/campaigns/9223372036854775808", "/api/v1/media/10000000000000",
                 "/api/v1/units/99999999999999999999"):
        response = api.get(path)
        assert response.status_code == 404, (path, response.status_code)
        error_of(response)


def test_strange_json_never_gives_a_500(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    json_headers = {"Content-Type": "application/json"}
    lone = api.post("/api/v1/posts", data='{"title": "Tin \\ud800", "tags": ["\\udfff"], '
                                          '"variants": {"youtube": {"title": "\\ud800"}}}', headers=json_headers)
    assert lone.status_code == 201, lone.get_json()
    assert lone.get_json()["title"] == "Tin \ufffd" and lone.get_json()["tags"] == ["\ufffd"]
    nul = api.post("/api/v1/posts", data='{"title": "T\\u0000in"}', headers=json_headers)
    assert nul.status_code == 201 and nul.get_json()["title"] == "Tin"
    assert api.post("/api/v1/posts", data='{"title": "x", "summary": NaN}', headers=json_headers).status_code == 422
    deep = api.post("/api/v1/posts", data="[" * 100_000, headers=json_headers)
    assert deep.status_code == 400 and error_of(deep)["code"] == "malformed_body"
    deep_object = api.post("/api/v1/posts", data='{"title": ' + "[" * 100_000, headers=json_headers)
    assert deep_object.status_code == 400


def test_malformed_multipart_uploads_never_give_a_500(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    for content_type, data in (("multipart/form-data", b"garbage"), ("multipart/form-data; boundary=xyz", b"garbage"),
                               ("multipart/form-data; boundary=xyz", part + b"abc"),
                               ("multipart/form-data; boundary=xyz", part + b"\r\n--xyz--\r\n")):
        response = api.post("/api/v1/media", data=data, headers={"Content-Type": content_type})
        assert 400 <= response.status_code < 500, response.get_json()
        error_of(response)
