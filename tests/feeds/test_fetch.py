"""Fetching and reading feeds: formats, encodings, and every kind of bad answer, recorded on the source."""

from __future__ import annotations

import socket
import time

import pytest

from publisher.db import db
from publisher.feeds import fetch
from publisher.feeds.fetch import FetchError, address_is_public, fetch_feed
from publisher.feeds.jobs import run_fetch
from publisher.feeds.models import Item
from tests.feeds.conftest import CP1258_SUMMARY, CP1258_TITLE


def items_of(source) -> list[Item]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(db.select(Item).where(Item.source_id == source.id).order_by(Item.id)))


def test_rss2_items_are_stored_with_link_summary_date_and_image(feed_server, make_source):
    source = make_source(feed_server.url("/rss2.xml"))
    outcome = run_fetch(source.id)
    assert outcome.status == "ok" and len(outcome.new_items) == 3
    items = {i.guid: i for i in items_of(source)}
    first = items["ld-1001"]
    assert first.title == "Công đoàn tỉnh tổ chức Tháng Công nhân 2026"
    assert first.link == "https://laodong.example/tin/thang-cong-nhan-2026"
    assert first.summary == "<p>Hơn <strong>5.000</strong> đoàn viên tham gia.</p>"
    assert first.published_at.isoformat() == "2026-05-05T01:30:00+00:00"
    assert first.image_url == "https://laodong.example/anh/1001.jpg"
    assert items["ld-1002"].image_url == "https://laodong.example/anh/1002.png"
    assert items["ld-1003"].image_url == "https://laodong.example/anh/1003.jpg"
    db.session.refresh(source)
    assert source.last_fetch_status == "ok" and source.last_error == "" and source.last_new_count == 3
    assert source.etag == '"rss2-v1"'


def test_rss1_and_atom(feed_server, make_source):
    rdf = make_source(feed_server.url("/rss1.rdf"))
    atom = make_source(feed_server.url("/atom.xml"))
    assert run_fetch(rdf.id).status == "ok"
    assert run_fetch(atom.id).status == "ok"
    assert [i.title for i in items_of(rdf)] == ["Hội nghị tổng kết năm", "Kế hoạch năm mới"]
    assert items_of(rdf)[0].published_at.isoformat() == "2026-01-10T01:00:00+00:00"
    (entry,) = items_of(atom)
    assert entry.title == "Đại hội Công đoàn các cấp"
    assert entry.link == feed_server.url("/tin/dai-hoi")  # relative link resolved against the feed's address
    assert entry.summary == "<p>Đại hội nhiệm kỳ 2026–2031.</p>"


def test_windows_1258_vietnamese(feed_server, make_source):
    raw = feed_server.routes["/cp1258.xml"].body
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really legacy bytes
    source = make_source(feed_server.url("/cp1258.xml"))
    outcome = run_fetch(source.id)
    assert outcome.status == "ok", source.last_error
    (item,) = items_of(source)
    assert item.title == CP1258_TITLE
    assert item.summary == CP1258_SUMMARY


def test_utf16_with_bom(feed_server, make_source):
    from tests.feeds.conftest import RSS2

    feed_server.add("/utf16.xml", RSS2.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
                    content_type="application/rss+xml")
    source = make_source(feed_server.url("/utf16.xml"))
    assert run_fetch(source.id).status == "ok"
    assert "Công đoàn tỉnh tổ chức Tháng Công nhân 2026" in [i.title for i in items_of(source)]


def test_conditional_get_304_is_nothing_new(feed_server, make_source):
    source = make_source(feed_server.url("/rss2.xml"))
    run_fetch(source.id)
    outcome = run_fetch(source.id)
    assert outcome.status == "not_modified" and outcome.new_items == []
    assert feed_server.hits[-1][1].get("If-None-Match") == '"rss2-v1"'
    db.session.refresh(source)
    assert source.last_fetch_status == "not_modified"
    assert len(items_of(source)) == 3


def test_last_modified_is_sent_back(feed_server, make_source):
    feed_server.add("/lm.xml", feed_server.routes["/atom.xml"].body, content_type="application/atom+xml",
                    headers={"Last-Modified": "Sun, 01 Mar 2026 02:00:00 GMT"})
    source = make_source(feed_server.url("/lm.xml"))
    run_fetch(source.id)
    run_fetch(source.id)
    assert feed_server.hits[-1][1].get("If-Modified-Since") == "Sun, 01 Mar 2026 02:00:00 GMT"


def test_dedupe_by_guid_then_link_then_title_and_date(feed_server, make_source):
    body = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>
    <item><title>A</title><guid>g-1</guid><link>https://x.example/a</link></item>
    <item><title>A again, same guid</title><guid>g-1</guid><link>https://x.example/a2</link></item>
    <item><title>B</title><link>https://x.example/b</link></item>
    <item><title>B again, same link</title><link>https://x.example/b</link></item>
    <item><title>C</title><pubDate>Tue, 05 May 2026 08:30:00 +0700</pubDate></item>
    <item><title>C</title><pubDate>Tue, 05 May 2026 08:30:00 +0700</pubDate></item>
    <item><title>C</title><pubDate>Wed, 06 May 2026 08:30:00 +0700</pubDate></item>
    </channel></rss>"""
    feed_server.add("/dupes.xml", body)
    source = make_source(feed_server.url("/dupes.xml"))
    assert len(run_fetch(source.id).new_items) == 4
    assert sorted(i.title for i in items_of(source)) == ["A", "B", "C", "C"]
    # The same feed again (no validators this time): nothing new.
    assert run_fetch(source.id).new_items == []
    # A feed that changes its guids but keeps link and title stores nothing twice either.
    feed_server.add("/dupes.xml", body.replace("<guid>g-1</guid><link>https://x.example/a</link>",
                                               "<guid>g-1-changed</guid><link>https://x.example/a</link>"))
    assert run_fetch(source.id).new_items == []
    assert len(items_of(source)) == 4


def test_malformed_feed_is_read_as_far_as_possible(feed_server, make_source):
    source = make_source(feed_server.url("/malformed.xml"))
    outcome = run_fetch(source.id)
    assert outcome.status == "warning" and outcome.error_code == "malformed"
    assert [i.link for i in items_of(source)][:2] == ["https://loi.example/1", "https://loi.example/2"]
    db.session.refresh(source)
    assert source.last_fetch_status == "warning"
    assert "định dạng" in source.last_error or "lỗi" in source.last_error.lower()


def test_html_page_instead_of_feed(feed_server, make_source):
    source = make_source(feed_server.url("/page.html"))
    outcome = run_fetch(source.id)
    assert outcome.status == "error" and outcome.error_code == "not_a_feed_html"
    db.session.refresh(source)
    assert source.last_fetch_status == "error" and "HTML" in source.last_error
    assert items_of(source) == []


def test_404(feed_server, make_source):
    source = make_source(feed_server.url("/missing.xml"))
    outcome = run_fetch(source.id)
    assert outcome.error_code == "http_status"
    db.session.refresh(source)
    assert source.last_fetch_status == "error" and "404" in source.last_error


def test_unreachable_host(make_source):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    source = make_source(f"http://127.0.0.1:{port}/feed.xml")
    outcome = run_fetch(source.id)
    assert outcome.status == "error" and outcome.error_code == "unreachable"
    db.session.refresh(source)
    assert source.last_error


def test_unknown_host_name(make_source):
    source = make_source("http://does-not-exist.invalid/feed.xml")
    outcome = run_fetch(source.id)
    assert outcome.error_code in ("unresolvable", "unreachable", "timeout")


def test_slow_server_times_out(feed_server, make_source, fast_timeouts):
    source = make_source(feed_server.url("/slow.xml"))
    started = time.monotonic()
    outcome = run_fetch(source.id)
    assert time.monotonic() - started < 2.0
    assert outcome.status == "error" and outcome.error_code == "timeout"


def test_drip_feed_hits_the_overall_deadline(feed_server, make_source, monkeypatch):
    monkeypatch.setattr(fetch, "READ_TIMEOUT", 1.0)
    monkeypatch.setattr(fetch, "TOTAL_TIMEOUT", 1.5)
    source = make_source(feed_server.url("/drip.xml"))
    started = time.monotonic()
    outcome = run_fetch(source.id)
    assert time.monotonic() - started < 3.5
    assert outcome.status == "error" and outcome.error_code == "timeout"


def test_50mb_stream_is_cut_off(feed_server, make_source):
    source = make_source(feed_server.url("/huge.xml"))
    outcome = run_fetch(source.id)
    assert outcome.status == "error" and outcome.error_code == "too_large"
    db.session.refresh(source)
    assert "5 MB" in source.last_error


def test_50mb_declared_length_refused_before_reading(feed_server, make_source):
    source = make_source(feed_server.url("/huge-declared.xml"))
    assert run_fetch(source.id).error_code == "too_large"


def test_gzip_bomb_counts_decompressed_bytes(feed_server, make_source):
    source = make_source(feed_server.url("/bomb.xml"))
    assert run_fetch(source.id).error_code == "too_large"


def test_redirect_loop_and_too_many_redirects(feed_server, make_source):
    loop = make_source(feed_server.url("/loop"))
    assert run_fetch(loop.id).error_code == "redirect_loop"
    chain = make_source(feed_server.url("/hop/0"))
    assert run_fetch(chain.id).error_code == "too_many_redirects"
    moved = make_source(feed_server.url("/moved"))
    assert run_fetch(moved.id).status == "ok"
    assert len(items_of(moved)) == 1


def test_script_tags_are_removed_and_reported(feed_server, make_source):
    source = make_source(feed_server.url("/script.xml"))
    outcome = run_fetch(source.id)
    assert outcome.status == "warning" and outcome.error_code == "script_removed"
    items = items_of(source)
    for item in items:
        assert "script" not in item.summary.lower() and "onerror" not in item.summary
        assert "javascript" not in item.summary and "javascript" not in item.link
        assert "<" not in item.title
    assert items[0].summary.startswith("<p>Nội dung</p>")
    assert items[1].link == ""


def test_loopback_is_refused_by_default(feed_server, make_source):
    source = make_source(feed_server.url("/rss2.xml"), allow_private_address=False)
    outcome = run_fetch(source.id)
    assert outcome.status == "error" and outcome.error_code == "private_address"
    assert feed_server.hits == []  # no request ever left
    db.session.refresh(source)
    assert "127.0.0.1" in source.last_error


def test_redirect_to_a_private_address_is_refused(monkeypatch):
    # Every hop is checked: a public address redirecting to loopback must not be followed. The first hop's
    # address is made "public" for the test by checking only the second one.
    calls: list[str] = []

    def fake_resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"] if host == "public.example" else ["127.0.0.1"]

    monkeypatch.setattr(fetch, "resolve", fake_resolve)

    class FakeResponse:
        status_code = 302
        headers = {"Location": "http://internal.example/secret"}
        reason = "Found"

        def close(self) -> None:
            pass

    monkeypatch.setattr(fetch.requests.Session, "get", lambda self, url, **kw: FakeResponse())
    with pytest.raises(FetchError) as caught:
        fetch_feed("http://public.example/feed")
    assert caught.value.code == "private_address"
    assert calls == ["public.example", "internal.example"]


def test_connects_to_the_checked_address(monkeypatch):
    """DNS rebinding: the request goes to the address that was checked, not to a second lookup."""
    seen: dict[str, object] = {}

    monkeypatch.setattr(fetch, "resolve", lambda host, port: ["93.184.216.34"])

    class FakeResponse:
        status_code = 304
        headers: dict[str, str] = {}
        reason = "Not Modified"

        def close(self) -> None:
            pass

    def fake_get(self, url, **kw):  # type: ignore[no-untyped-def]
        seen["url"], seen["headers"] = url, kw["headers"]
        return FakeResponse()

    monkeypatch.setattr(fetch.requests.Session, "get", fake_get)
    assert fetch_feed("http://news.example:8080/rss?x=1").not_modified
    assert seen["url"] == "http://93.184.216.34:8080/rss?x=1"
    assert seen["headers"]["Host"] == "news.example:8080"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed", "gopher://x/"])
def test_only_http_and_https(url):
    with pytest.raises(FetchError) as caught:
        fetch_feed(url, allow_private=True)
    assert caught.value.code == "bad_scheme"


@pytest.mark.parametrize("address,public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.1", False), ("172.16.0.1", False),
    ("169.254.169.254", False), ("0.0.0.0", False), ("100.64.0.1", False), ("224.0.0.1", False),
    ("::1", False), ("fe80::1", False), ("fc00::1", False), ("::ffff:127.0.0.1", False), ("240.0.0.1", False),
    ("93.184.216.34", True), ("2606:4700:4700::1111", True),
])
def test_address_classification(address, public):
    assert address_is_public(address) is public


def test_one_failing_source_does_not_stop_the_others(feed_server, make_source, monkeypatch):
    from publisher.feeds import services

    good = make_source(feed_server.url("/atom.xml"))
    bad = make_source(feed_server.url("/rss2.xml"), name="Nguồn hỏng")
    real_store = services.store_items

    def exploding_store(source, entries):  # type: ignore[no-untyped-def]
        if source.id == bad.id:
            raise RuntimeError("boom")
        return real_store(source, entries)

    monkeypatch.setattr(services, "store_items", exploding_store)
    assert run_fetch(bad.id).error_code == "internal"
    assert run_fetch(good.id).status == "ok"
    db.session.refresh(bad)
    assert bad.last_fetch_status == "error" and bad.last_error
    assert items_of(bad) == [] and len(items_of(good)) == 1
