"""Facebook Login for Pages: the dialog, the callback, the Page picker, token health and Meta's callbacks, driven
through the real facebook-sdk (Loa's side) and plain HTTP (the person's browser) against the Graph sandbox."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fb_fixtures import *  # noqa: F403  (the sandbox fixtures; the app points at the sandbox)

from publisher.channels.models import Channel
from publisher.channels.sandbox.facebook_login import (
    ANALYST_PAGE_ID,
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    SECOND_PAGE_ID,
    login_of,
    signed_request,
)
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
from publisher.channels.services import channel_secrets
from publisher.db import db
from tests.conftest import csrf_from as csrf
from tests.conftest import sign_in
from tests.scheduler.conftest import tick

CONNECT = "/admin/channels/facebook/connect"
PICKER = "/admin/channels/facebook/pages"


@pytest.fixture
def admin(client, make_user):  # type: ignore[no-untyped-def]
    user = make_user("admin", locale="en")
    sign_in(client, user)
    return user


def through_dialog(client, *, action="allow", decline=(), pages=(DEMO_PAGE_ID, SECOND_PAGE_ID, ANALYST_PAGE_ID),  # type: ignore[no-untyped-def]
                   connect=CONNECT, before_callback=None):
    """The admin starts the sign-in; the person answers Facebook's dialog in their browser; the browser comes
    back to Loa's callback. Answers (callback URL, Loa's answer)."""
    started = client.get(connect)
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    dialog_url = started.headers["Location"]
    assert requests.get(dialog_url, timeout=5).status_code == 200
    scopes = parse_qs(urlsplit(dialog_url).query)["scope"][0].split(",")
    form = [("action", action)] + [("grant", s) for s in scopes if s not in decline] + [("page", p) for p in pages]
    answer = requests.post(dialog_url, data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    if before_callback is not None:
        before_callback()
    return f"{back.path}?{back.query}", client.get(f"{back.path}?{back.query}")


def pick(client, page_ids):  # type: ignore[no-untyped-def]
    page = client.get(PICKER).get_data(as_text=True)
    return client.post(PICKER, data={"csrf_token": csrf(page), "page_id": list(page_ids)})


def test_the_dialog_url_carries_what_meta_expects(admin, client, fb_settings):  # type: ignore[no-untyped-def]
    started = client.get(CONNECT)
    url = urlsplit(started.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == fb_settings.facebook_dialog_url
    assert url.path == f"/{fb_settings.facebook_graph_version}/dialog/oauth"
    assert query["client_id"] == DEMO_APP_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://localhost/admin/channels/facebook/callback"
    assert len(query["state"]) >= 32
    assert {"pages_show_list", "pages_manage_posts", "pages_read_engagement", "pages_manage_engagement",
            "read_insights", "pages_read_user_content"} <= set(query["scope"].split(","))


def test_editors_cannot_start_it(client, make_user):  # type: ignore[no-untyped-def]
    sign_in(client, make_user("editor", locale="en"))
    assert client.get(CONNECT).status_code == 403


def test_an_admin_connects_two_pages_each_with_its_own_token(admin, client, graph_sandbox, settings, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    _url, back = through_dialog(client)
    assert back.status_code == 302 and back.headers["Location"].endswith(PICKER)
    picker = client.get(PICKER).get_data(as_text=True)
    assert "Công đoàn tỉnh (sandbox)" in picker and "Công đoàn cơ sở Khu công nghiệp (sandbox)" in picker
    assert f'value="{ANALYST_PAGE_ID}" disabled' in picker and "You may not publish on this Page" in picker
    done = pick(client, [DEMO_PAGE_ID, SECOND_PAGE_ID])
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    channels = {c.settings["page_id"]: c for c in db.session.query(Channel).all()}
    assert set(channels) == {DEMO_PAGE_ID, SECOND_PAGE_ID}
    login = login_of(graph_sandbox)
    tokens = set()
    for page_id, channel in channels.items():
        assert channel.state == "connected" and channel.kind == "facebook"
        token = channel_secrets(channel, settings)["access_token"]
        assert graph_sandbox.tokens[token] == ("page", page_id)  # the Page's own token, not the user's
        assert login.issued[token].expires_at == 0  # read with a long-lived user token: no expiry
        health = channel.settings["token_health"]
        assert health["is_valid"] is True and health["expires_at"] is None and health["data_access_expires_at"]
        assert "pages_manage_posts" in health["scopes"]
        assert channel.settings["facebook_user_id"] == login.person_id
        tokens.add(token)
    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert "Token expires:" in listing and "never" in listing
    assert "publishing, editing and removing posts" in listing  # pages_manage_posts, in words
    everything = listing + picker + caplog.text
    assert not any(token in everything for token in tokens | set(login.issued))


def test_the_connected_page_publishes(admin, client, graph_sandbox, api_as):  # type: ignore[no-untyped-def]
    through_dialog(client)
    pick(client, [SECOND_PAGE_ID])
    channel = db.session.query(Channel).one()
    api = api_as("admin")
    approver = api_as("approver")
    post = api.post("/api/v1/posts", json={"title": "Hội nghị công nhân viên chức", "summary": "Tóm tắt",
                                           "body_html": "<p>Nội dung</p>",
                                           "variants": {"facebook": {"message": "Hội nghị CNVC năm 2026"}}}).get_json()
    api.post(f"/api/v1/posts/{post['id']}/submit")
    approver.post(f"/api/v1/posts/{post['id']}/approve")
    assert api.post(f"/api/v1/posts/{post['id']}/schedule", json={"channel_ids": [channel.id]}).status_code in (200, 201)
    for _ in range(3):
        tick(client.application)
    delivery = api.get(f"/api/v1/posts/{post['id']}").get_json()["deliveries"][0]
    assert delivery["state"] == "published", delivery
    assert [p.message for p in graph_sandbox.page_posts(SECOND_PAGE_ID)] == ["Hội nghị CNVC năm 2026"]


def test_a_wrong_or_replayed_state_connects_nothing(admin, client):  # type: ignore[no-untyped-def]
    url, back = through_dialog(client)
    assert back.status_code == 302
    replayed = client.get(url)
    assert replayed.status_code == 400 and "does not belong to a sign-in started here" in replayed.get_data(as_text=True)
    client.get(CONNECT)
    forged = client.get("/admin/channels/facebook/callback?code=abc&state=forged")
    assert forged.status_code == 400
    assert db.session.query(Channel).count() == 0


def test_a_denied_dialog_connects_nothing(admin, client):  # type: ignore[no-untyped-def]
    _url, back = through_dialog(client, action="deny")
    page = back.get_data(as_text=True)
    assert back.status_code == 400 and "You cancelled Facebook's dialog" in page
    assert db.session.query(Channel).count() == 0


def test_an_expired_code_connects_nothing(admin, client, graph_sandbox):  # type: ignore[no-untyped-def]
    _url, back = through_dialog(client, before_callback=lambda: graph_sandbox.advance(11 * 60))
    assert back.status_code == 400 and "sign-in code expired" in back.get_data(as_text=True)
    assert db.session.query(Channel).count() == 0


def test_declined_permissions_are_named_with_what_will_not_work(admin, client):  # type: ignore[no-untyped-def]
    through_dialog(client, decline=("read_insights", "pages_manage_engagement"))
    picker = client.get(PICKER).get_data(as_text=True)
    assert "read_insights (reading views and reach (insights) for the reports)" in picker
    assert "pages_manage_engagement (answering and hiding comments)" in picker
    done = pick(client, [DEMO_PAGE_ID])
    assert done.status_code == 302
    assert "read_insights" in client.get("/admin/channels/").get_data(as_text=True)  # the flashed warning
    assert db.session.query(Channel).one().settings["token_health"]["scopes"].count("read_insights") == 0


def test_without_publishing_permission_nothing_connects(admin, client):  # type: ignore[no-untyped-def]
    _url, back = through_dialog(client, decline=("pages_manage_posts",))
    page = back.get_data(as_text=True)
    assert back.status_code == 400 and "pages_manage_posts (publishing, editing and removing posts)" in page
    assert client.get(PICKER).status_code == 400
    assert db.session.query(Channel).count() == 0


def test_a_page_without_the_needed_tasks_connects_nothing(admin, client):  # type: ignore[no-untyped-def]
    through_dialog(client)
    refused = pick(client, [DEMO_PAGE_ID, ANALYST_PAGE_ID])
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "you may not publish" in page and "CREATE_CONTENT" in page
    assert db.session.query(Channel).count() == 0  # not even the good one: nothing half-connected
    assert pick(client, []).status_code == 422


def test_pages_the_person_did_not_allow_are_refused(admin, client):  # type: ignore[no-untyped-def]
    through_dialog(client, pages=(DEMO_PAGE_ID,))
    refused = pick(client, [SECOND_PAGE_ID])
    assert refused.status_code == 422 and db.session.query(Channel).count() == 0


def test_vietnamese_messages(client, make_user):  # type: ignore[no-untyped-def]
    sign_in(client, make_user("admin"))
    _url, back = through_dialog(client, action="deny")
    page = back.get_data(as_text=True)
    assert back.status_code == 400 and "Không có gì được kết nối" in page


def test_not_configured_says_so(client, make_user, app):  # type: ignore[no-untyped-def]
    import dataclasses

    sign_in(client, make_user("admin", locale="en"))
    app.extensions["publisher.settings"] = dataclasses.replace(app.extensions["publisher.settings"],
                                                               facebook_app_id=None)
    answer = client.get(CONNECT)
    assert answer.status_code == 409 and "PUBLISHER_FACEBOOK_APP_ID" in answer.get_data(as_text=True)
    assert 'id="facebook-login"' not in client.get("/admin/channels/").get_data(as_text=True)


# --- reconnecting ----------------------------------------------------------------------------------------------


def test_a_deauthorised_page_reconnects_through_the_flow_and_its_paused_delivery_goes_out(  # type: ignore[no-untyped-def]
        admin, client, graph_sandbox, api_as, settings):
    through_dialog(client)
    pick(client, [DEMO_PAGE_ID])
    channel = db.session.query(Channel).one()
    # The person removes Loa on Facebook; Meta calls the deauthorize callback.
    answer = client.post("/facebook/deauthorize", data={"signed_request": login_of(graph_sandbox).deauthorize()})
    assert answer.status_code == 200
    db.session.refresh(channel)
    assert channel.state == "needs_reconnect" and channel.secrets_encrypted is None
    api, approver = api_as("admin"), api_as("approver")
    post = api.post("/api/v1/posts", json={"title": "Tháng Công nhân", "summary": "Tóm tắt", "body_html": "<p>x</p>",
                                           "variants": {"facebook": {"message": "Tháng Công nhân 2026"}}}).get_json()
    api.post(f"/api/v1/posts/{post['id']}/submit")
    approver.post(f"/api/v1/posts/{post['id']}/approve")
    api.post(f"/api/v1/posts/{post['id']}/schedule", json={"channel_ids": [channel.id]})
    tick(client.application)
    assert api.get(f"/api/v1/posts/{post['id']}").get_json()["deliveries"][0]["state"] == "paused"
    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert f"/admin/channels/facebook/connect?channel_id={channel.id}" in listing
    _url, back = through_dialog(client, connect=f"{CONNECT}?channel_id={channel.id}")
    picker = client.get(PICKER).get_data(as_text=True)
    assert f'value="{DEMO_PAGE_ID}" checked' in picker
    assert pick(client, [DEMO_PAGE_ID]).status_code == 302
    db.session.refresh(channel)
    assert channel.state == "connected" and db.session.query(Channel).count() == 1
    for _ in range(3):
        tick(client.application)
    assert api.get(f"/api/v1/posts/{post['id']}").get_json()["deliveries"][0]["state"] == "published"


def test_a_page_connected_with_a_token_reconnects_with_login(admin, client, make_channel, settings):  # type: ignore[no-untyped-def]
    channel = make_channel("facebook", channel_settings={"page_id": DEMO_PAGE_ID},
                           secrets={"access_token": DEMO_PAGE_TOKEN})
    channel.state = "needs_reconnect"
    db.session.commit()
    through_dialog(client, connect=f"{CONNECT}?channel_id={channel.id}")
    assert pick(client, [DEMO_PAGE_ID]).status_code == 302
    db.session.refresh(channel)
    assert channel.state == "connected" and channel_secrets(channel, settings)["access_token"] != DEMO_PAGE_TOKEN


# --- token health -------------------------------------------------------------------------------------------


def test_admins_are_told_two_weeks_before_data_access_ends(admin, client, graph_sandbox, app, caplog):  # type: ignore[no-untyped-def]
    from publisher.scheduler.periodic import PERIODIC_JOBS
    from publisher.scheduler.token_health import check_facebook_tokens

    assert any(j.target.endswith(":check_facebook_tokens") for j in PERIODIC_JOBS)
    through_dialog(client)
    pick(client, [DEMO_PAGE_ID])
    assert check_facebook_tokens() == 0  # 90 days of data access left
    login_of(graph_sandbox).data_access_left(10 * 24 * 3600)
    caplog.set_level(logging.WARNING)
    assert check_facebook_tokens() == 1
    assert "Facebook access ends soon" in caplog.text and "data access ends" in caplog.text
    assert check_facebook_tokens() == 0  # told once per expiry date
    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert "Ends within 14 days" in listing
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert 'id="token-expiry"' in dashboard and "Công đoàn tỉnh (sandbox)" in dashboard


def test_the_daily_check_finds_a_revoked_token(admin, client, graph_sandbox, caplog):  # type: ignore[no-untyped-def]
    from publisher.scheduler.token_health import check_facebook_tokens

    through_dialog(client)
    pick(client, [DEMO_PAGE_ID])
    login_of(graph_sandbox).deauthorize()  # removed on Facebook, but Meta's callback never arrived
    caplog.set_level(logging.WARNING)
    assert check_facebook_tokens() == 1
    assert "no longer valid" in caplog.text
    channel = db.session.query(Channel).one()
    assert channel.state == "needs_reconnect" and "không còn hợp lệ" in channel.last_error  # a job speaks vi


def test_health_of_a_token_that_stopped_working(admin, client, graph_sandbox, settings):  # type: ignore[no-untyped-def]
    from publisher.channels.facebook_connect import read_token_health

    assert read_token_health(settings, "no-such-token")["is_valid"] is False
    health = read_token_health(settings, DEMO_PAGE_TOKEN)
    assert health["is_valid"] is True and health["type"] == "PAGE"
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    assert read_token_health(settings, DEMO_PAGE_TOKEN)["is_valid"] is False


# --- Meta's callbacks -----------------------------------------------------------------------------------------


def test_callbacks_refuse_bad_signatures_and_malformed_requests(client, make_channel):  # type: ignore[no-untyped-def]
    channel = make_channel("facebook", channel_settings={"page_id": DEMO_PAGE_ID, "facebook_user_id": "42"},
                           secrets={"access_token": DEMO_PAGE_TOKEN})
    forged = signed_request("not-the-secret", {"algorithm": "HMAC-SHA256", "user_id": "42", "issued_at": 1})
    for path in ("/facebook/deauthorize", "/facebook/data-deletion"):
        bad = client.post(path, data={"signed_request": forged})
        assert bad.status_code == 403 and bad.get_json()["error"]["code"] == "bad_signature"
        for junk in ("", "abc", "a.b", "!!!.???"):
            assert client.post(path, data={"signed_request": junk}).status_code == 400
        assert client.get(path).status_code == 405
    wrong_algorithm = signed_request(DEMO_APP_SECRET, {"algorithm": "none", "user_id": "42"})
    assert client.post("/facebook/deauthorize", data={"signed_request": wrong_algorithm}).status_code == 400
    db.session.refresh(channel)
    assert channel.state == "connected" and channel.secrets_encrypted is not None


def test_deauthorize_erases_the_tokens(client, make_channel):  # type: ignore[no-untyped-def]
    channel = make_channel("facebook", channel_settings={"page_id": DEMO_PAGE_ID, "facebook_user_id": "42"},
                           secrets={"access_token": DEMO_PAGE_TOKEN})
    other = make_channel("facebook", channel_settings={"page_id": "999", "facebook_user_id": "43"},
                         secrets={"access_token": "other"})
    good = signed_request(DEMO_APP_SECRET, {"algorithm": "HMAC-SHA256", "user_id": "42", "issued_at": 1})
    answer = client.post("/facebook/deauthorize", data={"signed_request": good})
    assert answer.status_code == 200 and answer.get_json()["channels"] == 1
    db.session.refresh(channel)
    db.session.refresh(other)
    assert channel.state == "needs_reconnect" and channel.secrets_encrypted is None
    assert other.state == "connected" and other.secrets_encrypted is not None


def test_data_deletion_answers_a_code_and_a_status_page(client, make_channel):  # type: ignore[no-untyped-def]
    channel = make_channel("facebook", channel_settings={"page_id": DEMO_PAGE_ID, "facebook_user_id": "42"},
                           secrets={"access_token": DEMO_PAGE_TOKEN})
    good = signed_request(DEMO_APP_SECRET, {"algorithm": "HMAC-SHA256", "user_id": "42", "issued_at": 1})
    answer = client.post("/facebook/data-deletion", data={"signed_request": good})
    body = answer.get_json()
    assert answer.status_code == 200 and set(body) == {"url", "confirmation_code"}
    db.session.refresh(channel)
    assert channel.secrets_encrypted is None and "facebook_user_id" not in channel.settings
    assert channel.state == "needs_reconnect"
    status = client.get(urlsplit(body["url"]).path)
    assert status.status_code == 200 and body["confirmation_code"] in status.get_data(as_text=True)
    assert "1" in status.get_data(as_text=True)
    assert client.get("/facebook/data-deletion/forged-code").status_code == 404


def test_a_page_connected_with_the_token_form_gets_its_health_read_too(admin, client):  # type: ignore[no-untyped-def]
    form = client.get("/admin/channels/new/facebook").get_data(as_text=True)
    done = client.post("/admin/channels/new/facebook", data={"csrf_token": csrf(form), "name": "Trang",
                                                              "page_id": DEMO_PAGE_ID, "access_token": DEMO_PAGE_TOKEN})
    assert done.status_code == 302
    health = db.session.query(Channel).one().settings["token_health"]
    assert health["is_valid"] is True and health["type"] == "PAGE"
    assert DEMO_PAGE_TOKEN not in client.get("/admin/channels/").get_data(as_text=True)


def test_facebook_failing_during_the_callback_connects_nothing(admin, client, graph_sandbox):  # type: ignore[no-untyped-def]
    graph_sandbox.server_error("/oauth/access_token", status=503, count=1)
    _url, back = through_dialog(client)
    page = back.get_data(as_text=True)
    assert back.status_code == 400 and "Facebook refused the sign-in" in page
    assert client.get(PICKER).status_code == 400 and db.session.query(Channel).count() == 0
    _url, back = through_dialog(client)  # starting again works
    graph_sandbox.rate_limit("/me/accounts", code=4, count=5)
    assert client.get(PICKER).status_code == 400
    assert pick_status(client) == 400 and db.session.query(Channel).count() == 0


def pick_status(client) -> int:  # type: ignore[no-untyped-def]
    page = client.get("/admin/channels/").get_data(as_text=True)
    return client.post(PICKER, data={"csrf_token": csrf(page), "page_id": [DEMO_PAGE_ID]}).status_code
