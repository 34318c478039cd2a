"""Every /admin/ page, signed in as an admin on demo-like data, in Vietnamese: no catalogue miss, no raw code.

The pages are discovered from ``app.url_map`` (every GET rule under /admin/), ids filled from the data. While they
render, Flask-Babel's translations are wrapped so that every msgid asked for and missing from the Vietnamese
catalogue is recorded; the visible text (and the attributes a person reads: title, placeholder, aria-label, alt,
button values) is then searched for codes a person should never see: state, role, action and channel-kind codes
as bare words, ``None``/``True``/``False``, ISO timestamps, UTC, worker ids and common English words.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from publisher.db import db
from tests.channels.fb_fixtures import *  # noqa: F403  (every sandbox; the demo's channels point at them)
from tests.conftest import sign_in_session

# --- what a Vietnamese page must never show -------------------------------------------------------------------

RAW_CODES = {
    # post, delivery and channel states
    "draft", "in_review", "approved", "scheduled", "publishing", "published", "failed", "cancelled", "held",
    "paused", "unconfirmed", "unpublished", "unpublishing", "needs_reconnect", "connected", "disconnected",
    # roles
    "viewer", "editor", "approver", "admin",
    # channel kinds and variant fields
    "website", "facebook", "youtube", "zalo", "message", "privacy", "public", "unlisted", "private",
    # attempt actions
    "publish", "unpublish", "recover", "lookup",
    "None", "True", "False", "null", "true", "false", "UTC",
}
ENGLISH_WORDS = {
    "Please", "please", "log", "the", "and", "of", "to", "is", "are", "this", "page", "access", "Save", "Cancel",
    "Delete", "Edit", "Submit", "Search", "Settings", "Next", "Previous", "Loading", "Error", "Field", "field",
    "required", "Invalid", "invalid", "Not", "valid", "choice", "yes", "no", "Yes", "No", "title", "description",
    "tags", "link", "summary", "body", "created", "updated", "changed", "submit", "approve", "reject", "restore",
    "MainThread",
}
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?|[+-]00:00\b")
ACTION_CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")
# Numbers in English grouping ("1,000"); Vietnamese writes "1.000". (Long digit strings are often platform ids, so
# ungrouped numbers are not flagged.)
UNGROUPED_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
WORKER_ID = re.compile(r"\b\S+:\d+:\S*Thread\b")
# What may look like a code but is content: e-mail addresses, URLs, file names.
NOT_TEXT = re.compile(r"\S+@\S+|https?://\S+|\b[\w-]+(\.[\w-]+)*\.(com|net|vn)\b|\bPUBLISHER_[A-Z_]+\b|\b[\w-]+\.(jpe?g|png|mp4|xml|json|csv|xlsx|pdf|docx|loa|test|org|vn)\b")
WORD = re.compile(r"[^\W\d]+(?:_[^\W\d]+)*", re.UNICODE)


class VisibleText(HTMLParser):
    """The text a person reads: text outside <script>/<style>, and the attributes read aloud or shown."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1
        values = dict(attrs)
        for name in self.SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def without_content(text: str, content: set[str]) -> str:
    """``text`` with what the data itself says left out, longest first: a name inside another ("Công đoàn tỉnh
    (sandbox)" in "Trang Facebook Công đoàn tỉnh (sandbox)") must not cut the longer one in two, whatever order the
    set iterates in."""
    for piece in sorted(content, key=len, reverse=True):
        text = text.replace(piece, " ")
    return text


def raw_codes_in(text: str, content: set[str]) -> list[str]:
    """Codes and English words found in ``text`` (after leaving out what the data itself says)."""
    text = NOT_TEXT.sub(" ", without_content(text, content))
    found = [m.group(0) for m in ISO_TIME.finditer(text)]
    found += [m.group(0) for m in ACTION_CODE.finditer(text)]
    found += [m.group(0) for m in WORKER_ID.finditer(text)]
    found += [m.group(0) for m in UNGROUPED_NUMBER.finditer(text)]
    found += [w for w in WORD.findall(text) if w in RAW_CODES or w in ENGLISH_WORDS or "_" in w]
    return sorted(set(found))


# --- recording catalogue misses -----------------------------------------------------------------------------------


class RecordingTranslations:
    """Wraps Flask-Babel's merged translations: a msgid missing from the catalogue is noted in ``misses``."""

    def __init__(self, translations: Any, misses: set[str]) -> None:
        self._t, self._misses = translations, misses

    def __getattr__(self, name: str) -> Any:
        return getattr(self._t, name)

    def _has(self, msgid: str) -> bool:
        catalog = getattr(self._t, "_catalog", {})
        return msgid in catalog or (msgid, 0) in catalog

    def _note(self, msgid: str) -> None:
        if msgid and not self._has(msgid):
            self._misses.add(msgid)

    def gettext(self, message: str) -> str:
        self._note(message)
        return self._t.gettext(message)

    ugettext = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self._note(singular)
        return self._t.ngettext(singular, plural, n)

    ungettext = ngettext

    def pgettext(self, context: str, message: str) -> str:
        if f"{context}\x04{message}" not in getattr(self._t, "_catalog", {}):
            self._misses.add(f"{context}|{message}")
        return self._t.pgettext(context, message)

    upgettext = pgettext

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        catalog = getattr(self._t, "_catalog", {})
        if (f"{context}\x04{singular}", 0) not in catalog:
            self._misses.add(f"{context}|{singular}")
        return self._t.npgettext(context, singular, plural, n)

    unpgettext = npgettext


@pytest.fixture
def catalogue_misses(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    import flask_babel
    from flask_babel import get_locale

    misses: set[str] = set()
    original = flask_babel.Domain.get_translations

    def recording(self: Any) -> Any:
        translations = original(self)
        if str(get_locale()) != "vi":
            return translations
        return RecordingTranslations(translations, misses)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", recording)
    return misses


# --- the data: the demo's users, channels, campaign and posts, one post published everywhere, one edited -----------


def demo_data(app: Flask, settings: Any, sandboxes: Any) -> dict[str, Any]:
    from tests.web.demo_pages import build_demo

    return build_demo(settings, sandboxes)


# Rules the walk does not render as pages (downloads and redirects to platforms), with why.
NOT_PAGES = {
    "editorial.media_library_json": "JSON for the media picker",
    "reports.chart": "a PNG image",
    "channels_ui.facebook_connect": "redirects to Facebook's dialog",
    "channels_ui.facebook_callback": "Facebook's answer; needs its state",
    "youtube_oauth.connect": "redirects to Google's dialog",
    "youtube_oauth.callback": "Google's answer; needs its state",
    "editorial.login": "signed in already; checked signed out below",
    "feeds_ui.draft_made": "the page after a feed item became a draft (404 for other posts)",
    "channels_ui.facebook_pages": "the Pages of a Facebook Login under way (400 without one)",
    "schedule_ui.calendar_events": "JSON for the calendar (needs its date range)",
    "channels_ui.oauth_connect": "redirects to the platform's sign-in (Zalo's OAuth v4)",
    "channels_ui.oauth_callback": "the platform's answer; needs its state",
}


def admin_pages(app: Flask, ids: dict[str, Any]) -> list[tuple[str, str]]:
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/admin/") or "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        values = {name: ids[name] for name in rule.arguments}
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
        pages.append((rule.endpoint, path))
    return pages


def test_every_admin_page_is_vietnamese(app, settings, sandboxes, client, catalogue_misses):  # type: ignore[no-untyped-def]
    data = demo_data(app, settings, sandboxes)
    signed_out = client.get("/admin/posts", follow_redirects=True)
    problems: dict[str, list[str]] = {}
    login_text = visible_text(signed_out.get_data(as_text=True))
    if found := raw_codes_in(login_text, set()) + [f"catalogue miss: {m!r}" for m in sorted(catalogue_misses)]:
        problems["/admin/login"] = found
    sign_in_session(client, data["admin"])
    pages = admin_pages(app, data)
    assert len(pages) >= 40
    texts: dict[str, str] = {}
    for endpoint, path, text, new_misses in walk(client, pages, catalogue_misses):
        texts[path] = text
        found = [_in_context(code, text) for code in raw_codes_in(text, data["content"])]
        found += [f"catalogue miss: {m!r}" for m in new_misses]
        if found:
            problems[f"{path} ({endpoint})"] = found
    assert not problems, "\n".join(f"{page}: {found}" for page, found in problems.items())
    assert_workspace_filled(client, data, texts)


def assert_workspace_filled(client: Any, data: dict[str, Any], texts: dict[str, str]) -> None:
    """The inbox, the calendar, the post with a failed delivery, the kits and the reports show the demo's data."""
    from tests.web.demo_pages import missing_on_pages

    def text_of(path: str) -> str:
        if path not in texts:
            texts[path] = visible_text(client.get(path, follow_redirects=True).get_data(as_text=True))
        return texts[path]

    assert data["failed"], "the sandboxes ran, so a platform refused one delivery"
    assert not missing_on_pages(data, text_of)


def test_every_admin_page_in_english_shows_no_vietnamese_wording(app, settings, sandboxes, client):  # type: ignore[no-untyped-def]
    """With English picked, no sentence of the Vietnamese catalogues leaks into a page."""
    from tests.test_i18n import translated

    data = demo_data(app, settings, sandboxes)
    data["admin"].locale = "en"
    db.session.commit()
    vietnamese = {msgstr for msgid, msgstr in translated().items() if len(msgstr) >= 12 and msgstr != msgid
                  and "%(" not in msgstr}
    sign_in_session(client, data["admin"])
    problems: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for endpoint, path, text, _misses in walk(client, admin_pages(app, data), set()):
        texts[path] = text
        text = without_content(text, data["content"])
        leaked = sorted(v for v in vietnamese if v in text)
        if leaked:
            problems[f"{path} ({endpoint})"] = [f"{v} in “…{text[max(0, text.index(v) - 40):text.index(v) + 60]}…”"
                                                for v in leaked]
    assert not problems, "\n".join(f"{page}: {found}" for page, found in problems.items())
    assert_workspace_filled(client, data, texts)


def walk(client: Any, pages: list[tuple[str, str]], misses: set[str]) -> Any:
    """Each page's visible text (HTML and XLSX) and the catalogue misses its rendering added."""
    for endpoint, path in pages:
        before = set(misses)
        response = client.get(path, follow_redirects=True)
        assert response.status_code in (200, 400), (path, response.status_code)
        if response.mimetype == "text/html":
            text = visible_text(response.get_data(as_text=True))
        elif response.mimetype.endswith("spreadsheetml.sheet"):
            text = xlsx_text(response.get_data())
        else:
            text = ""
        yield endpoint, path, text, sorted(misses - before)


def _in_context(code: str, text: str) -> str:
    at = text.find(code)
    return f"{code!r} in …{text[max(at - 40, 0):at + len(code) + 40]!r}…" if at >= 0 else repr(code)


def xlsx_text(body: bytes) -> str:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body), read_only=True)
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None and not isinstance(cell, int | float | date))


def test_the_walk_would_notice_a_miss_and_a_raw_code(app, catalogue_misses):  # type: ignore[no-untyped-def]
    """The checks above can fail: an untranslated message is recorded, and codes in text are found."""
    from flask import render_template_string
    from flask_babel import gettext

    with app.test_request_context("/admin/"):
        assert gettext("Draft") == "Bản nháp"
        assert gettext("No catalogue has this sentence.") == "No catalogue has this sentence."
        render_template_string("{{ _('Nor this one, written in a template.') }}")
    assert catalogue_misses == {"No catalogue has this sentence.", "Nor this one, written in a template."}
    text = visible_text('<p title="Please wait">63.206 · 1,000 · Bài viết: post.submit, đã ở trạng thái published, 2026-12-02T08:00:00+00:00, '
                        'allow_private_address: False</p><script>var draft = true;</script>')
    assert raw_codes_in(text, set()) == sorted({"1,000", "+00:00", "2026-12-02T08:00:00", "False", "Please", "allow_private_address",
                                               "post.submit", "published", "submit"})
