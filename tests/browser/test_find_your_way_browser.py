"""Finding one's way in the editorial UI, in a real browser (issue #14, "Find your way"): one navigation grouped by
task and shown by role that fits a phone; one comments inbox; where a post stands on each channel; approving leads
to scheduling and scheduling to the calendar; the drag-and-drop calendar reschedules with the form's checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from publisher.channels.base import descriptions
from publisher.channels.models import Channel
from publisher.db import db, utcnow
from publisher.engagement.models import InboxComment
from publisher.scheduler.models import Delivery
from web.channel_look import under_white_text

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("close_connections")]
PHONE = {"width": 390, "height": 844}


def fresh(model, row_id):  # type: ignore[no-untyped-def]
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(model, row_id)


@pytest.fixture
def channels(app, root_unit) -> dict[str, Channel]:  # type: ignore[no-untyped-def]
    made = {}
    for kind, name in (("website", "Trang tin Công đoàn"), ("facebook", "Trang Facebook LĐLĐ"),
                       ("youtube", "Kênh YouTube LĐLĐ")):
        made[kind] = Channel(unit_id=root_unit.id, kind=kind, name=name, settings={}, state="connected",
                             last_error="")
        db.session.add(made[kind])
    db.session.commit()
    return made


def deliver(post, channel, at: datetime, state: str = "scheduled", **fields) -> Delivery:  # type: ignore[no-untyped-def]
    row = Delivery(post_id=post.id, channel_id=channel.id, unit_id=post.unit_id, state=state, scheduled_at=at,
                   idempotency_key=uuid.uuid4().hex, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def on_phone(browser_page):  # type: ignore[no-untyped-def]
    w = browser_page()
    w.page.set_viewport_size(PHONE)
    return w


def no_horizontal_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide at {PHONE['width']}px"


# --- 1. one navigation, grouped by task, by role, on a phone ------------------------------------------------


def test_navigation_is_grouped_by_task_and_role_and_fits_a_phone(browser_page, make_user):
    admin = make_user("admin").email
    w = on_phone(browser_page)
    w.sign_in(admin)
    page = w.page
    w.goto("/admin/")
    no_horizontal_scroll(page)
    groups = page.locator(".nav-groups")
    assert not groups.is_visible()  # a phone gets a compact menu
    page.click(".nav-toggle")
    assert groups.is_visible()
    labels = page.locator(".nav-group-toggle").all_inner_texts()
    assert labels == ["Viết và duyệt", "Lên lịch và đăng", "Bạn đọc và báo cáo", "Nguồn tin", "Quản trị"]
    page.click(".nav-group[data-group=sources] .nav-group-toggle")
    sources = page.locator(".nav-group[data-group=sources] .nav-links a")
    assert sources.all_inner_texts() == ["Hộp tin mới", "Quản lý nguồn tin"]
    no_horizontal_scroll(page)
    w.screenshot("nav-phone")
    page.click(".nav-group[data-group=sources] .nav-links a >> text=Quản lý nguồn tin")
    page.wait_for_url("**/admin/sources")
    # one dashboard: a single link of that name anywhere, the reports page is the engagement report
    w.goto("/admin/reports/")
    assert page.locator("a:text-is('Bảng điều khiển')").count() == 1
    assert page.locator(".subnav a").first.inner_text() == "Báo cáo tương tác"
    no_horizontal_scroll(page)

    # an editor sees no administration beyond the units, a viewer no news sources
    editor = browser_page()
    editor.sign_in(make_user("editor").email)
    editor.goto("/admin/")
    assert editor.page.locator(".nav-group[data-group=admin] .nav-links a").all_inner_texts() == ["Đơn vị"]
    editor.page.click(".nav-group[data-group=write] .nav-group-toggle")
    assert editor.page.locator(".nav-group[data-group=write] .nav-links").is_visible()
    viewer = browser_page()
    viewer.sign_in(make_user("viewer").email)
    viewer.goto("/admin/")
    assert viewer.page.locator(".nav-group[data-group=sources]").count() == 0
    assert "Lên lịch và đăng" in viewer.page.locator(".nav-group-toggle").all_inner_texts()
    # the dashboard still lists the user's own drafts by title
    assert viewer.page.locator("#my-drafts").count() == 1


# --- 2. one comments inbox -------------------------------------------------------------------------------


def test_one_comments_inbox_with_what_is_waiting_first(browser_page, make_user, make_post, channels, settings):
    from publisher.channels.base import adapter_class
    from publisher.scheduler.requests import publish_request_for
    from publisher.website import services as website
    from publisher.website.models import Article

    editor = make_user("editor")
    post = make_post(author=editor, state="approved", title="Hội nghị người lao động")
    site = adapter_class("website")(settings, {}, {})
    result = site.publish(publish_request_for(post, "website", uuid.uuid4().hex, settings))
    db.session.commit()
    article = db.session.get(Article, int(result.remote_id))
    website.submit_comment(article, "Bạn đọc Hoa", "Bài viết rất hay", consent=True)
    shown = website.submit_comment(article, "Bạn đọc Minh", "Đã duyệt rồi", consent=True)
    db.session.commit()
    website.moderate_comment(shown, editor, approve=True)
    fb = channels["facebook"]
    old = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    db.session.add_all([
        InboxComment(channel_id=fb.id, unit_id=fb.unit_id, post_id=post.id, remote_id="c-1", author_name="Lan FB",
                     message="Khi nào tổ chức?", created_at=old, state="new"),
        InboxComment(channel_id=fb.id, unit_id=fb.unit_id, post_id=post.id, remote_id="c-2", author_name="Tú FB",
                     message="Cảm ơn ban biên tập", created_at=old + timedelta(days=1), state="answered"),
        InboxComment(channel_id=channels["youtube"].id, unit_id=fb.unit_id, post_id=post.id, remote_id="y-1",
                     author_name="Hải YT", message="Video hay quá", created_at=old + timedelta(days=2), state="new"),
    ])
    db.session.commit()

    w = on_phone(browser_page)
    w.sign_in(editor.email)
    page = w.page
    w.goto("/admin/reports/comments")  # the old address of the platforms' inbox
    page.wait_for_url("**/admin/comments/")
    authors = page.locator(".inbox-comment .author").all_inner_texts()
    # waiting first (the reader's comment to approve, the two unanswered platform comments), nothing handled
    assert set(authors) == {"Bạn đọc Hoa", "Lan FB", "Hải YT"}
    assert page.locator(".inbox-comment[data-source=website] button:text-is('Duyệt')").count() == 1
    assert page.locator(".inbox-comment[data-source=platform] textarea").count() == 2
    no_horizontal_scroll(page)
    w.screenshot("inbox-phone")
    page.select_option("#inbox-state", "all")
    page.click(".inbox-filter button[type=submit]")
    page.wait_for_url("**state=all**")
    authors = page.locator(".inbox-comment .author").all_inner_texts()
    assert authors[:3] == ["Bạn đọc Hoa", "Hải YT", "Lan FB"] and set(authors[3:]) == {"Tú FB", "Bạn đọc Minh"}
    page.select_option("#inbox-channel", str(fb.id))
    page.click(".inbox-filter button[type=submit]")
    page.wait_for_url(f"**channel={fb.id}**")
    assert page.locator(".inbox-comment .author").all_inner_texts() == ["Lan FB", "Tú FB"]
    page.select_option("#inbox-channel", "website")
    page.select_option("#inbox-state", "waiting")
    page.click(".inbox-filter button[type=submit]")
    page.wait_for_url("**channel=website**")
    assert page.locator(".inbox-comment .author").all_inner_texts() == ["Bạn đọc Hoa"]
    page.click(".inbox-comment button:text-is('Duyệt')")
    page.wait_for_selector(".flash")
    assert "channel=website" in page.url  # back to the same filtered inbox
    assert page.locator(".inbox-comment").count() == 0
    # the old moderation address keeps working
    w.goto("/admin/comments/?state=approved")
    assert set(page.locator(".inbox-comment .author").all_inner_texts()) == {"Bạn đọc Hoa", "Bạn đọc Minh"}


# --- 3. the posts list says where each post stands on each channel -----------------------------------------


def test_posts_list_shows_each_channel_and_a_published_post_as_published(browser_page, make_user, make_post,
                                                                           channels):
    editor = make_user("editor")
    out = make_post(author=editor, state="approved", title="Bài đã đăng")
    make_post(author=editor, state="approved", title="Bài chưa đăng")
    fb = deliver(out, channels["facebook"], utcnow() - timedelta(hours=1), state="published",
                 remote_url="https://facebook.example/1", published_at=utcnow())
    yt = deliver(out, channels["youtube"], utcnow() + timedelta(days=1))
    w = on_phone(browser_page)
    w.sign_in(editor.email)
    page = w.page
    w.goto("/admin/posts")
    row = page.locator("tr", has=page.locator("a:text-is('Bài đã đăng')"))
    assert row.locator(".badge[data-published]").inner_text() == "Đã đăng trên 1 kênh"
    cells = row.locator(".delivery-standing")
    assert cells.count() == 2
    facebook = row.locator(".delivery-standing[data-kind=facebook]")
    assert "Đã đăng" in facebook.inner_text() and facebook.locator(".channel-icon").count() == 1
    assert facebook.get_attribute("href") == f"/admin/deliveries/{fb.id}"
    assert "Đã lên lịch" in row.locator(".delivery-standing[data-kind=youtube]").inner_text()
    other = page.locator("tr", has=page.locator("a:text-is('Bài chưa đăng')"))
    assert other.locator(".badge[data-published]").count() == 0 and "Chưa lên lịch" in other.inner_text()
    no_horizontal_scroll(page)
    w.screenshot("posts-phone")
    row.locator(".delivery-standing[data-kind=youtube]").click()
    page.wait_for_url(f"**/admin/deliveries/{yt.id}")
    w.goto(f"/admin/posts/{out.id}")
    assert page.locator(".badge[data-published]").inner_text() == "Đã đăng trên 1 kênh"


# --- 4. approving leads to scheduling, scheduling to the calendar ----------------------------------------


def test_approving_offers_scheduling_and_scheduling_shows_the_calendar(browser_page, make_user, make_post,
                                                                        channels, settings):
    post = make_post(state="in_review", title="Tháng Công nhân 2099")
    w = on_phone(browser_page)
    w.sign_in(make_user("approver").email)
    page = w.page
    w.goto(f"/admin/posts/{post.id}")
    page.click("#approve")
    page.wait_for_url(f"**/admin/posts/{post.id}/schedule")
    assert "Hãy chọn kênh và thời điểm đăng bài" in page.locator(".flash").all_inner_texts()[-1]
    page.check(f"input[name=channel_ids][value='{channels['website'].id}']")
    page.check("input[name=mode][value=at]")
    page.fill("input[name=at]", "2099-05-04T09:30")
    page.click("form.schedule-form button[type=submit]")
    page.wait_for_url("**/admin/calendar?date=2099-05-04")
    event = page.locator(".ec-event", has_text="Tháng Công nhân 2099")
    event.wait_for()
    assert event.locator(".channel-icon").inner_text() == descriptions()["website"].icon  # the kind's own glyph
    no_horizontal_scroll(page)
    w.screenshot("calendar-after-scheduling-phone")


# --- 5. the calendar: views, icons and colours, drag to reschedule ----------------------------------------


def day_cell(page, day: str):  # type: ignore[no-untyped-def]
    return page.locator(f".ec-day:has(.ec-day-head time[datetime='{day}'])").first


def _drag(page, source, target) -> None:  # type: ignore[no-untyped-def]
    box, goal = source.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + (goal["x"] + goal["width"] / 2 - box["x"]) * step / 10,
                        box["y"] + (goal["y"] + goal["height"] / 2 - box["y"]) * step / 10)
    page.mouse.up()


def test_calendar_drag_reschedules_and_a_refused_move_snaps_back(browser_page, make_user, make_post, channels,
                                                                   settings):
    editor = make_user("editor")
    post = make_post(author=editor, state="approved", title="Ngày hội đoàn viên")
    other = make_post(author=editor, state="approved", title="Giải bóng đá công nhân")
    zone = settings.zone
    moving = deliver(post, channels["facebook"], datetime(2099, 5, 5, 8, 0, tzinfo=zone))
    refused = deliver(other, channels["youtube"], datetime(2099, 5, 12, 10, 0, tzinfo=zone))
    w = browser_page()
    w.sign_in(editor.email)
    page = w.page
    w.goto("/admin/calendar?date=2099-05-01")
    event = page.locator(".ec-event", has_text="Ngày hội đoàn viên")
    event.wait_for()
    assert page.locator(".calendar-js table.calendar").is_hidden()  # the library replaced the plain table
    toolbar = page.locator(".ec-toolbar")
    for label in ("Tháng", "Tuần", "Ngày", "Danh sách", "Hôm nay"):
        assert toolbar.locator(f"button:text-is('{label}')").count() == 1, label
    assert event.locator(".channel-icon.kind-facebook").inner_text() == descriptions()["facebook"].icon
    colour = event.evaluate("e => getComputedStyle(e).backgroundColor")
    ink = under_white_text(descriptions()["facebook"].colour)  # Facebook's colour, dark enough under white text
    assert colour == f"rgb({int(ink[1:3], 16)}, {int(ink[3:5], 16)}, {int(ink[5:7], 16)})"
    assert event.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    assert event.get_attribute("style") is None or "background" not in event.get_attribute("style")

    _drag(page, event, day_cell(page, "2099-05-07"))
    page.wait_for_selector("#calendar-status.flash-success:has-text('Đã đổi lịch lượt đăng.')")
    moved = fresh(Delivery, moving.id)
    assert moved.scheduled_at.astimezone(zone) == datetime(2099, 5, 7, 8, 0, tzinfo=zone)

    # someone publishes the other one meanwhile: the move is refused, says why, and the event goes back
    row = fresh(Delivery, refused.id)
    row.state = "published"
    db.session.commit()
    second = page.locator(".ec-event", has_text="Giải bóng đá công nhân")
    before = second.bounding_box()
    _drag(page, second, day_cell(page, "2099-05-14"))
    alert = page.locator("#calendar-status.flash-error")
    alert.wait_for()
    assert alert.inner_text() and "published" not in alert.inner_text().split(" ")[0]
    assert fresh(Delivery, refused.id).scheduled_at.astimezone(zone) == datetime(2099, 5, 12, 10, 0, tzinfo=zone)
    page.wait_for_function("([x, y]) => { const e = [...document.querySelectorAll('.ec-event')].find("
                           "n => n.textContent.includes('Giải bóng đá')); const b = e.getBoundingClientRect();"
                           " return Math.abs(b.x - x) < 2 && Math.abs(b.y - y) < 2; }", arg=[before["x"], before["y"]])

    # week and day views, and a phone
    page.click(".ec-toolbar button:text-is('Tuần')")
    page.click(".ec-toolbar button:text-is('Ngày')")
    phone = on_phone(browser_page)
    phone.sign_in(editor.email)
    phone.goto("/admin/calendar?date=2099-05-01")
    phone.page.locator(".ec-event", has_text="Ngày hội đoàn viên").wait_for()
    no_horizontal_scroll(phone.page)
    phone.screenshot("calendar-phone")


def test_the_week_and_day_views_show_a_post_scheduled_before_dawn(browser_page, make_user, make_post, channels,
                                                                  settings):
    """A delivery at 02:00 is on the calendar in every view: the time grid starts at midnight, not at 05:00."""
    editor = make_user("editor")
    post = make_post(author=editor, state="approved", title="Bản tin sáng sớm")
    deliver(post, channels["website"], datetime(2099, 5, 6, 2, 0, tzinfo=settings.zone))
    w = browser_page()
    w.sign_in(editor.email)
    page = w.page
    w.goto("/admin/calendar?date=2099-05-06")
    page.locator(".ec-event", has_text="Bản tin sáng sớm").wait_for()
    for view in ("Tuần", "Ngày"):
        page.click(f".ec-toolbar button:text-is('{view}')")
        event = page.locator(".ec-event", has_text="Bản tin sáng sớm")
        event.wait_for()
        assert "02:00" in event.inner_text(), view
