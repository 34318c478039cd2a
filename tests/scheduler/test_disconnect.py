"""A disconnected channel (issue #19, item 2): nothing can be scheduled on it (409 in the API, a Vietnamese message
in the pages), and deliveries waiting for it when it is disconnected are ``paused`` until it is connected again
with new tokens (PATCH), as for a channel that needs reconnecting."""

from __future__ import annotations

import pytest

from publisher.db import db
from publisher.scheduler.models import Delivery
from tests.scheduler.conftest import fresh, soon, tick


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = False
    return app_config


def test_scheduling_on_a_disconnected_channel_is_refused(api_as, make_post, make_channel, make_campaign, platform):
    admin = api_as("admin")
    channel, other = make_channel(), make_channel()
    assert admin.post(f"/api/v1/channels/{channel.id}/disconnect").get_json()["state"] == "disconnected"
    post = make_post(author=admin.user, state="approved")
    for body in ({"channel_ids": [other.id, channel.id]}, {"channel_ids": [channel.id], "at": soon(3600).isoformat()},
                 {"deliveries": [{"channel_id": channel.id, "at": soon(60).isoformat()}]},
                 {"channel_ids": [channel.id], "queue": True}):
        answer = admin.post(f"/api/v1/posts/{post.id}/schedule", json=body)
        assert answer.status_code == 409, (body, answer.get_json())
        error = answer.get_json()["error"]
        assert error["code"] == "channel_disconnected" and error["channel_id"] == channel.id
    campaign = make_campaign(user=admin.user)
    in_campaign = make_post(author=admin.user, state="approved", campaign_id=campaign.id)
    series = admin.post(f"/api/v1/campaigns/{campaign.id}/schedule-series",
                        json={"channel_ids": [channel.id], "post_ids": [in_campaign.id], "start": "2030-01-01",
                              "time": "07:30"})
    assert series.status_code == 409
    assert db.session.query(Delivery).count() == 0 and platform.posts == {}


def test_the_schedule_page_refuses_a_disconnected_channel_in_vietnamese(client, signed_in, make_post, make_channel,
                                                                         platform):
    user = signed_in("admin", locale="vi")
    channel = make_channel(name="Trang cũ")
    from publisher.channels.services import disconnect_channel

    disconnect_channel(channel, user, client.application.extensions["publisher.settings"])
    db.session.commit()
    post = make_post(author=user, state="approved")
    page = client.post(f"/admin/posts/{post.id}/schedule", data={"channel_ids": [str(channel.id)], "mode": "now"})
    assert page.status_code in (409, 422)
    assert "Kênh Trang cũ đã bị ngắt kết nối" in page.get_data(as_text=True)
    assert db.session.query(Delivery).count() == 0


def test_disconnecting_pauses_waiting_deliveries_until_reconnected(app, api_as, make_post, make_channel, platform,
                                                                    drain):
    admin = api_as("admin")
    channel = make_channel()
    later = make_post(author=admin.user, state="approved", title="Để sau")
    now = make_post(author=admin.user, state="approved", title="Đăng ngay")
    [waits] = admin.post(f"/api/v1/posts/{later.id}/schedule",
                         json={"channel_ids": [channel.id], "at": soon(3600).isoformat()}).get_json()["deliveries"]
    [due] = admin.post(f"/api/v1/posts/{now.id}/schedule", json={"channel_ids": [channel.id]}).get_json()["deliveries"]
    held_post = make_post(author=admin.user, state="approved", title="Giữ lại")
    [held] = admin.post(f"/api/v1/posts/{held_post.id}/schedule",
                        json={"channel_ids": [channel.id], "at": soon(3600).isoformat()}).get_json()["deliveries"]
    admin.post(f"/api/v1/deliveries/{held['id']}/pause")

    assert admin.post(f"/api/v1/channels/{channel.id}/disconnect").status_code == 200
    assert fresh(waits["id"]).state == "paused" and fresh(due["id"]).state == "paused"
    assert fresh(held["id"]).state == "held"  # a person's hold is theirs to lift
    tick(app)  # the worker publishes nothing on a disconnected channel; nothing ends unconfirmed
    assert fresh(due["id"]).state == "paused" and platform.posts == {}
    assert admin.get(f"/api/v1/deliveries/{due['id']}").get_json()["state"] == "paused"

    # Settings without tokens do not reconnect it; new tokens do, and the paused deliveries resume on their own.
    assert admin.patch(f"/api/v1/channels/{channel.id}", json={"name": "Kênh mới"}).status_code == 200
    assert fresh(due["id"]).state == "paused"
    patched = admin.patch(f"/api/v1/channels/{channel.id}", json={"settings": {"access_token": "mới"}})
    assert patched.status_code == 200 and patched.get_json()["state"] == "connected"
    assert fresh(waits["id"]).state == "scheduled" and fresh(held["id"]).state == "held"
    drain(rounds=3, until=lambda: fresh(due["id"]).state == "published")
    assert fresh(due["id"]).state == "published" and fresh(waits["id"]).state == "scheduled"
    assert platform.duplicates() == 0


def test_a_delivery_claimed_while_its_channel_is_disconnected_is_paused(app, make_post, make_channel, schedule,
                                                                        platform):
    channel = make_channel()
    [delivery] = schedule(make_post(state="approved"), [channel])
    db.session.refresh(channel)
    channel.state = "disconnected"  # disconnected by a path that ran no hook
    db.session.commit()
    tick(app)
    assert fresh(delivery.id).state == "paused" and platform.posts == {}
