"""The reports pages under /admin/reports for every role: dashboard, charts, campaign report, comments inbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from publisher.db import db
from publisher.engagement.models import InboxComment
from tests.conftest import csrf_of
from tests.conftest import sign_in_session as sign_in

ROLES = ("viewer", "editor", "approver", "admin")
JUNE = "period=custom&from=2026-06-01&to=2026-06-30"


@pytest.fixture
def inbox(seeded):  # type: ignore[no-untyped-def]
    d1 = seeded["deliveries"][0]
    comment = InboxComment(channel_id=d1.channel_id, unit_id=d1.unit_id, delivery_id=d1.id, post_id=d1.post_id,
                           remote_id="c-100", author_name="Phạm Thị Dung", message="Khi nào tổ chức hội thao?",
                           created_at=datetime(2026, 6, 10, 2, 0, tzinfo=UTC), state="new")
    other = InboxComment(channel_id=seeded["b"].id, unit_id=d1.unit_id, delivery_id=seeded["deliveries"][2].id,
                         post_id=d1.post_id, remote_id="c-101", author_name="Hoàng Văn Em",
                         message="Video rất ý nghĩa", created_at=datetime(2026, 6, 11, 2, 0, tzinfo=UTC), state="new")
    db.session.add_all([comment, other])
    db.session.commit()
    return comment


def test_signed_out_is_sent_to_sign_in(client, seeded):
    for path in ("/admin/reports/", "/admin/comments/", "/admin/reports/export.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_dashboard(client, seeded, make_user, role):
    sign_in(client, make_user(role))
    response = client.get(f"/admin/reports/?{JUNE}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-measure="views">200<' in html
    assert "Trang Facebook" in html and "Ngày hội Công nhân" in html and "Tháng Công nhân 2026" in html
    assert "+100" in html  # 200 views against 100 in May
    # no inline script (strict CSP): scripts load from the app, the charts' figures are a JSON block
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert 'style="' not in html
    assert "Content-Security-Policy" in response.headers
    assert 'lang="vi"' in html
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert client.get(src).status_code == 200, src


def test_dashboard_presets_and_sub_units(client, seeded, make_user, root_unit):
    sign_in(client, make_user("viewer"))
    html = client.get(f"/admin/reports/?{JUNE}&unit_id={root_unit.id}&include_sub_units=true").get_data(as_text=True)
    assert 'data-measure="views">207<' in html
    assert "Công đoàn trường THPT Lê Lợi" in html
    for preset in ("month", "previous_quarter", "half", "previous_year"):
        assert client.get(f"/admin/reports/?period={preset}").status_code == 200


def test_bad_dates_are_explained_not_a_crash(client, seeded, make_user):
    sign_in(client, make_user("viewer"))
    response = client.get("/admin/reports/?period=custom&from=2026-06-31&to=2026-06-01")
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True)


def test_out_of_scope_is_404(client, seeded, make_user, make_unit, make_campaign):
    sibling = make_unit("Công đoàn ngành Y tế")
    other = make_campaign(make_user("editor", unit=sibling), name="Chiến dịch khác")
    sign_in(client, make_user("admin", unit=seeded["child"]))
    assert client.get(f"/admin/reports/campaigns/{other.id}").status_code == 404
    assert client.get(f"/admin/reports/campaigns/{seeded['campaign'].id}").status_code == 404
    assert client.get(f"/admin/reports/?{JUNE}&unit_id={sibling.id}").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_campaign_report_shows_each_post_on_every_channel(client, seeded, make_user, role):
    sign_in(client, make_user(role))
    response = client.get(f"/admin/reports/campaigns/{seeded['campaign'].id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ngày hội Công nhân" in html and "Trang Facebook" in html and "Kênh YouTube" in html
    assert ">300<" in html and ">310<" in html  # d1's latest 300 views, all channels 310


@pytest.mark.parametrize("role", ROLES)
def test_comments_inbox_newest_first_and_filtered(client, inbox, seeded, make_user, role):
    sign_in(client, make_user(role))
    html = client.get("/admin/comments/").get_data(as_text=True)
    assert html.index("Hoàng Văn Em") < html.index("Phạm Thị Dung")
    assert ("Send answer" in html or "Gửi trả lời" in html) == (role != "viewer")
    only_a = client.get(f"/admin/comments/?channel={seeded['a'].id}").get_data(as_text=True)
    assert "Phạm Thị Dung" in only_a and "Hoàng Văn Em" not in only_a
    by_campaign = client.get(f"/admin/comments/?campaign_id={seeded['campaign'].id}").get_data(as_text=True)
    assert "Phạm Thị Dung" in by_campaign and "Hoàng Văn Em" in by_campaign


def test_the_old_platform_inbox_address_leads_to_the_one_inbox(client, inbox, seeded, make_user):
    sign_in(client, make_user("editor"))
    response = client.get(f"/admin/reports/comments?channel_id={seeded['a'].id}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/admin/comments/?channel={seeded['a'].id}")
    only_a = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Phạm Thị Dung" in only_a and "Hoàng Văn Em" not in only_a


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    return csrf_of(client, "/admin/comments/")


def test_viewer_cannot_answer(client, inbox, make_user, metrics_server):
    sign_in(client, make_user("viewer"))
    token = _csrf(client)
    response = client.post(f"/admin/reports/comments/{inbox.id}/answer", data={"csrf_token": token, "message": "Xin chào"})
    assert response.status_code == 403
    assert metrics_server.replies == []
    assert db.session.scalar(select(InboxComment).where(InboxComment.state == "reply")) is None


def test_editor_answers_on_the_platform(client, inbox, make_user, metrics_server):
    sign_in(client, make_user("editor"))
    token = _csrf(client)
    response = client.post(f"/admin/reports/comments/{inbox.id}/answer",
                           data={"csrf_token": token, "message": "Dự kiến tháng 7 bạn nhé!"})
    assert response.status_code == 302
    assert metrics_server.replies == [{"parent": "c-100", "message": "Dự kiến tháng 7 bạn nhé!"}]
    db.session.expire_all()
    reply = db.session.scalar(select(InboxComment).where(InboxComment.state == "reply"))
    assert reply.parent_id == inbox.id and reply.remote_id == "reply-1"
    assert db.session.get(InboxComment, inbox.id).state == "answered"
    html = client.get("/admin/comments/?state=all").get_data(as_text=True)
    assert "Dự kiến tháng 7 bạn nhé!" in html


def test_failed_answer_stores_nothing(client, inbox, make_user, metrics_server):
    sign_in(client, make_user("editor"))
    token = _csrf(client)
    metrics_server.fail_next = [(500, {})]
    response = client.post(f"/admin/reports/comments/{inbox.id}/answer", data={"csrf_token": token, "message": "Xin chào"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(InboxComment, inbox.id).state == "new"
    assert db.session.scalar(select(InboxComment).where(InboxComment.state == "reply")) is None
    assert client.post(f"/admin/reports/comments/{inbox.id}/answer", data={"message": "x"}).status_code == 400
