"""A person's pause and resume of a delivery (the ``held`` state), through the API and the pages. A hold is not the
contract's ``paused`` (channel needs reconnecting): a reconnect never resumes it, only a person does."""

from __future__ import annotations

import pytest

from publisher.db import db
from publisher.scheduler import jobs
from tests.scheduler.conftest import fresh, run_worker, soon, tick


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = False
    return app_config


# --- the API ---------------------------------------------------------------------------------------------


def test_pause_and_resume_through_the_api(app, api_as, make_post, make_channel, platform):
    api = api_as("editor")
    channel = make_channel()
    post = make_post(author=api.user, state="approved")
    [created] = api.post(f"/api/v1/posts/{post.id}/schedule",
                         json={"channel_ids": [channel.id], "at": soon(3600).isoformat()}).get_json()["deliveries"]
    before = api.get(f"/api/v1/deliveries/{created['id']}").get_json()
    held = api.post(f"/api/v1/deliveries/{created['id']}/pause")
    assert held.status_code == 200 and held.is_json
    body = held.get_json()
    assert body["state"] == "held" and body["version"] == before["version"] + 1 and body["at"] == before["at"]
    shown = api.get(f"/api/v1/posts/{post.id}").get_json()["deliveries"]
    assert [d["state"] for d in shown] == ["held"]
    again = api.post(f"/api/v1/deliveries/{created['id']}/pause")  # pausing twice changes nothing
    assert again.status_code == 200 and again.get_json()["version"] == body["version"]
    # A held delivery can still be moved; it stays held.
    moved = api.post(f"/api/v1/deliveries/{created['id']}/reschedule", json={"at": soon(7200).isoformat()})
    assert moved.status_code == 200 and moved.get_json()["state"] == "held"
    resumed = api.post(f"/api/v1/deliveries/{created['id']}/resume")
    assert resumed.status_code == 200
    assert resumed.get_json()["state"] == "scheduled" and resumed.get_json()["at"] == moved.get_json()["at"]
    assert resumed.get_json()["version"] == moved.get_json()["version"] + 1
    twice = api.post(f"/api/v1/deliveries/{created['id']}/resume")
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "invalid_state"
    cancelled = api.post(f"/api/v1/deliveries/{created['id']}/cancel")
    assert cancelled.get_json()["state"] == "cancelled"
    for action in ("pause", "resume"):
        refused = api.post(f"/api/v1/deliveries/{created['id']}/{action}")
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "invalid_state"
    assert api.post("/api/v1/deliveries/999999/pause").status_code == 404


def test_published_delivery_cannot_be_paused(app, api_as, make_post, make_channel, platform):
    api = api_as("editor")
    post = make_post(author=api.user, state="approved")
    [created] = api.post(f"/api/v1/posts/{post.id}/schedule",
                         json={"channel_ids": [make_channel().id]}).get_json()["deliveries"]
    tick(app)
    assert fresh(created["id"]).state == "published"
    for action in ("pause", "resume"):
        refused = api.post(f"/api/v1/deliveries/{created['id']}/{action}")
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "invalid_state"
    assert fresh(created["id"]).state == "published" and len(platform.posts) == 1


def test_a_held_delivery_is_not_resumed_by_a_reconnect(app, api_as, make_post, make_channel, platform, drain):
    admin = api_as("admin")
    channel = make_channel()
    platform.faults = ["401"]
    post = make_post(author=admin.user, state="approved", title="Giữ lại")
    other = make_post(author=admin.user, state="approved", title="Đi tiếp")
    [held] = admin.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [channel.id]}).get_json()[
        "deliveries"]
    [goes] = admin.post(f"/api/v1/posts/{other.id}/schedule", json={"channel_ids": [channel.id]}).get_json()[
        "deliveries"]
    tick(app)
    assert fresh(held["id"]).state == "paused" and fresh(goes["id"]).state == "paused"  # channel needs reconnecting
    assert admin.post(f"/api/v1/deliveries/{held['id']}/pause").get_json()["state"] == "held"
    # The channel is reconnected through the API (new tokens): its paused delivery resumes, the held one does not.
    patched = admin.patch(f"/api/v1/channels/{channel.id}", json={"settings": {"access_token": "mới"}})
    assert patched.status_code == 200 and patched.get_json()["state"] == "connected"
    jobs.recover_stale()  # the periodic safety net for reconnects leaves it alone too
    drain(rounds=3)
    assert fresh(goes["id"]).state == "published"
    assert fresh(held["id"]).state == "held"
    assert [p for p in platform.posts.values() if "Giữ lại" in str(p)] == []
    published_before = len(platform.posts)
    resumed = admin.post(f"/api/v1/deliveries/{held['id']}/resume").get_json()
    assert resumed["state"] == "scheduled"
    tick(app)  # its time has passed: it goes out now, once
    done = fresh(held["id"])
    assert done.state == "published" and len(platform.posts) == published_before + 1
    assert platform.duplicates() == 0


def test_resume_while_the_channel_needs_reconnecting_waits_for_it(app, api_as, make_post, make_channel, platform):
    admin = api_as("admin")
    channel = make_channel()
    post = make_post(author=admin.user, state="approved")
    [created] = admin.post(f"/api/v1/posts/{post.id}/schedule",
                           json={"channel_ids": [channel.id], "at": soon(3600).isoformat()}).get_json()["deliveries"]
    admin.post(f"/api/v1/deliveries/{created['id']}/pause")
    db.session.refresh(channel)
    channel.state = "needs_reconnect"
    db.session.commit()
    resumed = admin.post(f"/api/v1/deliveries/{created['id']}/resume").get_json()
    assert resumed["state"] == "paused"  # the contract's paused: back on its own after the reconnect
    admin.patch(f"/api/v1/channels/{channel.id}", json={"settings": {"access_token": "mới"}})
    assert fresh(created["id"]).state == "scheduled"


def test_a_stale_job_after_a_pause_does_nothing(app, make_post, make_channel, schedule, platform, make_user,
                                                settings):
    from publisher.scheduler.services import hold_delivery, resume_delivery

    editor = make_user("editor")
    [delivery] = schedule(make_post(state="approved"), [make_channel()])  # due now: its job is already queued
    stale = (delivery.id, delivery.version)
    hold_delivery(fresh(delivery.id), editor)
    db.session.commit()
    jobs.publish_delivery(*stale)
    run_worker(app)  # the job queued at scheduling time runs now: it finds a newer version
    tick(app)
    assert not platform.posts and fresh(delivery.id).state == "held"
    resume_delivery(fresh(delivery.id), editor, settings)
    db.session.commit()
    jobs.publish_delivery(*stale)  # still stale after the resume
    assert not platform.posts
    tick(app)
    assert fresh(delivery.id).state == "published" and len(platform.posts) == 1


def test_held_unconfirmed_delivery_is_looked_up_after_the_resume(app, make_post, make_channel, schedule, platform,
                                                                make_user, settings):
    from publisher.scheduler.services import hold_delivery, resume_delivery

    editor = make_user("editor")
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    row = fresh(delivery.id)
    row.state = "unconfirmed"
    db.session.commit()
    hold_delivery(fresh(delivery.id), editor)
    db.session.commit()
    assert fresh(delivery.id).needs_lookup is True
    resume_delivery(fresh(delivery.id), editor, settings)
    db.session.commit()
    tick(app)
    done = fresh(delivery.id)
    assert done.state == "published" and done.history[0].action == "lookup"


@pytest.mark.parametrize("role,allowed", [("viewer", False), ("editor", True), ("approver", True), ("admin", True)])
def test_pause_and_resume_api_for_every_role(app, api_as, make_user, make_post, make_channel, schedule, platform, role,
                                             allowed):
    [delivery] = schedule(make_post(state="approved"), [make_channel()], at=soon(3600))
    api = api_as(role)
    assert api.get(f"/api/v1/deliveries/{delivery.id}").status_code == 200
    paused = api.post(f"/api/v1/deliveries/{delivery.id}/pause")
    assert paused.status_code == (200 if allowed else 403)
    if not allowed:
        assert paused.get_json()["error"]["code"]
        fresh(delivery.id).state = "held"
        db.session.commit()
    resumed = api.post(f"/api/v1/deliveries/{delivery.id}/resume")
    assert resumed.status_code == (200 if allowed else 403)
    assert fresh(delivery.id).state == ("scheduled" if allowed else "held")


def test_openapi_describes_pause_and_resume(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/deliveries/{delivery_id}/pause"]
    assert "post" in spec["paths"]["/deliveries/{delivery_id}/resume"]
    states = spec["components"]["schemas"]["Delivery"]["properties"]["state"]["enum"]
    assert "held" in states and "paused" in states


# --- the pages -------------------------------------------------------------------------------------------


def test_pause_and_resume_on_the_delivery_page_and_the_calendar(app, client, signed_in, make_post, make_channel,
                                                                schedule, platform):
    user = signed_in("editor")
    [delivery] = schedule(make_post(author=user, state="approved", title="Hội thao"), [make_channel()],
                          at=soon(3600))
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert f"/admin/deliveries/{delivery.id}/pause" in page and "Pause" in page
    answer = client.post(f"/admin/deliveries/{delivery.id}/pause")
    assert answer.status_code == 302 and fresh(delivery.id).state == "held"
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert f"/admin/deliveries/{delivery.id}/resume" in page and "Paused by a person" in page
    assert "even when its channel is reconnected" in page
    day = fresh(delivery.id).scheduled_at.astimezone(app.extensions["publisher.settings"].zone).date().isoformat()
    calendar = client.get(f"/admin/calendar?date={day}").get_data(as_text=True)
    assert f"/admin/deliveries/{delivery.id}/resume" in calendar and "Paused by a person" in calendar
    back = client.post(f"/admin/deliveries/{delivery.id}/resume", data={"next": f"/admin/calendar?date={day}"})
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/admin/calendar?date={day}")
    assert fresh(delivery.id).state == "scheduled"
    calendar = client.get(f"/admin/calendar?date={day}").get_data(as_text=True)
    assert f"/admin/deliveries/{delivery.id}/pause" in calendar
    # A wrong move is a message, not an error page; a foreign "next" is ignored.
    client.post(f"/admin/deliveries/{delivery.id}/cancel")
    refused = client.post(f"/admin/deliveries/{delivery.id}/resume", data={"next": "https://example.org/"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/admin/deliveries/{delivery.id}")
    shown = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "cannot" in shown or "Only a paused delivery" in shown


def test_pause_page_in_vietnamese(app, client, make_user, make_post, make_channel, schedule, platform):
    user = make_user("editor")  # Vietnamese is the default locale
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    [delivery] = schedule(make_post(author=user, state="approved"), [make_channel()], at=soon(3600))
    client.post(f"/admin/deliveries/{delivery.id}/pause")
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "Tiếp tục" in page and "Tạm dừng bởi người dùng" in page


@pytest.mark.parametrize("role,allowed", [("viewer", False), ("editor", True), ("approver", True), ("admin", True)])
def test_pause_and_resume_pages_for_every_role(app, client, signed_in, make_post, make_channel, schedule, platform,
                                               role, allowed):
    [delivery] = schedule(make_post(state="approved"), [make_channel()], at=soon(3600))
    signed_in(role)
    page = client.get(f"/admin/deliveries/{delivery.id}")
    assert page.status_code == 200
    assert (f"/admin/deliveries/{delivery.id}/pause" in page.get_data(as_text=True)) is allowed
    for action, state in (("pause", "held"), ("resume", "scheduled")):
        answer = client.post(f"/admin/deliveries/{delivery.id}/{action}")
        assert answer.status_code == (302 if allowed else 403)
        assert fresh(delivery.id).state == (state if allowed else "scheduled")
