"""The scheduling pages: schedule form, calendar, delivery detail with "retry now", the dashboard flag."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.db import db, utcnow
from tests.scheduler.conftest import fresh, tick


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = False
    return app_config


def test_schedule_form_and_calendar(app, client, signed_in, make_post, make_channel, platform):
    user = signed_in()
    channel = make_channel(name="Trang tin Công đoàn")
    post = make_post(author=user, state="approved", title="Ngày hội công nhân")
    page = client.get(f"/admin/posts/{post.id}/schedule")
    assert page.status_code == 200 and b"Trang tin C" in page.data
    local = (utcnow() + timedelta(days=1)).astimezone(app.extensions["publisher.settings"].zone)
    answer = client.post(f"/admin/posts/{post.id}/schedule",
                         data={"channel_ids": [str(channel.id)], "mode": "at", "at": local.strftime("%Y-%m-%dT%H:%M")})
    assert answer.status_code == 302
    month = client.get(f"/admin/calendar?date={local.date().isoformat()}")
    assert month.status_code == 200 and "Ngày hội công nhân" in month.get_data(as_text=True)
    assert "Content-Security-Policy" in month.headers
    week = client.get(f"/admin/calendar?view=week&date={local.date().isoformat()}&channel_id={channel.id}")
    assert "Ngày hội công nhân" in week.get_data(as_text=True)
    assert "state-scheduled" in week.get_data(as_text=True)
    refused = client.post(f"/admin/posts/{post.id}/schedule", data={"channel_ids": [str(channel.id)], "mode": "now"})
    assert refused.status_code == 422  # already scheduled there


def test_failed_delivery_detail_and_retry_now(app, client, signed_in, make_post, make_channel, schedule, platform):
    user = signed_in()
    platform.faults = ["400"]
    [delivery] = schedule(make_post(author=user, state="approved"), [make_channel()])
    tick(app)
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "The channel refused the post as it is" in page and "<code>E400</code> fault 400" in page
    assert "Retry now" in page and "rejected" in page
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert f"/admin/deliveries/{delivery.id}" in dashboard  # flagged on the dashboard
    calendar = client.get("/admin/calendar").get_data(as_text=True)
    assert "state-failed" in calendar
    answer = client.post(f"/admin/deliveries/{delivery.id}/retry")
    assert answer.status_code == 302
    tick(app)
    assert fresh(delivery.id).state == "published"


def test_dashboard_flags_overdue_deliveries(app, client, signed_in, make_post, make_channel, schedule, platform):
    user = signed_in()
    [delivery] = schedule(make_post(author=user, state="approved", title="Bài bị trễ"), [make_channel()])
    row = fresh(delivery.id)
    row.scheduled_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert "Overdue deliveries" in page and "Bài bị trễ" in page


def test_admin_configures_webhooks(app, client, signed_in):
    from publisher.scheduler.models import Webhook

    signed_in("editor")
    assert client.get("/admin/webhooks").status_code == 403
    signed_in("admin")
    answer = client.post("/admin/webhooks", data={"url": "https://hooks.example.org/loa",
                                                  "events": ["delivery.failed"]})
    assert answer.status_code == 302
    [hook] = db.session.query(Webhook).all()
    assert hook.events == ["delivery.failed"] and len(hook.secret) >= 32
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert "https://hooks.example.org/loa" in page
    client.post("/admin/webhooks", data={"delete": str(hook.id)})
    assert db.session.query(Webhook).count() == 0


def test_pages_in_vietnamese_by_default(app, client, make_user, make_post, make_channel, schedule, platform):
    user = make_user("editor")  # locale vi
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    [delivery] = schedule(make_post(author=user, state="approved"), [make_channel()])
    calendar = client.get("/admin/calendar").get_data(as_text=True)
    assert '<html lang="vi">' in calendar and "Lịch đăng" in calendar
    detail = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "Đã lên lịch" in detail and "Lịch sử các lần thử" in detail
