"""Facebook Login in Debian's Chromium: an admin connects a Page through the sandbox's Facebook Login dialog and
Loa's Page picker, and a post is published to it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.channels.models import Channel
from publisher.channels.sandbox.facebook_login import ANALYST_PAGE_ID, SECOND_PAGE_ID
from publisher.db import db
from publisher.scheduler.models import Delivery
from tests.channels.fb_fixtures import *  # noqa: F403  (every sandbox; the app points at them)
from tests.scheduler.conftest import tick

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("close_connections")]


def test_an_admin_connects_a_page_with_facebook_login_and_it_publishes(browser_page, make_user, sandboxes, app,  # type: ignore[no-untyped-def]
                                                                       api_as):
    admin_email = make_user("admin", name="Nguyễn Văn Quản Trị").email
    a = browser_page()
    a.sign_in(admin_email)
    page = a.page
    a.goto("/admin/channels/")
    page.click("#facebook-login")
    # Facebook's dialog (the sandbox): the person keeps every permission but one and two of their Pages.
    page.wait_for_selector("form#dialog")
    assert "Cán bộ quản trị (sandbox)" in page.locator("#person").inner_text()
    page.uncheck("input[name=grant][value=read_insights]")
    page.uncheck(f"input[name=page][value='{ANALYST_PAGE_ID}']")
    a.screenshot("facebook-login-dialog")
    page.click("#allow")
    # Back in Loa: the picker, with the declined permission named in Vietnamese.
    page.wait_for_url("**/admin/channels/facebook/pages")
    assert "read_insights" in page.locator("#declined").inner_text()
    assert "Thiếu quyền" in page.locator("#declined").inner_text()
    page.check(f"input[name=page_id][value='{SECOND_PAGE_ID}']")
    a.screenshot("facebook-login-picker")
    page.click("#connect-pages")
    page.wait_for_url("**/admin/channels/")
    page.wait_for_selector(".flash-success")
    row = page.locator("tr.channel").filter(has_text="Công đoàn cơ sở Khu công nghiệp (sandbox)")
    assert row.locator(".badge-ok").count() == 1
    assert "Mã truy cập hết hạn:" in row.locator(".token-health").inner_text()
    a.screenshot("facebook-login-connected")

    db.session.rollback()
    channel = db.session.scalar(select(Channel).where(Channel.kind == "facebook"))
    assert channel is not None and channel.settings["page_id"] == SECOND_PAGE_ID
    api, approver = api_as("admin"), api_as("approver")
    post = api.post("/api/v1/posts", json={"title": "Hội nghị người lao động", "summary": "Tóm tắt",
                                           "body_html": "<p>Nội dung</p>",
                                           "variants": {"facebook": {"message": "Hội nghị người lao động 2026"}}})
    post_id = post.get_json()["id"]
    api.post(f"/api/v1/posts/{post_id}/submit")
    approver.post(f"/api/v1/posts/{post_id}/approve")
    assert api.post(f"/api/v1/posts/{post_id}/schedule", json={"channel_ids": [channel.id]}).status_code in (200, 201)
    for _ in range(4):
        tick(app)
        db.session.rollback()
        states = [d.state for d in db.session.scalars(select(Delivery).where(Delivery.post_id == post_id))]
        if states == ["published"]:
            break
    assert states == ["published"]
    graph = sandboxes["facebook"]
    assert [p.message for p in graph.page_posts(SECOND_PAGE_ID)] == ["Hội nghị người lao động 2026"]
