"""The public pages in a real browser (Debian's Chromium through Playwright), checked with axe-core."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page(chromium):  # type: ignore[no-untyped-def]
    context = chromium.new_context(java_script_enabled=True, viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


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
    comment = services.submit_comment(article, "Bạn đọc", "Ý kiến đã duyệt", consent=True)
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


def test_comment_form_works_without_javascript(live_server, publish, chromium):
    from publisher.db import db
    from publisher.website.models import ReaderComment

    post, _ = publish()
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/tin/{post.slug}")
    page.fill("#c-name", "Nguyễn Thị Lan")
    page.fill("#c-msg", "Gửi từ trình duyệt không có JavaScript")
    page.click("form.comment-form button[type=submit]")  # the consent box is required: the browser holds it
    assert "gui=1" not in page.url
    page.check("#c-consent")
    page.click("form.comment-form button[type=submit]")
    page.wait_for_url("**/tin/*gui=1*")
    assert page.locator("p.notice").count() == 1
    context.close()
    db.session.expire_all()
    stored = db.session.query(ReaderComment).one()
    assert stored.message == "Gửi từ trình duyệt không có JavaScript" and stored.consent_at is not None


def test_json_ld_blocks_pass_the_pages_csp_and_pages_arrive_compressed(live_server, browser_page, publish):
    """A JSON-LD block is data, not script: the strict ``script-src 'self'`` raises no violation for it."""
    import json

    post, _ = publish(category="Thời sự", byline="Nguyễn Văn An")
    page = browser_page
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                         "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
    encodings = []
    page.on("response", lambda r: encodings.append(r.headers.get("content-encoding")) if r.url.endswith(post.slug)
            else None)
    page.goto(f"{live_server}/tin/{post.slug}")
    blocks = page.eval_on_selector_all('script[type="application/ld+json"]', "els => els.map(e => e.textContent)")
    assert {json.loads(b)["@type"] for b in blocks} == {"NewsArticle", "BreadcrumbList"}
    assert page.evaluate("window.__csp") == []
    assert encodings and encodings[0] in ("br", "gzip")
