"""The editorial UI in a real browser: write, shape per channel, submit, approve; conflicts, errors, language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from publisher.content.models import Post
from publisher.content.services import update_post
from publisher.db import db
from tests.conftest import image_bytes

pytestmark = pytest.mark.browser


def fresh_post(post_id: int) -> Post:
    db.session.rollback()
    db.session.expire_all()  # the server thread changed the rows
    return db.session.get(Post, post_id)


def test_compose_submit_and_approve(browser_page, make_user, make_campaign, tmp_path):
    editor = make_user("editor", name="Trần Thị Biên Tập")
    approver = make_user("approver", name="Lê Văn Duyệt")
    make_campaign(user=editor, name="Tháng Công nhân 2026", hashtags=["ThangCongNhan", "CongDoan"])
    editor_email, approver_email = editor.email, approver.email
    photo = tmp_path / "mit-tinh.jpg"
    photo.write_bytes(image_bytes(size=(1600, 900), color="navy"))

    w = browser_page()
    w.sign_in(editor_email)
    page = w.page
    w.goto("/admin/posts/new")
    page.fill("#title", "Công đoàn tỉnh phát động Tháng Công nhân năm 2026")
    page.fill("#summary", "Hàng nghìn đoàn viên, người lao động tham gia lễ phát động.")
    page.select_option("#campaign_id", label="Tháng Công nhân 2026")
    page.click(".editable")
    page.keyboard.type("Sáng nay, Liên đoàn Lao động tỉnh long trọng tổ chức lễ phát động.")
    page.keyboard.press("Enter")
    # an image from the library, uploaded from the picker, with a caption
    page.click("#insert-image")
    page.set_input_files("#picker-upload", str(photo))
    page.wait_for_selector("#picker-progress li.done")
    page.fill("#picker-caption", "Quang cảnh lễ phát động")
    page.click(".media-choice >> nth=0")
    assert page.locator(".editable figure figcaption").inner_text() == "Quang cảnh lễ phát động"
    # the same image as cover
    page.click("button.pick-media[data-target=cover]")
    page.click(".media-choice >> nth=0")
    assert page.locator("#cover-preview").is_visible()
    # per-channel variants with live counters and warnings
    page.click("#tab-facebook")
    page.click(".fill-from-story[data-kind=facebook]")
    message = page.input_value("#v-facebook-message")
    assert "#ThangCongNhan" in message and "Công đoàn tỉnh" in message
    assert page.locator("output[for=v-facebook-message]").inner_text().startswith(str(len(message)))
    assert "#ThangCongNhan" in page.locator("[data-preview=facebook] .p-message").inner_text()
    page.click("#tab-youtube")
    page.fill("#v-youtube-title", "Lễ phát động <Tháng Công nhân>")
    # the live warning is the sentence the server says too (the field's rule in YouTube's description)
    assert "YouTube không chấp nhận ký tự < và >." in page.locator("[data-warnings=youtube]").inner_text()
    page.fill("#v-youtube-title", "Lễ phát động Tháng Công nhân 2026 " + "rất dài " * 10)
    assert page.locator("output[for=v-youtube-title].over").count() == 1
    page.fill("#v-youtube-title", "Lễ phát động Tháng Công nhân 2026")
    page.fill("#v-youtube-tags", "công đoàn, tháng công nhân")
    assert page.locator("[data-preview=youtube] .p-title").inner_text() == "Lễ phát động Tháng Công nhân 2026"
    page.click("#tab-facebook")
    # autosave creates the draft and moves the page to its edit address
    page.wait_for_url(re.compile(r".*/admin/posts/\d+/edit$"), timeout=15000)
    page.wait_for_selector("#save-status:has-text('phiên bản')")
    w.screenshot("compose")  # (the README's picture is tests/browser/test_demo_walk.py's, on the demo's data)
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url).group(1))

    page.click("#submit-review")
    page.wait_for_url(f"**/admin/posts/{post_id}")
    assert "Đã gửi duyệt." in page.content()
    post = fresh_post(post_id)
    assert post.state == "in_review"
    assert re.search(r'<figure data-media-id="\d+"><img[^>]+><figcaption>Quang cảnh lễ phát động</figcaption></figure>',
                     post.body_html), post.body_html
    assert post.cover_media_id is not None and post.media_links
    assert post.variant("youtube")["tags"] == ["công đoàn", "tháng công nhân"]

    a = browser_page()
    a.sign_in(approver_email)
    a.goto("/admin/review")
    a.page.click("text=Công đoàn tỉnh phát động Tháng Công nhân năm 2026")
    a.screenshot("review")
    a.page.click("#approve")
    a.page.wait_for_url(f"**/admin/posts/{post_id}/schedule")  # approving offers the schedule form (issue #14)
    assert "Đã duyệt" in a.page.content()
    assert fresh_post(post_id).state == "approved"


def test_stale_edit_shows_both_versions_and_keeps_mine(browser_page, make_user, make_post):
    editor = make_user("editor")
    other = make_user("editor")
    post = make_post(author=editor, title="Hội nghị người lao động")
    post_id, email = post.id, editor.email

    w = browser_page()
    w.sign_in(email)
    w.goto(f"/admin/posts/{post_id}/edit")
    # someone else saves meanwhile
    update_post(fresh_post(post_id), other, {"title": "Hội nghị người lao động năm 2026"}, 1)
    db.session.commit()
    w.page.fill("#title", "Hội nghị người lao động (bản của tôi)")
    w.page.wait_for_selector("#live-conflict:not([hidden])", timeout=15000)
    table = w.page.locator("#live-conflict").inner_text()
    assert "Hội nghị người lao động (bản của tôi)" in table and "Hội nghị người lao động năm 2026" in table
    w.screenshot("conflict")
    w.page.click("#save")
    w.page.wait_for_selector(".flash-info")
    assert not w.page.locator("#restored").is_visible()
    assert fresh_post(post_id).title == "Hội nghị người lao động (bản của tôi)"


def test_form_error_next_to_field_with_input_kept(browser_page, make_user):
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    w.goto("/admin/posts/new")
    w.page.fill("#summary", "Tóm tắt vẫn còn nguyên")
    w.page.click("#save")
    w.page.wait_for_selector(".has-error .field-error")
    assert w.page.locator("#title ~ .field-error").inner_text() == "Cần nhập tiêu đề."
    assert w.page.input_value("#summary") == "Tóm tắt vẫn còn nguyên"
    w.screenshot("form-error")
    db.session.rollback()
    assert db.session.scalar(select(Post)) is None


def test_switch_to_english(browser_page, make_user):
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    assert w.page.get_attribute("html", "lang") == "vi"
    w.goto("/admin/profile")
    w.page.select_option("#locale", "en")
    w.page.click("button[type=submit].primary")
    w.page.wait_for_selector(".flash-info")
    assert w.page.get_attribute("html", "lang") == "en"
    w.goto("/admin/")
    assert "My drafts" in w.page.content()
    w.screenshot("english-dashboard")


def test_ended_session_keeps_draft_and_restores_it(browser_page, make_user):
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    w.goto("/admin/posts/new")
    w.context.clear_cookies()  # the session ends while writing
    w.page.fill("#title", "Bài viết không được mất")
    w.page.wait_for_selector("#session-ended:not([hidden])", timeout=15000)
    w.sign_in(email)
    w.goto("/admin/posts/new")
    w.page.wait_for_selector("#restored:not([hidden])")
    assert w.page.input_value("#title") == "Bài viết không được mất"


def test_media_library_drag_and_drop_with_progress(browser_page, make_user):
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    w.goto("/admin/media")
    png = image_bytes(fmt="PNG", size=(800, 600), color="green")
    # a drop of two files onto the drop zone, built in the page as a real DataTransfer
    w.page.evaluate(
        """([bytes]) => {
            const data = new DataTransfer();
            for (const name of ["mot.png", "hai.png"]) {
                data.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
            }
            const zone = document.getElementById("dropzone");
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        [list(png)],
    )
    w.page.wait_for_selector("#upload-progress li.done >> nth=1", timeout=15000)
    assert w.page.locator("#upload-progress progress").evaluate_all("bars => bars.map(b => b.value)") == [100, 100]
    w.page.click("#upload-done a")
    w.page.wait_for_selector(".media-item img")
    first = w.page.locator(".media-item").first
    first.locator("input[name=caption]").fill("Đoàn viên tham gia hội thao")
    first.locator("input[name=alt_text]").fill("Vận động viên chạy trên sân")
    first.locator("button[type=submit]").click()
    w.page.wait_for_selector(".flash-info")
    assert w.page.locator(".media-item input[name=caption]").first.input_value() == "Đoàn viên tham gia hội thao"
    w.page.locator(".media-item details summary").first.click()
    assert "rộng 480 px" in w.page.locator(".renditions").first.inner_text()  # renditions in words, not codes
    w.screenshot("media-library")
