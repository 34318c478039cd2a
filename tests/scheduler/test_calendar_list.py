"""The calendar's list view (/admin/calendar?view=list): the month's deliveries as a server-drawn table (time in the
organisation's zone, channel, post title linking to the post, state in words, actions), the toolbar's first link."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pytest

from publisher.db import db
from publisher.scheduler.models import Delivery


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    app_config["WTF_CSRF_ENABLED"] = False
    return app_config


def deliver(post, channel, at: datetime, state: str = "scheduled") -> Delivery:  # type: ignore[no-untyped-def]
    row = Delivery(post_id=post.id, channel_id=channel.id, unit_id=post.unit_id, state=state, scheduled_at=at,
                   idempotency_key=uuid.uuid4().hex)
    db.session.add(row)
    db.session.commit()
    return row


def rows(html: str) -> list[str]:
    table = re.search(r'<table class="delivery-list".*?</table>', html, re.S)
    assert table is not None, html
    return re.findall(r"<tr class=\"state-.*?</tr>", table.group(0), re.S)


def test_the_list_shows_the_months_deliveries_in_time_order(app, client, signed_in, make_post, make_channel):  # type: ignore[no-untyped-def]
    user = signed_in()
    zone = app.extensions["publisher.settings"].zone
    first, second = make_channel(name="Kênh một"), make_channel(name="Kênh hai")
    late = deliver(make_post(author=user, state="approved", title="Bài buổi chiều"), second,
                   datetime(2099, 5, 20, 15, 45, tzinfo=zone), state="failed")
    early = deliver(make_post(author=user, state="approved", title="Bài buổi sáng"), first,
                    datetime(2099, 5, 3, 6, 30, tzinfo=zone))
    deliver(make_post(author=user, state="approved", title="Bài tháng sau"), first,
            datetime(2099, 6, 1, 0, 30, tzinfo=zone))  # 31 May 17:30 UTC: June in the organisation's zone
    html = client.get("/admin/calendar?view=list&date=2099-05-10").get_data(as_text=True)
    found = rows(html)
    assert len(found) == 2 and "Bài tháng sau" not in html
    assert "Bài buổi sáng" in found[0] and "Bài buổi chiều" in found[1]
    assert "06:30" in found[0] and "15:45" in found[1]  # the organisation's wall-clock time, not UTC
    assert f'href="/admin/posts/{early.post_id}"' in found[0] and "Kênh một" in found[0]
    assert "Scheduled" in found[0] and "Failed" in found[1]
    assert f'href="/admin/deliveries/{late.id}"' in found[1] and "channel-icon" in found[1]
    assert '<th scope="col">Time</th>' in html and 'id="calendar"' not in html  # no drag calendar here


def test_the_list_is_the_toolbars_first_link(client, signed_in):  # type: ignore[no-untyped-def]
    signed_in()
    for view in ("month", "week", "day", "list"):
        html = client.get(f"/admin/calendar?view={view}&date=2099-05-10").get_data(as_text=True)
        toolbar = re.search(r'<form method="get" class="calendar-tools compact">(.*?)</form>', html, re.S)
        assert toolbar is not None
        first_link = re.search(r"<a [^>]*>", toolbar.group(1))
        assert first_link is not None and "view=list" in first_link.group(0), view
        assert ('aria-current="page"' in first_link.group(0)) == (view == "list")


def test_the_list_pauses_and_comes_back(app, client, signed_in, make_post, make_channel):  # type: ignore[no-untyped-def]
    user = signed_in()
    zone = app.extensions["publisher.settings"].zone
    delivery = deliver(make_post(author=user, state="approved"), make_channel(), datetime(2099, 5, 3, 6, 30,
                                                                                          tzinfo=zone))
    back = "/admin/calendar?view=list&date=2099-05-10"
    answer = client.post(f"/admin/deliveries/{delivery.id}/pause", data={"next": back})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(back)
    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).state == "held"
    assert "Resume" in rows(client.get(back).get_data(as_text=True))[0]


def test_the_list_in_vietnamese(client, signed_in):  # type: ignore[no-untyped-def]
    signed_in(locale="vi")
    html = client.get("/admin/calendar?view=list&date=2099-05-10").get_data(as_text=True)
    assert "Danh sách lượt đăng" in html and "Lượt đăng từ" in html


def test_a_failed_or_unconfirmed_delivery_is_offered_a_retry_not_a_pause(app, client, signed_in, make_post,  # type: ignore[no-untyped-def]
                                                                       make_channel):
    user = signed_in()
    zone = app.extensions["publisher.settings"].zone
    channel = make_channel()
    for hour, state in ((6, "failed"), (7, "unconfirmed"), (8, "scheduled")):
        deliver(make_post(author=user, state="approved"), channel, datetime(2099, 5, 3, hour, 0, tzinfo=zone),
                state=state)
    failed, unconfirmed, scheduled = rows(client.get("/admin/calendar?view=list&date=2099-05-10").get_data(as_text=True))
    for row in (failed, unconfirmed):
        assert "/retry" in row and "Retry now" in row and "/pause" not in row
    assert "/pause" in scheduled and "/retry" not in scheduled


def test_the_plain_month_table_offers_the_same_actions_as_the_list(app, client, signed_in, make_post,  # type: ignore[no-untyped-def]
                                                                   make_channel):
    """Without JavaScript the month is a plain table: a failed delivery there is tried again, not paused, as in
    the list view (one action form serves both)."""
    user = signed_in()
    zone = app.extensions["publisher.settings"].zone
    channel = make_channel()
    failed = deliver(make_post(author=user, state="approved"), channel, datetime(2099, 5, 3, 6, 0, tzinfo=zone),
                     state="failed")
    waiting = deliver(make_post(author=user, state="approved"), channel, datetime(2099, 5, 4, 6, 0, tzinfo=zone))
    html = client.get("/admin/calendar?view=month&date=2099-05-10").get_data(as_text=True)
    table = re.search(r'<table class="calendar calendar-month fallback-only">.*?</table>', html, re.S)
    assert table is not None
    assert f"/admin/deliveries/{failed.id}/retry" in table.group(0)
    assert f"/admin/deliveries/{failed.id}/pause" not in table.group(0)
    assert f"/admin/deliveries/{waiting.id}/pause" in table.group(0)
