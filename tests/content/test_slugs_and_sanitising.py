"""Vietnamese-aware slugs and body HTML sanitising."""

from __future__ import annotations

import unicodedata

import pytest

from publisher.content.sanitize import clean_html, clean_text, find_dangerous_markup
from publisher.content.services import create_post, update_post
from publisher.content.slugs import is_valid_slug, make_slug
from publisher.db import db
from publisher.errors import ValidationFailed


@pytest.mark.parametrize(("title", "slug"), [
    ("Đẩy mạnh chuyển đổi số", "day-manh-chuyen-doi-so"),
    ("Đẩy mạnh chuyển đổi số trong hoạt động Công đoàn", "day-manh-chuyen-doi-so-trong-hoat-dong-cong-doan"),
    ("đường ĐẶNG", "duong-dang"),
    ("  Hội nghị   BCH — lần thứ 5!  ", "hoi-nghi-bch-lan-thu-5"),
    ("Người lao động được hưởng lương tháng 13?", "nguoi-lao-dong-duoc-huong-luong-thang-13"),
])
def test_vietnamese_slugs(title: str, slug: str) -> None:
    assert make_slug(title) == slug
    assert make_slug(unicodedata.normalize("NFD", title)) == slug


def test_slug_of_nothing_usable_and_long_titles() -> None:
    assert make_slug("!!!") == "bai-viet"
    long = make_slug("Công đoàn " * 60)
    assert len(long) <= 120 and is_valid_slug(long) and not long.endswith("-")


@pytest.mark.parametrize(("slug", "ok"), [("day-manh", True), ("a1-b2", True), ("Day-Manh", False),
                                          ("đẩy-mạnh", False), ("a--b", False), ("-a", False), ("a b", False),
                                          ("", False), ("a" * 121, False)])
def test_explicit_slug_validation(slug: str, ok: bool) -> None:
    assert is_valid_slug(slug) is ok


def test_duplicate_titles_get_numbered_slugs(make_user) -> None:  # type: ignore[no-untyped-def]
    editor = make_user("editor")
    slugs = [create_post(editor, {"title": "Đẩy mạnh chuyển đổi số"}).slug for _ in range(3)]
    assert slugs == ["day-manh-chuyen-doi-so", "day-manh-chuyen-doi-so-2", "day-manh-chuyen-doi-so-3"]
    nfd = create_post(editor, {"title": unicodedata.normalize("NFD", "Đẩy mạnh chuyển đổi số")})
    assert nfd.slug == "day-manh-chuyen-doi-so-4"


def test_explicit_slugs_are_checked(make_user) -> None:  # type: ignore[no-untyped-def]
    editor = make_user("editor")
    first = create_post(editor, {"title": "Bài một", "slug": "bai-rieng"})
    assert first.slug == "bai-rieng"
    for bad in ("Bài riêng", "bai rieng", "bai_rieng", 12):
        with pytest.raises(ValidationFailed) as caught:
            create_post(editor, {"title": "Bài hai", "slug": bad})
        assert "slug" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        create_post(editor, {"title": "Bài hai", "slug": "bai-rieng"})
    assert "slug" in caught.value.fields
    db.session.flush()
    same = update_post(first, editor, {"slug": "bai-rieng"}, first.version)  # its own slug is not a clash
    assert same.slug == "bai-rieng"


# --- sanitising ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("html", [
    "<p>a</p><script>alert(1)</script>",
    "<SCRIPT src=//x.test/a.js></SCRIPT>",
    '<p onclick="alert(1)">bấm</p>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">link</a>',
    '<a href=" JaVaScRiPt:alert(1)">link</a>',
    '<a href="java\tscript:alert(1)">link</a>',
    '<iframe src="https://x.test"></iframe>',
    '<svg onload=alert(1)>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    '<body onload="x()">',
])
def test_dangerous_markup_is_found(html: str) -> None:
    assert find_dangerous_markup(html)


@pytest.mark.parametrize("html", ["<p>Xin chào <strong>công đoàn</strong></p>", '<a href="https://ldld.vn">x</a>',
                                  '<p style="color:red" class="MsoNormal"><span lang="vi">Văn bản</span></p>',
                                  "<p>onclick= là một từ trong văn bản</p>"])
def test_harmless_markup_is_not_dangerous(html: str) -> None:
    assert find_dangerous_markup(html) == []


def test_harmless_disallowed_formatting_is_cleaned_and_links_get_noopener() -> None:
    cleaned = clean_html('<p style="color:red" class="MsoNormal"><span lang="vi">Văn <font face="x">bản</font></span>'
                         '</p><a href="https://ldld.vn" target="_blank">Liên đoàn</a><!-- comment -->')
    assert "style" not in cleaned and "class" not in cleaned and "<span" not in cleaned and "<font" not in cleaned
    assert "Văn bản" in cleaned and "comment" not in cleaned
    assert 'rel="noopener noreferrer"' in cleaned and 'href="https://ldld.vn"' in cleaned
    assert clean_text("<b>Tiêu đề</b> & dấu <3 a<b") == "Tiêu đề & dấu <3 a"
    assert clean_text("<script>alert(1)</script>Tin") == "Tin"


def test_post_body_with_scripts_is_refused_naming_body_html(make_user) -> None:  # type: ignore[no-untyped-def]
    editor = make_user("editor")
    for body in ("<script>x</script>", '<p onclick="x">a</p>', '<a href="javascript:x">a</a>'):
        with pytest.raises(ValidationFailed) as caught:
            create_post(editor, {"title": "Bài", "body_html": body})
        assert list(caught.value.fields) == ["body_html"]
    post = create_post(editor, {"title": "Bài", "body_html": '<p style="x"><span>Nội dung</span> '
                                                            '<a href="https://ldld.vn">link</a></p>'})
    assert post.body_html == '<p>Nội dung <a href="https://ldld.vn" rel="noopener noreferrer">link</a></p>'
