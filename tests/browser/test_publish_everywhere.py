"""The whole product in Debian's Chromium: an admin connects the four demo channels through the channel pages
(YouTube through Google's OAuth flow, the Zalo Official Account through Zalo's OAuth v4 with PKCE, both against
their sandboxes), an editor writes a story with a video and a cover image and its Facebook, YouTube and Zalo
versions (the Zalo tab's live counters and preview), an approver approves it, it is scheduled "now" to all four
channels, a real RQ worker publishes it, and the post's and the deliveries' pages say so, with the links on each
platform; the Zalo sandbox holds the article that create → verify gave the id of."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.channels.models import Channel
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
from publisher.channels.sandbox.zalo import OA_ID, OA_NAME
from publisher.db import db
from publisher.scheduler.models import Delivery
from tests.channels.fb_fixtures import *  # noqa: F403  (every sandbox; the app points at them)
from tests.conftest import image_bytes
from tests.scheduler.conftest import tick

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("close_connections")]
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "channels.png"
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(200_000)
TITLE = "Đẩy mạnh chuyển đổi số trong hoạt động Công đoàn"
SLUG = "day-manh-chuyen-doi-so-trong-hoat-dong-cong-doan"
ZALO_TITLE = "Công đoàn tỉnh đẩy mạnh chuyển đổi số"


def deliveries_of(post_id: int) -> list[Delivery]:
    db.session.rollback()
    db.session.expire_all()  # the server thread and the worker changed the rows
    return list(db.session.scalars(select(Delivery).where(Delivery.post_id == post_id)))


def test_connect_write_approve_schedule_and_publish_everywhere(browser_page, make_user, sandboxes, app, tmp_path):  # type: ignore[no-untyped-def]
    admin_email = make_user("admin", name="Nguyễn Văn Quản Trị").email
    editor_email = make_user("editor", name="Trần Thị Biên Tập").email
    approver_email = make_user("approver", name="Lê Văn Duyệt").email
    photo = tmp_path / "hoi-nghi.jpg"
    photo.write_bytes(image_bytes(size=(1600, 1000), color="navy"))
    video = tmp_path / "phong-su.mp4"
    video.write_bytes(VIDEO)
    youtube = sandboxes["youtube"].sandbox
    zalo = sandboxes["zalo"]
    zalo.processing_polls = 2  # Zalo answers "Article is processing" (-214) twice before the article's id

    # --- an admin connects the four channels -------------------------------------------------------------
    a = browser_page()
    a.sign_in(admin_email)
    page = a.page
    a.goto("/admin/channels/")
    page.click("a.button:text-is('Trang web')")
    page.fill("#name", "Cổng thông tin Công đoàn tỉnh")
    page.click("button[type=submit].primary")
    page.wait_for_selector(".flash-success")

    page.click("a.button:text-is('Trang Facebook')")
    page.fill("#name", "Fanpage Công đoàn tỉnh")
    page.fill("#page_id", DEMO_PAGE_ID)
    page.fill("#access_token", DEMO_PAGE_TOKEN)
    page.click("button[type=submit].primary")
    page.wait_for_selector(".flash-success")

    # YouTube: Google's consent (the sandbox consents at once) and back to the channels page.
    page.click("#youtube-google")
    page.wait_for_url("**/admin/channels/")
    page.wait_for_selector(".flash-success")

    # Zalo: the OA admin allows Loa on Zalo's permission page (the sandbox allows at once), PKCE and state checked.
    page.click("#zalo-oauth")
    page.wait_for_url("**/admin/channels/")
    page.wait_for_selector(".flash-success")
    assert OA_NAME in page.locator(".flash-success").inner_text()
    rows = page.locator("tr.channel")
    assert rows.count() == 4
    assert page.locator("tr.channel .badge-ok").count() == 4, page.locator("table.channels").inner_text()
    assert youtube.channel_id in page.locator("table.channels").inner_text()
    assert OA_ID in page.locator("table.channels").inner_text()
    assert zalo.tokens.refresh, "the OAuth exchange issued a refresh token"
    shot = a.screenshot("channels")
    if os.environ.get("LOA_UPDATE_SCREENSHOTS") == "1":  # the README's picture, refreshed on request only
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)
    db.session.rollback()
    channels = {c.kind: c for c in db.session.scalars(select(Channel))}
    assert set(channels) == {"website", "facebook", "youtube", "zalo"}
    assert all(c.state == "connected" for c in channels.values())

    # --- an editor writes the story with a video, a cover image and the channel versions ---------------------
    e = browser_page()
    e.sign_in(editor_email)
    page = e.page
    e.goto("/admin/posts/new")
    page.fill("#title", TITLE)
    page.fill("#summary", "LĐLĐ tỉnh ban hành Kế hoạch hành động thực hiện Nghị quyết 06.")
    page.click(".editable")
    page.keyboard.type("Kế hoạch nêu rõ việc xây dựng và ban hành Kế hoạch hành động.")
    page.click("button.pick-media[data-target=cover]")
    page.set_input_files("#picker-upload", [str(photo), str(video)])
    page.wait_for_selector("#picker-progress li.done >> nth=1")
    page.wait_for_selector(".media-choice:has(img)")
    page.click(".media-choice:has(img)")  # the photo is the cover: the site's image and YouTube's thumbnail
    assert page.locator("#cover-preview").is_visible()
    page.click("#insert-image")
    page.click(".media-choice[data-kind=video]")  # the video is attached (Facebook takes a video or photos)
    assert page.input_value("input[name=media_ids]")
    page.click("#tab-facebook")
    page.fill("#v-facebook-message", "LĐLĐ tỉnh đẩy mạnh chuyển đổi số #CongDoan")
    page.click("#tab-youtube")
    page.fill("#v-youtube-title", "Chuyển đổi số trong hoạt động Công đoàn")
    page.fill("#v-youtube-description", "Phóng sự của LĐLĐ tỉnh")
    page.fill("#v-youtube-tags", "công đoàn, chuyển đổi số")
    page.select_option("#v-youtube-privacy", "public")
    # Zalo: "Fill from the story" writes the summary into the description; the counters count as the editor types.
    page.click("#tab-zalo")
    page.click(".fill-from-story[data-kind=zalo]")
    assert page.input_value("#v-zalo-description").startswith("LĐLĐ tỉnh ban hành Kế hoạch")
    page.fill("#v-zalo-title", ZALO_TITLE)
    page.fill("#v-zalo-author", "Ban Tuyên giáo")
    assert page.locator("output.counter[for=v-zalo-title]").inner_text() == f"{len(ZALO_TITLE)} / 150"
    assert page.locator("output.counter[for=v-zalo-author]").inner_text() == "14 / 50"
    description = page.input_value("#v-zalo-description")
    assert page.locator("output.counter[for=v-zalo-description]").inner_text() == f"{len(description)} / 300"
    preview = page.locator(".preview-zalo")
    assert preview.locator(".p-title").inner_text() == ZALO_TITLE
    assert preview.locator(".p-summary").inner_text() == description
    assert preview.locator(".p-cover").is_visible()  # the cover picture heads the article
    page.fill("#v-zalo-title", "x" * 151)  # one over Zalo's limit: the counter says so at once
    page.wait_for_selector("output.counter[for=v-zalo-title].over")
    page.fill("#v-zalo-title", ZALO_TITLE)
    e.screenshot("compose-zalo")
    page.click("#submit-review")
    page.wait_for_url(re.compile(r".*/admin/posts/\d+$"))
    assert "Đã gửi duyệt." in page.content()
    post_id = int(re.search(r"/posts/(\d+)$", page.url).group(1))

    # --- an approver approves it --------------------------------------------------------------------------
    r = browser_page()
    r.sign_in(approver_email)
    r.goto("/admin/review")
    r.page.click(f"text={TITLE}")
    r.page.click("#approve")
    r.page.wait_for_url(f"**/admin/posts/{post_id}/schedule")  # approving offers scheduling (issue #14)
    assert "Đã duyệt" in r.page.content()

    # --- the admin schedules it to all four channels, now --------------------------------------------------
    page = a.page
    a.goto(f"/admin/posts/{post_id}")
    page.click("#schedule-post")
    page.wait_for_url(f"**/admin/posts/{post_id}/schedule")
    for channel in channels.values():
        page.check(f"input[name=channel_ids][value='{channel.id}']")
    page.check("input[name=mode][value=now]")
    a.screenshot("schedule")
    page.click("form.schedule-form button[type=submit]")
    page.wait_for_url("**/admin/calendar**")
    page.wait_for_selector(".flash-success")
    assert len(deliveries_of(post_id)) == 4

    for _ in range(6):
        tick(app)
        if {d.state for d in deliveries_of(post_id)} == {"published"}:
            break
    deliveries = {d.channel.kind: d for d in deliveries_of(post_id)}
    assert {d.state for d in deliveries.values()} == {"published"}, [(d.state, d.last_error) for d in deliveries.values()]

    # --- the post's page and each delivery's page say "published", with the link on the platform -----------
    a.goto(f"/admin/posts/{post_id}")
    table = page.locator("#deliveries")
    assert page.locator("#deliveries tr.delivery .badge:has-text('Đã đăng')").count() == 4, table.inner_text()
    for kind, delivery in deliveries.items():
        row = page.locator(f"#deliveries tr.delivery[data-kind={kind}]")
        assert row.locator("a.remote").get_attribute("href") == delivery.remote_url
    a.screenshot("post-published")
    assert deliveries["website"].remote_url.endswith(f"/tin/{SLUG}")
    for kind, delivery in deliveries.items():
        a.goto(f"/admin/deliveries/{delivery.id}")
        assert page.locator(".badge.state-published").inner_text() == "Đã đăng"
        assert page.locator(f"dd a[href='{delivery.remote_url}']").count() == 1
        a.screenshot(f"delivery-{kind}")

    # --- the public article is live, and each platform holds exactly one copy -----------------------------
    reader = browser_page()
    response = reader.goto(f"/tin/{SLUG}")
    assert response.status == 200
    assert reader.page.locator("h1").first.inner_text() == TITLE
    reader.screenshot("article")
    assert list(youtube.videos) == [deliveries["youtube"].remote_id]
    assert youtube.videos[deliveries["youtube"].remote_id]["snippet"]["title"] == "Chuyển đổi số trong hoạt động Công đoàn"
    graph = sandboxes["facebook"]
    feed = [p for p in graph.posts.values() if p.page_id == DEMO_PAGE_ID]
    assert len(feed) == 1 and feed[0].kind == "video", feed
    assert deliveries["facebook"].remote_id.endswith(feed[0].id)
    assert feed[0].message == "LĐLĐ tỉnh đẩy mạnh chuyển đổi số #CongDoan"
    # Zalo: create answered a token, verify answered -214 twice and then the id; the article is the OA's only one.
    assert list(zalo.articles) == [deliveries["zalo"].remote_id]
    article = zalo.articles[deliveries["zalo"].remote_id].fields
    assert article["title"] == ZALO_TITLE and article["author"] == "Ban Tuyên giáo"
    assert article["description"] == description
    assert article["cover"]["photo_url"].endswith("/zalo.jpg")
    assert [item["type"] for item in article["body"]] == ["text", "video"], article["body"]
    assert "Kế hoạch nêu rõ việc xây dựng" in article["body"][0]["content"]
    # the video went to Zalo itself (preparevideo → token → verify) and the article names it by its video_id
    assert zalo.videos[article["body"][1]["video_id"]].data == VIDEO
    assert deliveries["zalo"].remote_url == f"https://zalo.me/{OA_ID}/article/{deliveries['zalo'].remote_id}"
    assert not zalo.pending or all(p.done for p in zalo.pending.values())
    assert [d.attempts for d in deliveries.values()] == [1, 1, 1, 1]
