"""History: what changed between two revisions, per field and word by word, Vietnamese words kept whole."""

from __future__ import annotations

import unicodedata

from publisher.content.revisions import revision_changes, snapshot_fields, tokens, word_diff

TITLE = "Công đoàn cơ sở xây dựng kế hoạch thực hiện Nghị quyết 06"


def test_tokens_keep_each_vietnamese_word_whole_with_its_tone_marks() -> None:
    assert tokens("Nghị quyết, đoàn viên.") == ["Nghị", " ", "quyết", ",", " ", "đoàn", " ", "viên", "."]
    # The same words typed in decomposed form (letters then combining marks) are compared as NFC words.
    decomposed = unicodedata.normalize("NFD", "Nghị quyết")
    assert len(decomposed) > len("Nghị quyết")
    assert tokens(decomposed) == ["Nghị", " ", "quyết"]
    assert "".join(tokens(TITLE)) == TITLE


def test_a_changed_tone_mark_shows_the_whole_word_changed() -> None:
    pieces = word_diff("Công đoàn cơ sở", "Công đoàn cơ sớ")
    assert pieces == [("same", "Công đoàn cơ "), ("del", "sở"), ("add", "sớ")]
    for kind, text in pieces:
        assert unicodedata.normalize("NFC", text) == text
        assert not unicodedata.combining(text[0]), (kind, text)  # no piece starts with a detached mark


def test_only_the_words_added_are_marked() -> None:
    pieces = word_diff(TITLE, TITLE + " năm 2026")
    assert pieces == [("same", TITLE), ("add", " năm 2026")]
    assert word_diff("Đẩy mạnh chuyển đổi số", "Đẩy nhanh chuyển đổi số") == [
        ("same", "Đẩy "), ("del", "mạnh"), ("add", "nhanh"), ("same", " chuyển đổi số")]


def test_unchanged_fields_are_not_listed_and_variant_fields_are_compared_one_by_one() -> None:
    old = {"title": TITLE, "slug": "cong-doan-co-so", "summary": "Định kỳ 6 tháng báo cáo.",
           "body_html": "<p>Đoạn một.</p><p>Đoạn hai.</p>", "tags": ["công đoàn"], "campaign_id": 1,
           "variants": {"facebook": {"message": "Tin mới của Công đoàn tỉnh"},
                        "youtube": {"title": "Phóng sự", "privacy": "public"}}}
    new = {**old, "summary": "Định kỳ 6 tháng, một năm báo cáo.", "body_html": "<p>Đoạn một.</p><p>Đoạn ba.</p>",
           "variants": {"facebook": {"message": "Tin mới của Công đoàn tỉnh Thanh Hóa"},
                        "youtube": {"title": "Phóng sự", "privacy": "public"}}}
    changes = revision_changes(old, new)
    assert [c.field for c in changes] == ["summary", "body_html", "facebook.message"]
    body = next(c for c in changes if c.field == "body_html")
    assert body.pieces == [("same", "Đoạn một.\nĐoạn "), ("del", "hai"), ("add", "ba"), ("same", ".")]
    message = next(c for c in changes if c.field == "facebook.message")
    assert message.pieces == [("same", "Tin mới của Công đoàn tỉnh"), ("add", " Thanh Hóa")]
    assert revision_changes(old, dict(old)) == []


def test_snapshot_fields_read_the_body_as_text() -> None:
    fields = snapshot_fields({"title": "A", "body_html": "<h2>Tiêu đề</h2><p>Đoạn &amp; chữ</p>", "variants": {}})
    assert fields == {"title": "A", "body_html": "Tiêu đề\nĐoạn & chữ"}
