"""The channel connection pages under /admin/channels, against the Graph API sandbox."""

from __future__ import annotations

import pytest
from fb_fixtures import *  # noqa: F403  (the sandbox fixtures; the app points at the sandbox)

from publisher.channels.models import Channel
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
from publisher.db import db
from tests.conftest import csrf_from as csrf
from tests.conftest import sign_in


@pytest.fixture
def admin_client(client, make_user):  # type: ignore[no-untyped-def]
    sign_in(client, make_user("admin", locale="en"))
    return client


def connect_facebook(client, token=DEMO_PAGE_TOKEN):  # type: ignore[no-untyped-def]
    page = client.get("/admin/channels/new/facebook").get_data(as_text=True)
    return client.post("/admin/channels/new/facebook", data={
        "csrf_token": csrf(page), "name": "Trang Công đoàn", "page_id": DEMO_PAGE_ID, "access_token": token})


def test_signed_out_visitors_go_to_sign_in(client, app):  # type: ignore[no-untyped-def]
    response = client.get("/admin/channels/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_admin_connects_a_page_and_sees_its_state(admin_client):  # type: ignore[no-untyped-def]
    listing = admin_client.get("/admin/channels/")
    assert listing.status_code == 200 and "Content-Security-Policy" in listing.headers
    assert 'href="/admin/channels/"' in listing.get_data(as_text=True)  # the nav link
    response = connect_facebook(admin_client)
    assert response.status_code == 302
    page = admin_client.get("/admin/channels/").get_data(as_text=True)
    assert "Trang Công đoàn" in page and "Connected" in page and DEMO_PAGE_ID in page
    assert DEMO_PAGE_TOKEN not in page


def test_a_user_token_is_refused_in_the_form(admin_client, graph_sandbox):  # type: ignore[no-untyped-def]
    token = graph_sandbox.create_user("Nguyễn Văn A")
    response = connect_facebook(admin_client, token)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "user access token" in page and token not in page
    assert db.session.query(Channel).count() == 0


def test_vietnamese_is_the_default(client, make_user):  # type: ignore[no-untyped-def]
    sign_in(client, make_user("admin"))
    page = client.get("/admin/channels/").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Kênh" in page


def test_test_reconnect_and_disconnect(admin_client, graph_sandbox):  # type: ignore[no-untyped-def]
    connect_facebook(admin_client)
    channel = db.session.query(Channel).one()
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    listing = admin_client.get("/admin/channels/").get_data(as_text=True)
    tested = admin_client.post(f"/admin/channels/{channel.id}/test", data={"csrf_token": csrf(listing)},
                               follow_redirects=True).get_data(as_text=True)
    assert "Test failed" in tested and "Needs reconnecting" in tested
    graph_sandbox.expired.clear()
    form = admin_client.get(f"/admin/channels/{channel.id}/reconnect").get_data(as_text=True)
    assert 'type="password"' in form
    done = admin_client.post(f"/admin/channels/{channel.id}/reconnect",
                             data={"csrf_token": csrf(form), "access_token": DEMO_PAGE_TOKEN}, follow_redirects=True)
    assert "connected again" in done.get_data(as_text=True)
    assert db.session.get(Channel, channel.id).state == "connected"
    gone = admin_client.post(f"/admin/channels/{channel.id}/disconnect", data={"csrf_token": csrf(form)},
                             follow_redirects=True).get_data(as_text=True)
    assert "Disconnected" in gone and db.session.get(Channel, channel.id).secrets_encrypted is None


def test_forms_without_their_token_are_refused(admin_client):  # type: ignore[no-untyped-def]
    response = admin_client.post("/admin/channels/new/website", data={"name": "Cổng"})
    assert response.status_code == 400 and db.session.query(Channel).count() == 0


def test_connect_form_errors_are_shown(admin_client):  # type: ignore[no-untyped-def]
    page = admin_client.get("/admin/channels/new/facebook").get_data(as_text=True)
    response = admin_client.post("/admin/channels/new/facebook", data={"csrf_token": csrf(page), "name": "x"})
    assert response.status_code == 422 and "Page id is required" in response.get_data(as_text=True)
    assert admin_client.get("/admin/channels/new/myspace").status_code == 404


def test_editors_see_the_list_but_cannot_change_it(admin_client, client, make_user, app):  # type: ignore[no-untyped-def]
    connect_facebook(admin_client)
    channel = db.session.query(Channel).one()
    editor = app.test_client()
    sign_in(editor, make_user("editor", locale="en"))
    page = editor.get("/admin/channels/").get_data(as_text=True)
    assert "Trang Công đoàn" in page and "/admin/channels/new/" not in page and "Reconnect" not in page
    assert editor.get("/admin/channels/new/facebook").status_code == 403
    assert editor.get(f"/admin/channels/{channel.id}/reconnect").status_code == 403
    assert editor.post(f"/admin/channels/{channel.id}/disconnect", data={"csrf_token": csrf(page)}).status_code == 403
    assert db.session.get(Channel, channel.id).state == "connected"


def test_youtube_quota_shown_and_tokens_never(admin_client, sandboxes):  # type: ignore[no-untyped-def]
    demo = sandboxes["youtube"].sandbox.demo_channel()["settings"]
    page = admin_client.get("/admin/channels/new/youtube").get_data(as_text=True)
    # A token YouTube does not know is refused at connect time, next to its field.
    refused = admin_client.post("/admin/channels/new/youtube", data={
        "csrf_token": csrf(page), "name": "Kênh YouTube", "channel_id": demo["channel_id"], "access_token": "ya29.no"})
    assert refused.status_code == 422
    admin_client.post("/admin/channels/new/youtube", data={"csrf_token": csrf(page), "name": "Kênh YouTube", **demo})
    listing = admin_client.get("/admin/channels/").get_data(as_text=True)
    assert "Kênh YouTube" in listing and "/ 10" in listing  # units used today out of the daily 10,000
    assert demo["access_token"] not in listing and demo["refresh_token"] not in listing
