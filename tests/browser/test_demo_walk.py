"""A new user's first job on the demo's data (issue #14), in Chromium, in Vietnamese and in English, at a desk (1280 px)
and on a phone (390 px): sign in, the dashboard, compose, the posts list, a post Zalo refused, the calendar, the
comments inbox and the reports. On every page: the demo's data is there (not an empty state), the page does not
scroll sideways, the Vietnamese UI has no English word or raw code (the checker of tests/web/test_every_page_vi.py)
and the English one no Vietnamese sentence of the catalogues; the browser's console stays clean (CSP included).

With LOA_UPDATE_SCREENSHOTS=1 the Vietnamese walk writes the README's pictures: docs/screenshots/{compose,posts,
calendar,inbox}.png at 1280 px and the same names with ``-phone`` at 390 px."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from publisher.db import db
from tests.channels.fb_fixtures import *  # noqa: F403  (every sandbox; the demo's channels point at them)
from tests.web.demo_pages import ADMIN, DEMO_PASSWORD, build_demo
from tests.web.test_every_page_vi import raw_codes_in, without_content

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def demo(app, settings, sandboxes):  # type: ignore[no-untyped-def]
    return build_demo(settings, sandboxes)


def _vietnamese_sentences() -> set[str]:
    from tests.test_i18n import translated

    return {msgstr for msgid, msgstr in translated().items() if len(msgstr) >= 12 and msgstr != msgid
            and "%(" not in msgstr}


class Walk:
    """One browser page walking the demo; ``look`` checks the page it is on."""

    def __init__(self, watched: Any, demo: dict[str, Any], locale: str, size: str):
        self.w, self.page, self.demo, self.locale, self.size = watched, watched.page, demo, locale, size
        self.width = WIDTHS[size]
        self.problems: list[str] = []
        self.vietnamese = _vietnamese_sentences() if locale == "en" else set()

    def go(self, path: str) -> None:
        response = self.w.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)

    def look(self, name: str, *expected: str) -> str:
        self.page.wait_for_load_state("load")
        url = self.page.url.removeprefix(self.w.base)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        if width > self.width + 1:
            self.problems.append(f"{url}: {width}px wide at {self.width}px")
        text = self.page.locator("body").inner_text()
        flat = " ".join(text.split())
        self.problems += [f"{url}: {e!r} not shown" for e in expected if " ".join(e.split()) not in flat]
        if self.locale == "vi":
            found = raw_codes_in(text, self.demo["content"])
            if found:
                self.problems.append(f"{url}: not Vietnamese: {found}")
        else:
            rest = without_content(text, self.demo["content"])
            leaked = sorted(v for v in self.vietnamese if v in rest)
            if leaked:
                self.problems.append(f"{url}: Vietnamese in the English UI: {leaked}")
        self.shot(name)
        return text

    def shot(self, name: str) -> None:
        suffix = "" if self.size == "desktop" else "-phone"
        path = self.w.screenshot(f"demo-{self.locale}-{name}{suffix}")
        if os.environ.get("LOA_UPDATE_SCREENSHOTS") == "1" and self.locale == "vi" and name in (
                "compose", "posts", "calendar", "inbox"):
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS / f"{name}{suffix}.png")


@pytest.mark.parametrize("size", list(WIDTHS))
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_new_user_walks_the_demo(browser_page, demo, locale, size):  # type: ignore[no-untyped-def]
    from publisher.demo import PAGE_COMMENTS, POSTS, WEBSITE_COMMENTS

    if locale == "en":
        demo["admin"].locale = "en"
        db.session.commit()
    options: dict[str, Any] = {"viewport": {"width": WIDTHS[size], "height": 900 if size == "desktop" else 844}}
    if size == "phone":
        options.update(is_mobile=True, has_touch=True)
    walk = Walk(browser_page(**options), demo, locale, size)
    page = walk.page
    first, gifts = POSTS[0]["title"], POSTS[3]["title"]

    walk.w.sign_in(ADMIN, DEMO_PASSWORD)
    assert page.locator("html").get_attribute("lang") == locale
    walk.look("dashboard")

    walk.go("/admin/posts/new")
    page.fill("#title", "Công đoàn cơ sở tổ chức Hội nghị người lao động năm 2027")
    page.fill("#summary", "Đối thoại về tiền lương, thưởng Tết và an toàn lao động.")
    page.click(".editable")
    page.keyboard.type("Sáng nay, công đoàn cơ sở tổ chức Hội nghị người lao động.")
    page.click("#tab-facebook")  # the Page's variant, with its live counter and preview
    page.fill("#v-facebook-message", "Hội nghị người lao động 2027: đối thoại thẳng thắn về tiền lương và thưởng Tết.")
    assert "thưởng Tết" in page.locator("[data-preview=facebook] .p-message").inner_text()
    page.wait_for_url(re.compile(r".*/admin/posts/\d+/edit$"), timeout=15000)  # the draft saved itself
    walk.look("compose")

    walk.go("/admin/posts")
    walk.look("posts", first, gifts)
    assert page.locator("table.posts .delivery-standing[data-state=failed]").count() == 1

    walk.go(f"/admin/posts/{demo['post_id']}")
    walk.look("post-failed", first, demo["failed_channel"])
    failed = page.locator("#deliveries tr.delivery.state-failed")
    assert failed.count() == 1
    failed.locator("a").first.click()
    page.wait_for_url("**/admin/deliveries/*")
    walk.look("delivery-failed", first)
    assert page.locator(".badge.state-failed").count() == 1

    walk.go("/admin/calendar")
    page.wait_for_selector("#calendar .ec-event")
    walk.look("calendar", first)
    walk.go("/admin/calendar?view=list")  # the same deliveries as a table, the calendar toolbar's first link
    walk.look("calendar-list", first, demo["failed_channel"])

    walk.go("/admin/comments/")
    walk.look("inbox", WEBSITE_COMMENTS[0][2], WEBSITE_COMMENTS[1][0], PAGE_COMMENTS[0][1], PAGE_COMMENTS[1][0])

    walk.go("/admin/reports/")
    walk.look("reports", first)

    walk.go("/admin/channels/")  # the four demo channels, the Page's token health and permissions in words
    walk.look("channels", demo["failed_channel"])

    assert not walk.problems, "\n".join(walk.problems)
