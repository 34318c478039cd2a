"""Feeds that declare no encoding (windows-1258, VISCII, UTF-8 with nothing said) and entities decoded once."""

from __future__ import annotations

import pytest

from publisher.db import db
from publisher.feeds.encodings import declares_encoding, detect
from publisher.feeds.jobs import run_fetch
from publisher.feeds.models import Item
from tests.feeds.conftest import CP1258_SUMMARY, CP1258_TITLE, encode_cp1258

CHANNEL_TITLE = "Báo Người Lao Động"
LONG_TEXT = ("Công đoàn tỉnh tổ chức Tháng Công nhân năm nay với nhiều hoạt động thiết thực, "
             "người lao động được hỗ trợ nhà ở và đối thoại định kỳ tại doanh nghiệp.")

# VISCII (RFC 1456) bytes as glibc's iconv writes them (`iconv -f UTF-8 -t VISCII`), not made by Loa's own codec.
VISCII_CHANNEL_TITLE = b"B\xe1o Ng\xdf\xb6i Lao \xd0\xb5ng"
VISCII_TITLE = b"Ng\xdf\xb6i lao \xf0\xb5ng \xf0\xf3n T\xaat \xa4m \xe1p"
VISCII_SUMMARY = b"C\xf4ng \xf0o\xe0n trao qu\xe0 cho \xf0o\xe0n vi\xean kh\xf3 kh\xe5n."


def undeclared_rss(channel_title: bytes, title: bytes, summary: bytes) -> bytes:
    """An RSS 2.0 feed with no XML declaration at all (so no encoding named anywhere in it)."""
    return (b'<rss version="2.0"><channel><title>' + channel_title + b"</title><link>https://nld.example/</link>"
            b"<description>x</description><item><title>" + title + b"</title><link>https://nld.example/tet</link>"
            b"<guid>nld-1</guid><description>" + summary + b"</description></item></channel></rss>\n")


def items_of(source) -> list[Item]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(db.select(Item).where(Item.source_id == source.id).order_by(Item.id)))


def fetch_one(feed_server, make_source, path: str, body: bytes, content_type: str = "application/rss+xml"):  # type: ignore[no-untyped-def]
    feed_server.add(path, body, content_type=content_type)
    source = make_source(feed_server.url(path))
    outcome = run_fetch(source.id)
    db.session.refresh(source)
    return source, outcome


@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/xml", "application/xml"])
def test_windows_1258_without_any_declaration(feed_server, make_source, content_type):
    body = undeclared_rss(encode_cp1258(CHANNEL_TITLE), encode_cp1258(CP1258_TITLE), encode_cp1258(CP1258_SUMMARY))
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert not declares_encoding(body, content_type)
    source, outcome = fetch_one(feed_server, make_source, "/cp1258-undeclared.xml", body, content_type)
    (item,) = items_of(source)
    assert item.title == CP1258_TITLE  # not "Ngýõ̀i lao ðôòng…"
    assert item.summary == CP1258_SUMMARY


def test_viscii_without_any_declaration(feed_server, make_source):
    body = undeclared_rss(VISCII_CHANNEL_TITLE, VISCII_TITLE, VISCII_SUMMARY)
    source, outcome = fetch_one(feed_server, make_source, "/viscii.xml", body)
    (item,) = items_of(source)
    assert item.title == CP1258_TITLE
    assert item.summary == CP1258_SUMMARY


def test_utf8_without_any_declaration(feed_server, make_source):
    body = undeclared_rss(CHANNEL_TITLE.encode(), CP1258_TITLE.encode(), CP1258_SUMMARY.encode())
    source, outcome = fetch_one(feed_server, make_source, "/utf8-undeclared.xml", body, "text/xml")
    assert outcome.status == "ok", source.last_error
    (item,) = items_of(source)
    assert item.title == CP1258_TITLE


def test_a_clear_guess_is_ok_and_an_unsure_one_is_a_warning(feed_server, make_source):
    clear = undeclared_rss(encode_cp1258(CHANNEL_TITLE), encode_cp1258(LONG_TEXT), encode_cp1258(CP1258_SUMMARY))
    source, outcome = fetch_one(feed_server, make_source, "/clear.xml", clear)
    assert outcome.status == "ok", source.last_error
    # Two short words that read as Vietnamese in windows-1258 and in VISCII alike (but differently): unsure.
    unsure = undeclared_rss(b"Tin", encode_cp1258("Tết ấm"), b"x")
    source, outcome = fetch_one(feed_server, make_source, "/unsure.xml", unsure)
    assert outcome.status == "warning"
    assert source.last_fetch_status == "warning" and source.last_error_code == "encoding_guessed"
    assert "windows-1258" in source.last_error and "mã hóa" in source.last_error  # stored in Vietnamese
    assert items_of(source)  # the items are kept all the same


def test_declared_encodings_are_left_to_feedparser(feed_server, make_source):
    # A feed that names its encoding is read as it says, never guessed (the existing windows-1258 feed).
    raw = feed_server.routes["/cp1258.xml"].body
    assert declares_encoding(raw, "text/xml")
    assert declares_encoding(b"<rss/>", "application/rss+xml; charset=windows-1258")
    assert declares_encoding(b"\xef\xbb\xbf<rss/>", "text/xml")
    source = make_source(feed_server.url("/cp1258.xml"))
    assert run_fetch(source.id).status == "ok"
    assert items_of(source)[0].title == CP1258_TITLE


def test_detector_tells_the_vietnamese_code_pages_apart():
    text = LONG_TEXT
    assert detect(encode_cp1258(text)).encoding == "windows-1258"
    assert detect(text.encode("utf-8")).encoding == "utf-8"
    viscii = detect(text.encode("viscii"))
    assert viscii.encoding == "viscii" and viscii.text == text and viscii.confident
    assert detect(VISCII_TITLE).text == CP1258_TITLE


RSS_ENTITIES = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Tin &amp;amp; bài</title><link>https://e.example/</link><description>x</description>
<item><title>Phát biểu &amp;quot;Vì người lao động&amp;quot;</title><link>https://e.example/1</link><guid>e-1</guid></item>
<item><title>Lương &amp; phụ cấp &lt; 5 triệu</title><link>https://e.example/2</link><guid>e-2</guid></item>
<item><title>&lt;b&gt;Tin&lt;/b&gt; nóng &amp;amp; mới</title><link>https://e.example/3</link><guid>e-3</guid></item>
</channel></rss>
"""

ATOM_ENTITIES = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>
<entry><title type="text">Chữ &amp;quot;thường&amp;quot;</title><id>urn:a1</id><link href="https://e.example/a1"/>
<updated>2026-01-01T00:00:00Z</updated></entry>
<entry><title type="html">HTML &amp;quot;trích&amp;quot; &amp;amp;amp;</title><id>urn:a2</id><link href="https://e.example/a2"/>
<updated>2026-01-01T00:00:00Z</updated></entry>
</feed>
"""


def test_rss_title_entities_are_decoded_once(feed_server, make_source):
    source, outcome = fetch_one(feed_server, make_source, "/entities.xml", RSS_ENTITIES.encode())
    assert outcome.status == "ok", source.last_error
    titles = [i.title for i in items_of(source)]
    assert 'Phát biểu &quot;Vì người lao động&quot;' in titles  # the feed escaped it twice: it means the text &quot;
    assert "Lương & phụ cấp < 5 triệu" in titles
    assert "Tin nóng & mới" in titles  # escaped markup is HTML: tags dropped, its entities decoded once


def test_atom_title_types_are_respected(feed_server, make_source):
    source, outcome = fetch_one(feed_server, make_source, "/entities-atom.xml", ATOM_ENTITIES.encode(),
                                "application/atom+xml")
    titles = {i.link: i.title for i in items_of(source)}
    assert titles["https://e.example/a1"] == 'Chữ &quot;thường&quot;'
    assert titles["https://e.example/a2"] == 'HTML "trích" &amp;'


def test_the_guess_warning_shows_in_the_api(feed_server, api_as):
    admin = api_as("admin")
    feed_server.add("/unsure-api.xml", undeclared_rss(b"Tin", encode_cp1258("Tết ấm"), b"x"),
                    content_type="application/rss+xml")
    created = admin.post("/api/v1/sources", json={"url": feed_server.url("/unsure-api.xml"), "name": "Nguồn cũ",
                                                  "allow_private_address": True}).get_json()
    run_fetch(created["id"])
    (listed,) = [s for s in admin.get("/api/v1/sources").get_json() if s["id"] == created["id"]]
    assert listed["last_fetch_status"] == "warning" and listed["last_error_code"] == "encoding_guessed"
    assert "windows-1258" in listed["last_error"]
