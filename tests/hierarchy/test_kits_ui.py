"""The kits pages of the editorial UI, signed in through the real sign-in form."""

from __future__ import annotations

import re

from publisher.db import db
from tests.conftest import csrf_of, sign_in


def test_kits_pages_need_sign_in(client, app):  # type: ignore[no-untyped-def]
    response = client.get("/admin/kits/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_send_adopt_and_follow_a_kit_in_the_ui(app, make_unit, make_user, make_campaign, make_post):  # type: ignore[no-untyped-def]
    district = make_unit("LĐLĐ huyện Thọ Xuân")
    sender = make_user("editor")
    receiver = make_user("editor", unit=district)
    campaign = make_campaign(user=sender, name="Tháng Công nhân")
    post = make_post(author=sender, title="Bài mẫu chiến dịch", campaign_id=campaign.id, state="approved")

    province = app.test_client()
    sign_in(province, sender)
    form_page = province.get(f"/admin/kits/new/{campaign.id}")
    assert form_page.status_code == 200
    assert "LĐLĐ huyện Thọ Xuân" in form_page.get_data(as_text=True)

    # A form error is shown next to its field, in Vietnamese, with what was typed kept.
    token = csrf_of(province, f"/admin/kits/new/{campaign.id}")
    bad = province.post(f"/admin/kits/new/{campaign.id}", data={"csrf_token": token, "deadline": "2026-13-45",
                                                                "unit_ids": [str(district.id)]})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "field-error" in body and 'value="2026-13-45"' in body

    sent = province.post(f"/admin/kits/new/{campaign.id}", data={
        "csrf_token": token, "post_ids": [str(post.id)], "unit_ids": [str(district.id)], "deadline": "2026-12-31"})
    assert sent.status_code == 302
    progress_url = sent.headers["Location"]
    assert "chưa" in province.get(progress_url).get_data(as_text=True).lower() or \
        "not acted" in province.get(progress_url).get_data(as_text=True)

    district_client = app.test_client()
    sign_in(district_client, receiver)
    inbox = district_client.get("/admin/kits/")
    assert "Tháng Công nhân" in inbox.get_data(as_text=True)
    kit_id = re.search(r"/admin/kits/(\d+)/adopt", inbox.get_data(as_text=True)).group(1)
    # Posted without its CSRF token: refused, nothing adopted.
    assert district_client.post(f"/admin/kits/{kit_id}/adopt").status_code == 400
    adopted = district_client.post(f"/admin/kits/{kit_id}/adopt", data={"csrf_token": csrf_of(district_client, "/admin/kits/")})
    assert adopted.status_code == 302
    page = province.get(progress_url).get_data(as_text=True)
    assert "state-adopted" in page


def test_a_kit_sent_with_suggested_times_shows_them_to_the_receiving_unit(  # type: ignore[no-untyped-def]
        app, make_unit, make_user, make_campaign, make_post):
    from publisher.hierarchy.models import AdoptedPost, Kit

    district = make_unit("LĐLĐ huyện Thọ Xuân")
    sender = make_user("editor")
    receiver = make_user("editor", unit=district)
    campaign = make_campaign(user=sender, name="Tháng Công nhân")
    suggested = make_post(author=sender, title="Bài có giờ gợi ý", campaign_id=campaign.id,
                         state="approved")
    plain = make_post(author=sender, title="Bài không hẹn giờ", campaign_id=campaign.id,
                         state="approved")
    left_out = make_post(author=sender, title="Bài không gửi", campaign_id=campaign.id,
                         state="approved")
    new_kit = f"/admin/kits/new/{campaign.id}"

    province = app.test_client()
    sign_in(province, sender)
    form_page = province.get(new_kit).get_data(as_text=True)
    assert f'name="suggested_at_{suggested.id}"' in form_page and 'type="datetime-local"' in form_page
    assert "Giờ đăng gợi ý" in form_page

    # Bad times are shown next to their post, in Vietnamese, with what was typed kept; nothing is sent.
    token = csrf_of(province, new_kit)
    bad = province.post(new_kit, data={
        "csrf_token": token, "post_ids": [str(suggested.id)], "unit_ids": [str(district.id)],
        f"suggested_at_{suggested.id}": "2020-01-01T07:30", f"suggested_at_{left_out.id}": "2030-12-03T08:00"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Giờ đăng gợi ý đã qua." in body and 'value="2020-01-01T07:30"' in body
    assert "Bài viết này không nằm trong bộ tài liệu." in body
    assert db.session.query(Kit).count() == 0
    garbled = province.post(new_kit, data={
        "csrf_token": token, "post_ids": [str(suggested.id)], "unit_ids": [str(district.id)],
        f"suggested_at_{suggested.id}": "ngày mai"})
    assert garbled.status_code == 422 and "field-error" in garbled.get_data(as_text=True)

    sent = province.post(new_kit, data={
        "csrf_token": token, "post_ids": [str(suggested.id), str(plain.id)], "unit_ids": [str(district.id)],
        f"suggested_at_{suggested.id}": "2030-12-03T07:30", f"suggested_at_{plain.id}": ""})
    assert sent.status_code == 302
    kit = db.session.query(Kit).one()
    assert {i.post_id: i.suggested_at and i.suggested_at.isoformat() for i in kit.items} == {
        suggested.id: "2030-12-03T00:30:00+00:00", plain.id: None}
    # The sender's progress page shows the suggestion in the organisation's time zone.
    progress = province.get(sent.headers["Location"]).get_data(as_text=True)
    assert "gợi ý đăng lúc" in progress and "07:30" in progress and "00:30" not in progress

    district_client = app.test_client()
    sign_in(district_client, receiver)
    inbox = district_client.get("/admin/kits/").get_data(as_text=True)
    row = inbox[inbox.index("Bài có giờ gợi ý"):]
    assert "gợi ý đăng lúc" in row[:200] and "07:30" in row[:200] and "3/12/30" in row[:200]
    assert "Bài không hẹn giờ" in inbox

    adopted = district_client.post(f"/admin/kits/{kit.id}/adopt", data={"csrf_token": csrf_of(district_client,
                                                                                             "/admin/kits/")})
    assert adopted.status_code == 302
    links = {a.original_post_id: a.post_id for a in db.session.query(AdoptedPost)}
    # The adopted draft's page and its editor show the suggestion...
    for page in (f"/admin/posts/{links[suggested.id]}", f"/admin/posts/{links[suggested.id]}/edit"):
        html = district_client.get(page).get_data(as_text=True)
        assert "Giờ đăng gợi ý của bộ tài liệu chiến dịch" in html and "07:30" in html, page
    assert "Giờ đăng gợi ý của bộ tài liệu" not in district_client.get(
        f"/admin/posts/{links[plain.id]}").get_data(as_text=True)
    # ...and its schedule form starts at the suggested time.
    schedule = district_client.get(f"/admin/posts/{links[suggested.id]}/schedule").get_data(as_text=True)
    assert 'name="at" value="2030-12-03T07:30"' in schedule
    assert re.search(r'name="mode" value="at" checked', schedule)
    plain_schedule = district_client.get(f"/admin/posts/{links[plain.id]}/schedule").get_data(as_text=True)
    assert re.search(r'name="mode" value="now" checked', plain_schedule)
