"""The kits pages of the editorial UI, signed in through the real sign-in form."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD


def sign_in(client, user):  # type: ignore[no-untyped-def]
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/admin/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return token


def csrf(client, path):  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_kits_pages_need_sign_in(client, app):  # type: ignore[no-untyped-def]
    response = client.get("/admin/kits/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_send_adopt_and_follow_a_kit_in_the_ui(app, make_unit, make_user, make_campaign, make_post):  # type: ignore[no-untyped-def]
    district = make_unit("LĐLĐ huyện Thọ Xuân")
    sender = make_user("editor")
    receiver = make_user("editor", unit=district)
    campaign = make_campaign(user=sender, name="Tháng Công nhân")
    post = make_post(author=sender, title="Bài mẫu chiến dịch", campaign_id=campaign.id)

    province = app.test_client()
    sign_in(province, sender)
    form_page = province.get(f"/admin/kits/new/{campaign.id}")
    assert form_page.status_code == 200
    assert "LĐLĐ huyện Thọ Xuân" in form_page.get_data(as_text=True)

    # A form error is shown next to its field, in Vietnamese, with what was typed kept.
    token = csrf(province, f"/admin/kits/new/{campaign.id}")
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
    adopted = district_client.post(f"/admin/kits/{kit_id}/adopt", data={"csrf_token": csrf(district_client, "/admin/kits/")})
    assert adopted.status_code == 302
    page = province.get(progress_url).get_data(as_text=True)
    assert "state-adopted" in page
