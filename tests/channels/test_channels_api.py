"""The channels JSON API and services, against the Graph API sandbox (real facebook-sdk underneath)."""

from __future__ import annotations

import logging

import pytest
from fb_fixtures import *  # noqa: F403  (the sandbox fixtures; the app points at the sandbox)

from publisher.channels import services
from publisher.channels.models import Channel
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
from publisher.db import db

FACEBOOK = {"kind": "facebook", "name": "Trang Công đoàn tỉnh",
            "settings": {"page_id": DEMO_PAGE_ID, "access_token": DEMO_PAGE_TOKEN}}


@pytest.fixture
def admin(api_as):  # type: ignore[no-untyped-def]
    return api_as("admin")


@pytest.fixture
def hooks():  # type: ignore[no-untyped-def]
    seen: list[int] = []
    hook = lambda channel: seen.append(channel.id)  # noqa: E731
    services.RECONNECT_HOOKS.append(hook)
    yield seen
    services.RECONNECT_HOOKS.remove(hook)


def connect(api, body=FACEBOOK):  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/channels", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_admin_connects_a_facebook_page_and_the_token_is_never_echoed(admin, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    response = admin.post("/api/v1/channels", json=FACEBOOK)
    assert response.status_code == 201
    body = response.get_json()
    assert body["kind"] == "facebook" and body["state"] == "connected" and body["unit_id"] == admin.user.unit_id
    assert body["settings"]["page_id"] == DEMO_PAGE_ID and body["settings"]["page_name"]
    assert body["credentials"] == ["access_token"] and "access_token" not in body["settings"]
    assert DEMO_PAGE_TOKEN not in response.get_data(as_text=True)
    listed = admin.get("/api/v1/channels")
    assert DEMO_PAGE_TOKEN not in listed.get_data(as_text=True)
    assert [c["id"] for c in listed.get_json()["channels"]] == [body["id"]]
    row = db.session.get(Channel, body["id"])
    assert DEMO_PAGE_TOKEN not in (row.secrets_encrypted or "") and DEMO_PAGE_TOKEN not in str(row.settings)
    assert DEMO_PAGE_TOKEN not in caplog.text
    from publisher.audit import AuditEntry

    assert DEMO_PAGE_TOKEN not in str([e.details for e in db.session.query(AuditEntry)])


def test_a_user_token_is_refused_at_connect_time(admin, graph_sandbox):  # type: ignore[no-untyped-def]
    token = graph_sandbox.create_user("Nguyễn Văn A")
    response = admin.post("/api/v1/channels", json={**FACEBOOK, "settings": {"page_id": DEMO_PAGE_ID,
                                                                             "access_token": token}})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "settings.access_token" in error["fields"] and "Nguyễn Văn A" in error["message"]
    assert token not in response.get_data(as_text=True)
    assert db.session.query(Channel).count() == 0


def test_an_expired_token_is_refused_with_facebooks_words(admin, graph_sandbox):  # type: ignore[no-untyped-def]
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    response = admin.post("/api/v1/channels", json=FACEBOOK)
    assert response.status_code == 422
    assert "Session has expired" in response.get_json()["error"]["fields"]["settings.access_token"][0]


@pytest.mark.parametrize("body,field", [
    ({"kind": "myspace", "name": "x"}, "kind"),
    ({"kind": "facebook", "name": "", "settings": {"page_id": "1", "access_token": "t"}}, "name"),
    ({"kind": "facebook", "name": "x", "settings": {"access_token": "t"}}, "settings.page_id"),
    ({"kind": "facebook", "name": "x", "settings": "page"}, "settings"),
    ({"kind": "facebook", "name": "x", "settings": {"page_id": ["1"], "access_token": "t"}}, "settings.page_id"),
    ({"kind": "youtube", "name": "x", "settings": {"channel_id": "UC1"}}, "settings.access_token"),
    # A setting the kind describes is text (OpenAPI says string): a number or a yes/no for a token is refused.
    ({"kind": "zalo", "name": "x", "settings": {"oa_id": "1", "access_token": 7, "refresh_token": "r"}},
     "settings.access_token"),
    ({"kind": "zalo", "name": "x", "settings": {"oa_id": "1", "access_token": "a", "refresh_token": True}},
     "settings.refresh_token"),
    ({"kind": "facebook", "name": "x", "settings": {"page_id": False, "access_token": "t"}}, "settings.page_id"),
])
def test_bad_input_names_the_field(admin, body, field):  # type: ignore[no-untyped-def]
    response = admin.post("/api/v1/channels", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_malformed_body_is_400(admin):  # type: ignore[no-untyped-def]
    assert admin.post("/api/v1/channels", data="{", headers={"Content-Type": "application/json"}).status_code == 400


def test_website_and_youtube_channels(admin, sandboxes):  # type: ignore[no-untyped-def]
    website = connect(admin, {"kind": "website", "name": "Cổng thông tin"})
    assert website["credentials"] == [] and website["state"] == "connected"
    demo = sandboxes["youtube"].sandbox.demo_channel()  # tokens the YouTube sandbox really issued
    youtube = connect(admin, {"kind": "youtube", "name": "Kênh YouTube", "settings": demo["settings"]})
    assert youtube["credentials"] == ["access_token", "client_secret", "refresh_token"]
    assert youtube["settings"] == {"channel_id": demo["settings"]["channel_id"],
                                   "client_id": demo["settings"]["client_id"]}


def test_youtube_tokens_that_do_not_work_are_refused_at_connect(admin, sandboxes):  # type: ignore[no-untyped-def]
    demo = sandboxes["youtube"].sandbox.demo_channel()
    response = admin.post("/api/v1/channels", json={"kind": "youtube", "name": "Kênh YouTube", "settings": {
        **demo["settings"], "access_token": "ya29.not-issued", "refresh_token": "1//not-issued"}})
    assert response.status_code == 422, response.get_json()
    assert admin.get("/api/v1/channels").get_json()["channels"] == []


def test_only_admins_connect_and_change_but_editors_see(admin, api_as):  # type: ignore[no-untyped-def]
    channel = connect(admin)
    editor = api_as("editor")
    assert editor.post("/api/v1/channels", json=FACEBOOK).status_code == 403
    assert editor.patch(f"/api/v1/channels/{channel['id']}", json={"name": "x"}).status_code == 403
    assert editor.post(f"/api/v1/channels/{channel['id']}/disconnect").status_code == 403
    assert editor.post(f"/api/v1/channels/{channel['id']}/test").status_code == 403
    assert editor.get(f"/api/v1/channels/{channel['id']}").get_json()["name"] == FACEBOOK["name"]


def test_channels_of_other_units_are_invisible(api_as, make_unit):  # type: ignore[no-untyped-def]
    district = make_unit("Liên đoàn Lao động huyện A")
    sibling = make_unit("Liên đoàn Lao động huyện B")
    mine = connect(api_as("admin", unit=district), {"kind": "website", "name": "Trang huyện A"})
    other = api_as("admin", unit=sibling)
    assert other.get(f"/api/v1/channels/{mine['id']}").status_code == 404
    assert other.get("/api/v1/channels").get_json()["channels"] == []
    assert other.patch(f"/api/v1/channels/{mine['id']}", json={"name": "x"}).status_code == 404
    assert other.post("/api/v1/channels", json={"kind": "website", "name": "x", "unit_id": district.id}
                      ).status_code == 404


def test_patch_merges_settings_and_keeps_the_token(admin, hooks):  # type: ignore[no-untyped-def]
    channel = connect(admin)
    response = admin.patch(f"/api/v1/channels/{channel['id']}", json={"name": "Trang mới", "settings": {"note": "a"}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Trang mới" and body["settings"]["page_id"] == DEMO_PAGE_ID and body["settings"]["note"] == "a"
    assert body["credentials"] == ["access_token"] and hooks == []


def test_reconnect_with_a_new_token_resumes_the_channel(admin, graph_sandbox, hooks, app):  # type: ignore[no-untyped-def]
    channel = connect(admin)
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    tested = admin.post(f"/api/v1/channels/{channel['id']}/test").get_json()
    assert tested["ok"] is False and tested["code"] == "190" and tested["channel"]["state"] == "needs_reconnect"
    assert "expired" in tested["channel"]["last_error"]
    fresh = graph_sandbox.create_page("Trang mới", page_id="200000000000002").token
    refused = admin.patch(f"/api/v1/channels/{channel['id']}", json={"settings": {"access_token": fresh}})
    assert refused.status_code == 422  # that token is another Page's
    assert admin.get(f"/api/v1/channels/{channel['id']}").get_json()["state"] == "needs_reconnect"
    graph_sandbox.expired.clear()
    graph_sandbox.tokens["new-page-token"] = ("page", DEMO_PAGE_ID)
    response = admin.patch(f"/api/v1/channels/{channel['id']}", json={"settings": {"access_token": "new-page-token"}})
    assert response.status_code == 200
    assert response.get_json()["state"] == "connected" and "new-page-token" not in response.get_data(as_text=True)
    assert hooks == [channel["id"]]
    row = db.session.get(Channel, channel["id"])
    assert services.channel_secrets(row, app.extensions["publisher.settings"])["access_token"] == "new-page-token"


def test_a_test_that_works_again_resumes_the_channel(admin, graph_sandbox, hooks):  # type: ignore[no-untyped-def]
    channel = connect(admin)
    row = db.session.get(Channel, channel["id"])
    services.mark_needs_reconnect(row, "Token expired")
    db.session.commit()
    tested = admin.post(f"/api/v1/channels/{channel['id']}/test").get_json()
    assert tested["ok"] is True and tested["channel"]["state"] == "connected" and hooks == [channel["id"]]


def test_disconnect_forgets_the_credentials(admin):  # type: ignore[no-untyped-def]
    channel = connect(admin)
    body = admin.post(f"/api/v1/channels/{channel['id']}/disconnect").get_json()
    assert body["state"] == "disconnected" and body["credentials"] == []
    tested = admin.post(f"/api/v1/channels/{channel['id']}/test").get_json()
    assert tested["ok"] is False
    assert admin.patch(f"/api/v1/channels/{channel['id']}", json={"settings": {"note": "x"}}).status_code == 409
    again = admin.patch(f"/api/v1/channels/{channel['id']}", json={"settings": {"access_token": DEMO_PAGE_TOKEN}})
    assert again.status_code == 200 and again.get_json()["state"] == "connected"


def test_mark_needs_reconnect_is_recorded_once(admin):  # type: ignore[no-untyped-def]
    from publisher.audit import entries_for

    channel = db.session.get(Channel, connect(admin)["id"])
    services.mark_needs_reconnect(channel, "expired")
    services.mark_needs_reconnect(channel, "expired")
    db.session.commit()
    assert [e.action for e in entries_for("channels", channel.id)].count("channel.needs_reconnect") == 1


def test_youtube_quota_used_today_is_shown(admin, sandboxes):  # type: ignore[no-untyped-def]
    demo = sandboxes["youtube"].sandbox.demo_channel()
    body = connect(admin, {"kind": "youtube", "name": "Kênh", "settings": demo["settings"]})
    assert body["quota"] == {"used": 0, "limit": 10000, "uploads": 0, "uploads_limit": 100}
    # Testing the connection asks YouTube for the channel: that call counts against today's quota.
    assert admin.post(f"/api/v1/channels/{body['id']}/test").status_code == 200
    assert admin.get(f"/api/v1/channels/{body['id']}").get_json()["quota"]["used"] >= 1
    assert connect(admin, {"kind": "website", "name": "Trang"})["quota"] is None


def test_openapi_describes_the_channel_routes(client):  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/channels"]) and "patch" in paths["/channels/{channel_id}"]
