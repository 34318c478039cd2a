"""Wording in the browser: history shows only the words that changed, each Vietnamese word whole; counters count
in Vietnamese ("1.000") whatever the browser's own locale."""

from __future__ import annotations

import unicodedata

import pytest

from publisher.content.services import update_post
from publisher.db import db

pytestmark = pytest.mark.browser


def test_history_shows_the_changed_words_of_the_changed_field_only(browser_page, make_user, make_post):  # type: ignore[no-untyped-def]
    editor = make_user("editor")
    post = make_post(author=editor, title="Công đoàn cơ sở tổ chức hội nghị người lao động",
                     summary="Tổng kết năm 2026")
    update_post(post, editor, {"title": "Công đoàn cơ sở tổ chức đối thoại với người lao động"}, post.version)
    db.session.commit()

    ui = browser_page()
    ui.sign_in(editor.email)
    ui.goto(f"/admin/posts/{post.id}/revisions")
    page = ui.page
    fields = page.locator("dl.changes dt").all_inner_texts()
    assert fields == ["Tiêu đề"] or fields == ["tiêu đề"], fields  # only the title changed
    removed = page.locator("dl.changes del.diff-del").all_inner_texts()
    added = page.locator("dl.changes ins.diff-add").all_inner_texts()
    assert removed == ["hội nghị"] and added == ["đối thoại với"], (removed, added)
    for text in removed + added:
        assert text == unicodedata.normalize("NFC", text) and not unicodedata.combining(text[0])
    assert "Công đoàn cơ sở tổ chức" in page.locator("dl.changes dd").inner_text()
    ui.screenshot("history-word-diff")


def test_counters_use_vietnamese_numbers_in_an_english_browser(browser_page, make_user):  # type: ignore[no-untyped-def]
    editor = make_user("editor")
    ui = browser_page(locale="en-US")  # the browser's own locale would write 63,206
    ui.sign_in(editor.email)
    ui.goto("/admin/posts/new")
    page = ui.page
    page.fill("#summary", "Đoàn viên " * 120)  # 1.200 characters, over the 1.000 limit
    counter = page.locator('output[for="summary"]')
    counter.wait_for()
    assert counter.inner_text() == "1.200 / 1.000"
