"""Uploads checked in the browser before a byte is sent (issue #14): a file over its kind's size limit, a file that
is no picture or video, and a picture over the pixel limit are refused with a Vietnamese message, and no upload
request leaves the page."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

pytestmark = pytest.mark.browser
MB = 1024 * 1024


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    return {**app_config, "max_image_mb": 1, "max_video_mb": 2}


def huge_png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (width, height), 255).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("name, mime, content, message", [
    ("lon.png", "image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(int(1.5 * MB)), "Ảnh lớn hơn mức 1 MB cho phép."),
    ("dai.mp4", "video/mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(3 * MB),
     "Video lớn hơn mức 2 MB cho phép."),
    ("ghi-chu.jpg", "image/jpeg", "Không phải ảnh.".encode() * 100,
     "Tệp này không phải ảnh hoặc video mà Loa dùng được"),
    ("rong.png", "image/png", None, "Ảnh có 8.000×7.600 điểm ảnh; tối đa cho phép là 60 triệu điểm ảnh."),
], ids=["picture-over-size", "video-over-size", "not-media", "too-many-pixels"])
def test_a_refused_file_shows_the_vietnamese_message_and_sends_nothing(browser_page, make_user, name, mime, content,
                                                                        message):  # type: ignore[no-untyped-def]
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    w.goto("/admin/media")
    uploads: list[str] = []
    w.page.on("request", lambda r: uploads.append(r.url) if "/media/upload" in r.url else None)
    if content is None:
        content = huge_png(8000, 7600)  # 60.8 megapixels in a few hundred kilobytes
        assert len(content) < MB
    w.page.set_input_files("#media-files", {"name": name, "mimeType": mime, "buffer": content})
    refused = w.page.locator("#upload-progress li.refused")
    refused.wait_for()
    text = refused.inner_text()
    assert message in text and "Tệp chưa được gửi đi." in text, text
    w.page.wait_for_timeout(300)
    assert uploads == []


def test_a_file_within_the_limits_is_still_sent(browser_page, make_user):  # type: ignore[no-untyped-def]
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    w.goto("/admin/media")
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), "red").save(buf, "JPEG")
    w.page.set_input_files("#media-files", {"name": "anh.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()})
    w.page.locator("#upload-progress li.done").wait_for()


def test_the_picker_in_the_editor_checks_too(browser_page, make_user):  # type: ignore[no-untyped-def]
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    w.goto("/admin/posts/new")
    uploads: list[str] = []
    w.page.on("request", lambda r: uploads.append(r.url) if "/media/upload" in r.url else None)
    w.page.locator(".pick-media").first.click()
    w.page.set_input_files("#picker-upload", {"name": "lon.png", "mimeType": "image/png",
                                              "buffer": b"\x89PNG\r\n\x1a\n" + os.urandom(int(1.5 * MB))})
    refused = w.page.locator("#picker-progress li.refused")
    refused.wait_for()
    assert "Ảnh lớn hơn mức 1 MB cho phép." in refused.inner_text()
    assert uploads == []
