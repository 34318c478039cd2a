"""The whole editorial job on a 390 px phone (issue #14, "quality bars"): an editor composes a story and sends it
for review, an approver approves it, schedules it on the website for tomorrow and finds it in the calendar; the
posts list and the comments page are looked at too. No page it visits is wider than the phone (the document's
scrollWidth). Screenshots go to test-artifacts/ (the README's phone pictures come from tests/browser/test_demo_walk.py,
on the demo's data)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from publisher.db import db, utcnow

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
TITLE = "Công đoàn tỉnh trao 500 suất quà Tết cho đoàn viên khó khăn"


def shot(w, name: str) -> None:  # type: ignore[no-untyped-def]
    w.screenshot(f"{name}-phone")


def fits(w) -> None:  # type: ignore[no-untyped-def]
    width = w.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{w.page.url}: {width}px wide on a {PHONE['width']}px phone"


def test_compose_submit_approve_schedule_and_calendar_on_a_phone(browser_page, make_user, settings):  # type: ignore[no-untyped-def]
    from publisher.channels import services as channels

    admin = make_user("admin")
    website = channels.create_channel(admin, {"kind": "website", "name": "Cổng thông tin Công đoàn tỉnh",
                                              "settings": {}}, settings)
    db.session.commit()
    website_id = website.id
    editor_email = make_user("editor", name="Trần Thị Biên Tập").email
    approver_email = make_user("approver", name="Lê Văn Duyệt").email

    # --- the editor composes and sends for review ------------------------------------------------------------
    e = browser_page(is_mobile=True, has_touch=True)
    e.page.set_viewport_size(PHONE)
    e.sign_in(editor_email)
    page = e.page
    fits(e)  # the dashboard
    e.goto("/admin/posts/new")
    fits(e)
    page.fill("#title", TITLE)
    page.fill("#summary", "Những phần quà ấm áp đến với đoàn viên trước Tết Nguyên đán.")
    page.click(".editable")
    page.keyboard.type("Sáng nay, Liên đoàn Lao động tỉnh trao quà Tết cho đoàn viên.")
    page.keyboard.press("Enter")
    page.keyboard.type("Mỗi suất quà trị giá 1.000.000 đồng.")
    page.click("#save")
    page.wait_for_url(re.compile(r".*/admin/posts/\d+/edit$"))
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url).group(1))
    fits(e)
    shot(e, "compose")
    page.click("#submit-review")
    page.wait_for_url(f"**/admin/posts/{post_id}")
    assert "Đã gửi duyệt." in page.content()
    fits(e)
    e.goto("/admin/posts")
    assert TITLE in page.locator("body").inner_text()
    fits(e)
    shot(e, "posts")

    # --- the approver approves, schedules it for tomorrow and sees it in the calendar ------------------------
    a = browser_page(is_mobile=True, has_touch=True)
    a.page.set_viewport_size(PHONE)
    a.sign_in(approver_email)
    page = a.page
    fits(a)
    a.goto("/admin/review")
    fits(a)
    page.click(f"text={TITLE}")
    page.wait_for_selector("#approve")
    fits(a)
    page.click("#approve")
    page.wait_for_url(f"**/admin/posts/{post_id}/schedule")  # approving offers the schedule form (issue #14)
    assert "Đã duyệt" in page.content()
    fits(a)
    page.check(f"input[name=channel_ids][value='{website_id}']")
    page.check("input[name=mode][value=at]")
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(settings.zone).replace(hour=8, minute=30)
    page.fill("input[name=at]", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.click("form.schedule-form button[type=submit]")
    page.wait_for_url("**/admin/calendar**")
    page.wait_for_selector(".flash-success")
    assert "08:30" in page.locator("body").inner_text()
    fits(a)
    shot(a, "calendar")
    a.goto("/admin/comments/")
    fits(a)
    shot(a, "comments")
