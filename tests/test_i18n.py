"""Translations: every message in the code base has a Vietnamese translation, catalogues are compiled, and the
API and the pages answer in Vietnamese by default and in English for users who chose it."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def vietnamese_catalogues() -> list[Path]:
    return sorted(TRANSLATIONS.glob("*/vi/LC_MESSAGES/messages.po"))


def translated() -> dict[str, str]:
    """msgid -> msgstr over every area's Vietnamese catalogue (untranslated and fuzzy entries left out)."""
    found: dict[str, str] = {}
    for po in vietnamese_catalogues():
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="vi")
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if all(s and s.strip() for s in strings):
                found[msgid] = strings[0]
    return found


def extracted() -> dict[str, list[str]]:
    """msgid -> where it is used, for every message Babel finds in the code base (babel.cfg at the root)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    messages: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        if filename.startswith(("tests/", "bench/", "build/")):
            continue
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            messages.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return messages


def test_there_is_a_vietnamese_catalogue() -> None:
    assert (TRANSLATIONS / "foundation" / "vi" / "LC_MESSAGES" / "messages.po").is_file()


def test_every_message_has_a_vietnamese_translation() -> None:
    messages = extracted()
    assert len(messages) > 50  # the extractor found the code base's messages...
    assert "My drafts" in messages and "A title is required." in messages  # ...in templates and lazy strings
    have = translated()
    missing = sorted(f"{msgid!r} ({', '.join(places[:2])})" for msgid, places in messages.items() if msgid not in have)
    assert not missing, f"{len(missing)} messages have no Vietnamese translation:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    wrong = [f"{msgid!r} -> {msgstr!r}" for msgid, msgstr in translated().items()
             if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))]
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_translations_are_vietnamese() -> None:
    have = translated()
    diacritics = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
    # Short technical words (Email, Loa...) may stay as they are; real sentences must read as Vietnamese.
    untranslated = [msgid for msgid, msgstr in have.items() if len(msgid) > 25 and not diacritics.search(msgstr)]
    assert not untranslated, untranslated


def test_compiled_catalogues_are_up_to_date() -> None:
    for po in vietnamese_catalogues():
        mo = po.with_suffix(".mo")
        assert mo.is_file(), f"{mo} is missing: run pybabel compile -d {po.parents[2]} -D messages"
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="vi")
        expected = {m.id: m.string for m in catalog if m.id and not m.fuzzy and m.string
                    and not isinstance(m.id, tuple)}
        with mo.open("rb") as fh:
            compiled = {k: v for k, v in gettext.GNUTranslations(fh)._catalog.items()  # type: ignore[attr-defined]
                        if k and not isinstance(k, tuple)}
        assert compiled == expected, f"{mo} is out of date: run pybabel compile -d {po.parents[2]} -D messages"


# --- the running app -----------------------------------------------------------------------------------------


def test_api_errors_are_in_vietnamese_by_default_and_in_english_on_request(api_as, make_post, client) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/api/v1/posts")
    assert anonymous.get_json()["error"]["message"] == "Hãy gửi mã truy cập API theo dạng 'Authorization: Bearer TOKEN'."
    vi = api_as("editor")
    en = api_as("editor", locale="en")
    for api, title_message, whole in ((vi, "Cần nhập tiêu đề.", "Một số trường chưa hợp lệ."),
                                      (en, "A title is required.", "Some fields are not valid.")):
        error = api.post("/api/v1/posts", json={"summary": "x"}).get_json()["error"]
        assert error["message"] == whole and error["fields"]["title"] == [title_message]
    post = make_post(author=vi.user, state="in_review")
    assert vi.post(f"/api/v1/posts/{post.id}/submit").get_json()["error"]["message"] == (
        "Chỉ bản nháp mới gửi duyệt được (bài viết này đang ở trạng thái chờ duyệt).")
    assert en.post(f"/api/v1/posts/{post.id}/submit").get_json()["error"]["message"] == (
        "Only a draft can be sent for review (this post is in review).")
    assert vi.get("/api/v1/posts/999999").get_json()["error"]["message"] == "Không có bài viết này."
    assert vi.get("/api/v1/nothing").get_json()["error"]["message"] == "Không có đối tượng hoặc địa chỉ này."
    assert en.get("/api/v1/posts/999999").get_json()["error"]["message"] == "No such post."


def test_admin_pages_are_vietnamese_by_default(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/admin/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập vào Loa" in html and "Mật khẩu" in html
    missing = client.get("/khong-co-trang-nay")
    assert missing.status_code == 404 and '<html lang="vi">' in missing.get_data(as_text=True)
    assert "Không tìm thấy trang" in missing.get_data(as_text=True)
