"""The public pages in a real browser (Debian's Chromium through Playwright), checked with axe-core."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("LOA_REQUIRE_BROWSER") == "1":
            pytest.fail("LOA_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed")


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser_page():  # type: ignore[no-untyped-def]
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(java_script_enabled=True, viewport={"width": 390, "height": 844})
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def _serious(page) -> list[str]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_front_and_article_pages_have_no_serious_axe_violation(live_server, browser_page, publish, make_media):
    from publisher.db import db
    from publisher.website import services

    image = make_media(caption="Hội nghị người lao động", alt_text="Hội trường")
    post, article = publish(category="Thời sự", locality="Đà Nẵng", media_ids=[image.id], cover_media_id=image.id,
                            body_html="<p>Đoạn mở đầu.</p><h2>Ý chính</h2><p>Nội dung <a href='https://example.org'>"
                                      "liên kết</a>.</p>")
    publish(title="Một tin liên quan", category="Thời sự")
    comment = services.submit_comment(article, "Bạn đọc", "Ý kiến đã duyệt")
    comment.state = "approved"
    db.session.commit()

    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/")
    assert page.title()
    assert _serious(page) == []
    page.goto(f"{live_server}/tin/{post.slug}")
    assert page.locator("h1").inner_text() == post.title
    assert _serious(page) == []
    img = page.locator("figure.cover img")
    assert img.get_attribute("srcset")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_comment_form_works_without_javascript(live_server, publish):
    _require_browser()
    from playwright.sync_api import sync_playwright

    from publisher.db import db
    from publisher.website.models import ReaderComment

    post, _ = publish()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{live_server}/tin/{post.slug}")
        page.fill("#c-name", "Nguyễn Thị Lan")
        page.fill("#c-msg", "Gửi từ trình duyệt không có JavaScript")
        page.click("form.comment-form button[type=submit]")
        page.wait_for_url("**/tin/*gui=1*")
        assert page.locator("p.notice").count() == 1
        browser.close()
    db.session.expire_all()
    assert db.session.query(ReaderComment).one().message == "Gửi từ trình duyệt không có JavaScript"
