"""Campaign series and per-channel posting slots in the editorial UI: the series form, the slots form, and "put in the
next free slot" on the schedule form."""

from __future__ import annotations

from datetime import datetime

import pytest

from publisher.db import db
from publisher.scheduler.models import Delivery


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = False
    return app_config


@pytest.fixture
def campaign_with_posts(make_post, make_user):
    from publisher.content.models import Campaign

    def make(author, n=3):
        campaign = Campaign(unit_id=author.unit_id, name="Tháng Công nhân", hashtags=[], description="", goal="")
        db.session.add(campaign)
        db.session.commit()
        posts = [make_post(author=author, state="approved", title=f"Ngày {i + 1}", campaign_id=campaign.id)
                 for i in range(n)]
        return campaign, posts

    return make


def _local(app, delivery):
    return delivery.scheduled_at.astimezone(app.extensions["publisher.settings"].zone).strftime("%Y-%m-%d %H:%M")


def test_series_form_schedules_the_campaigns_approved_posts(app, client, signed_in, make_post, make_channel,
                                                            campaign_with_posts, platform):
    user = signed_in("editor")
    campaign, posts = campaign_with_posts(user)
    make_post(author=user, title="Bản nháp", campaign_id=campaign.id)  # a draft stays out of the series
    a, b = make_channel(name="Trang tin"), make_channel(name="Fanpage")
    # The schedule form of a campaign post links to the series form.
    form = client.get(f"/admin/posts/{posts[0].id}/schedule").get_data(as_text=True)
    assert f"/admin/campaigns/{campaign.id}/series" in form
    page = client.get(f"/admin/campaigns/{campaign.id}/series")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ngày 1" in text and "Ngày 3" in text and "Bản nháp" not in text
    assert "Content-Security-Policy" in page.headers
    answer = client.post(f"/admin/campaigns/{campaign.id}/series", data={
        "channel_ids": [str(a.id), str(b.id)], "start": "2099-05-01", "time": "07:30", "every_days": "2"})
    assert answer.status_code == 302 and "/admin/calendar" in answer.headers["Location"]
    rows = db.session.query(Delivery).order_by(Delivery.scheduled_at, Delivery.channel_id).all()
    assert [(r.post_id, r.channel_id, _local(app, r)) for r in rows] == [
        (posts[0].id, a.id, "2099-05-01 07:30"), (posts[0].id, b.id, "2099-05-01 07:30"),
        (posts[1].id, a.id, "2099-05-03 07:30"), (posts[1].id, b.id, "2099-05-03 07:30"),
        (posts[2].id, a.id, "2099-05-05 07:30"), (posts[2].id, b.id, "2099-05-05 07:30")]
    calendar = client.get("/admin/calendar?date=2099-05-01").get_data(as_text=True)
    assert "Ngày 1" in calendar and "Ngày 3" in calendar


def test_series_form_bad_input_is_a_clear_message_and_nothing_is_scheduled(app, client, signed_in, make_channel,
                                                                          campaign_with_posts, platform):
    user = signed_in("editor")
    campaign, _posts = campaign_with_posts(user)
    channel = make_channel()
    for data in ({"channel_ids": [str(channel.id)], "start": "mai", "time": "07:30", "every_days": "1"},
                 {"channel_ids": [str(channel.id)], "start": "2099-05-01", "time": "7 giờ", "every_days": "1"},
                 {"channel_ids": [str(channel.id)], "start": "2099-05-01", "time": "07:30", "every_days": "0"},
                 {"start": "2099-05-01", "time": "07:30", "every_days": "1"}):
        answer = client.post(f"/admin/campaigns/{campaign.id}/series", data=data)
        assert answer.status_code == 422
        assert "flash-error" in answer.get_data(as_text=True)
    assert db.session.query(Delivery).count() == 0
    assert "07:30" in answer.get_data(as_text=True)  # what was typed is kept
    assert client.get("/admin/campaigns/999999/series").status_code == 404


def test_series_form_in_vietnamese(app, client, signed_in, make_channel, campaign_with_posts, platform):
    user = signed_in("editor", locale="vi")
    campaign, _posts = campaign_with_posts(user, n=1)
    page = client.get(f"/admin/campaigns/{campaign.id}/series").get_data(as_text=True)
    assert "Lên lịch thành chuỗi" in page and "Ngày bắt đầu" in page and "Giờ trong ngày" in page
    answer = client.post(f"/admin/campaigns/{campaign.id}/series",
                         data={"channel_ids": [str(make_channel().id)], "start": "x", "time": "07:30"})
    assert answer.status_code == 422 and "2026-05-01" in answer.get_data(as_text=True)


def test_slots_form_and_put_in_the_next_free_slot(app, client, signed_in, make_user, make_post, make_channel,
                                                  platform):
    signed_in("admin")
    channel = make_channel(name="Fanpage")
    page = client.get(f"/admin/channels/{channel.id}/slots")
    assert page.status_code == 200 and 'name="slots"' in page.get_data(as_text=True)
    saved = client.post(f"/admin/channels/{channel.id}/slots", data={"slots": "19:00; 07:30, 19:00"})
    assert saved.status_code == 302
    db.session.refresh(channel)
    assert channel.settings["slots"] == ["07:30", "19:00"] and channel.settings["base_url"] == platform.url
    assert "07:30, 19:00" in client.get(f"/admin/channels/{channel.id}/slots").get_data(as_text=True)
    bad = client.post(f"/admin/channels/{channel.id}/slots", data={"slots": "07:30, 25:00"})
    assert bad.status_code == 422 and "25:00" in bad.get_data(as_text=True)
    db.session.refresh(channel)
    assert channel.settings["slots"] == ["07:30", "19:00"]  # unchanged
    # The schedule form shows the slots and queues into them.
    editor = signed_in("editor")
    zone = app.extensions["publisher.settings"].zone
    seen = []
    for i in range(3):
        post = make_post(author=editor, state="approved", title=f"Tin {i}")
        form = client.get(f"/admin/posts/{post.id}/schedule").get_data(as_text=True)
        assert "Put in the next free slot" in form and "07:30, 19:00" in form
        answer = client.post(f"/admin/posts/{post.id}/schedule",
                             data={"channel_ids": [str(channel.id)], "mode": "queue"})
        assert answer.status_code == 302
        seen.append(db.session.query(Delivery).filter_by(post_id=post.id).one().scheduled_at.astimezone(zone))
    assert [t.strftime("%H:%M") for t in seen] in (["07:30", "19:00", "07:30"], ["19:00", "07:30", "19:00"])
    assert seen[0] < seen[1] < seen[2] and seen[0] > datetime.now(zone)
    # A channel without slots: a clear message, nothing scheduled.
    bare = make_channel(name="Không khung giờ")
    post = make_post(author=editor, state="approved")
    refused = client.post(f"/admin/posts/{post.id}/schedule", data={"channel_ids": [str(bare.id)], "mode": "queue"})
    assert refused.status_code == 422 and "no posting slots" in refused.get_data(as_text=True)
    assert db.session.query(Delivery).filter_by(post_id=post.id).count() == 0


def test_slots_typed_through_the_channel_api_as_text_work_too(app, api_as, make_post, make_channel, platform):
    admin = api_as("admin")
    channel = make_channel()
    assert admin.patch(f"/api/v1/channels/{channel.id}",
                       json={"settings": {"slots": "07:30, 19:00"}}).status_code == 200
    post = make_post(author=admin.user, state="approved")
    answer = admin.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [channel.id], "queue": True})
    assert answer.status_code == 201
    at = datetime.fromisoformat(answer.get_json()["deliveries"][0]["at"]).astimezone(
        app.extensions["publisher.settings"].zone)
    assert at.strftime("%H:%M") in ("07:30", "19:00")


@pytest.mark.parametrize("role", ["viewer", "editor", "approver", "admin"])
def test_series_and_slots_pages_for_every_role(app, client, signed_in, make_user, make_channel, campaign_with_posts,
                                               platform, role):
    author = make_user("editor")
    campaign, _posts = campaign_with_posts(author, n=1)
    channel = make_channel()
    signed_in(role)
    series = client.get(f"/admin/campaigns/{campaign.id}/series")
    assert series.status_code == 200
    assert ('name="start"' in series.get_data(as_text=True)) is (role != "viewer")
    posted = client.post(f"/admin/campaigns/{campaign.id}/series", data={
        "channel_ids": [str(channel.id)], "start": "2099-05-01", "time": "07:30", "every_days": "1"})
    assert posted.status_code == (403 if role == "viewer" else 302)
    assert db.session.query(Delivery).count() == (0 if role == "viewer" else 1)
    slots = client.get(f"/admin/channels/{channel.id}/slots")
    assert slots.status_code == 200
    assert ('name="slots"' in slots.get_data(as_text=True)) is (role == "admin")
    saved = client.post(f"/admin/channels/{channel.id}/slots", data={"slots": "08:00"})
    assert saved.status_code == (302 if role == "admin" else 403)
    db.session.refresh(channel)
    assert channel.settings.get("slots") == (["08:00"] if role == "admin" else None)


def test_the_calendar_leads_to_the_series_and_slots_forms(app, client, signed_in, make_channel, campaign_with_posts,
                                                          platform):
    user = signed_in("editor")
    campaign, _posts = campaign_with_posts(user, n=1)
    channel = make_channel()
    calendar = client.get(f"/admin/calendar?channel_id={channel.id}").get_data(as_text=True)
    assert "/admin/campaigns/series" in calendar and f'value="{campaign.id}"' in calendar
    assert f"/admin/channels/{channel.id}/slots" in calendar
    chosen = client.get(f"/admin/campaigns/series?campaign_id={campaign.id}")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith(f"/admin/campaigns/{campaign.id}/series")
    assert client.get("/admin/campaigns/series").status_code == 302
    signed_in("viewer")
    assert "/admin/campaigns/series" not in client.get("/admin/calendar").get_data(as_text=True)
