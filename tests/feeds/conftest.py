"""A feed server on 127.0.0.1 (port 0) run by the test suite itself: RSS 2.0, RSS 1.0, Atom, windows-1258,
malformed feeds, HTML, 404, a slow answer, a 50 MB stream, redirect loops, ETag/304 and script tags."""

from __future__ import annotations

import gzip
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

RSS2 = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Báo Lao Động</title>
  <link>https://laodong.example/</link>
  <description>Tin công đoàn</description>
  <item>
    <title>Công đoàn tỉnh tổ chức Tháng Công nhân 2026</title>
    <link>https://laodong.example/tin/thang-cong-nhan-2026</link>
    <guid isPermaLink="false">ld-1001</guid>
    <pubDate>Tue, 05 May 2026 08:30:00 +0700</pubDate>
    <description>&lt;p&gt;Hơn &lt;strong&gt;5.000&lt;/strong&gt; đoàn viên tham gia.&lt;/p&gt;</description>
    <media:content url="https://laodong.example/anh/1001.jpg" medium="image" />
  </item>
  <item>
    <title>Người lao động được hỗ trợ nhà ở</title>
    <link>https://laodong.example/tin/nha-o</link>
    <guid isPermaLink="false">ld-1002</guid>
    <pubDate>Wed, 06 May 2026 09:00:00 +0700</pubDate>
    <description>Hỗ trợ nhà ở cho công nhân khu công nghiệp.</description>
    <enclosure url="https://laodong.example/anh/1002.png" type="image/png" length="1000" />
  </item>
  <item>
    <title>Đối thoại tại doanh nghiệp</title>
    <link>https://laodong.example/tin/doi-thoai</link>
    <guid isPermaLink="false">ld-1003</guid>
    <pubDate>Mon, 04 May 2026 10:00:00 +0700</pubDate>
    <description>&lt;img src="https://laodong.example/anh/1003.jpg"&gt; Đối thoại định kỳ.</description>
  </item>
</channel>
</rss>
"""

RSS1 = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://congthongtin.example/">
    <title>Cổng thông tin tỉnh</title>
    <link>https://congthongtin.example/</link>
    <description>Tin tức</description>
    <items><rdf:Seq>
      <rdf:li rdf:resource="https://congthongtin.example/a1" />
      <rdf:li rdf:resource="https://congthongtin.example/a2" />
    </rdf:Seq></items>
  </channel>
  <item rdf:about="https://congthongtin.example/a1">
    <title>Hội nghị tổng kết năm</title>
    <link>https://congthongtin.example/a1</link>
    <description>Tổng kết công tác năm 2025.</description>
    <dc:date>2026-01-10T08:00:00+07:00</dc:date>
  </item>
  <item rdf:about="https://congthongtin.example/a2">
    <title>Kế hoạch năm mới</title>
    <link>https://congthongtin.example/a2</link>
    <description>Triển khai nhiệm vụ.</description>
    <dc:date>2026-01-11T08:00:00+07:00</dc:date>
  </item>
</rdf:RDF>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Tổng Liên đoàn</title>
  <id>urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6</id>
  <updated>2026-03-01T00:00:00Z</updated>
  <entry>
    <title>Đại hội Công đoàn các cấp</title>
    <link href="/tin/dai-hoi" />
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2026-03-01T02:00:00Z</updated>
    <summary type="html">&lt;p&gt;Đại hội nhiệm kỳ 2026–2031.&lt;/p&gt;</summary>
  </entry>
</feed>
"""

CP1258_TITLE = "Người lao động đón Tết ấm áp"
CP1258_SUMMARY = "Công đoàn trao quà cho đoàn viên khó khăn."


def encode_cp1258(text: str) -> bytes:
    """Real windows-1258 bytes: precomposed letters where the code page has them, else base + combining mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            base, marks = decomposed[0], decomposed[1:]
            # ơ/ư/â/ê/ô/ă keep their own code points; only the tone mark is combined.
            recomposed = unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in "\u0300\u0301\u0303\u0309\u0323"))
            tones = "".join(m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323")
            out += (recomposed + tones).encode("cp1258")
    return bytes(out)


CP1258 = (b'<?xml version="1.0" encoding="windows-1258"?>\n<rss version="2.0"><channel><title>'
          + encode_cp1258("Báo Người Lao Động") + b"</title><link>https://nld.example/</link><description>x</description>"
          + b"<item><title>" + encode_cp1258(CP1258_TITLE) + b"</title><link>https://nld.example/tet</link>"
          + b"<guid>nld-1</guid><description>" + encode_cp1258(CP1258_SUMMARY) + b"</description></item>"
          + b"</channel></rss>\n")

MALFORMED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Trang lỗi</title><link>https://loi.example/</link><description>x</description>
<item><title>Tin thứ nhất</title><link>https://loi.example/1</link><guid>loi-1</guid></item>
<item><title>Tin thứ hai</title><link>https://loi.example/2</link><guid>loi-2</guid></item>
<item><title>Tin hỏng<title><link>https://loi.example/3</link>
</channel>
"""

SCRIPTED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Trang có script</title><link>https://script.example/</link><description>x</description>
<item><title>Tin &lt;script&gt;alert(1)&lt;/script&gt;an toàn</title><link>https://script.example/1</link><guid>s-1</guid>
<description><![CDATA[<p>Nội dung</p><script>alert("xss")</script><img src="x" onerror="alert(2)">]]></description></item>
<item><title>Liên kết xấu</title><link>javascript:alert(3)</link><guid>s-2</guid>
<description>&lt;a href="javascript:alert(4)"&gt;bấm&lt;/a&gt;</description></item>
</channel></rss>
"""

HTML_PAGE = """<!DOCTYPE html><html lang="vi"><head><title>Trang chủ</title></head>
<body><h1>Chào mừng</h1><p>Đây là trang web, không phải RSS.</p></body></html>"""


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.hits.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    self._send(404, b"<html><body>Not found</body></html>", "text/html")
                    return
                if route.handler is not None:
                    route.handler(self)
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                self._send(route.status, route.body, route.content_type, headers)

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: str | bytes = b"", **kwargs: Any) -> str:
        self.routes[path] = Route(body=body.encode("utf-8") if isinstance(body, str) else body, **kwargs)
        return self.url(path)


def _slow(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(2.0)
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(len(RSS2.encode())))
        handler.end_headers()
        handler.wfile.write(RSS2.encode())
    except OSError:
        pass


def _drip(handler: BaseHTTPRequestHandler) -> None:
    """Answers at once, then one byte every 0.2 s: each read is quick, the whole never ends."""
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass


def _huge(handler: BaseHTTPRequestHandler) -> None:
    """50 MB of feed, streamed chunk by chunk (never held in memory), without a Content-Length."""
    chunk = b"<!-- " + b"x" * (64 * 1024 - 9) + b" -->"
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>')
        for _ in range(50 * 1024 * 1024 // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the client hung up at its size limit
    handler.close_connection = True


def _huge_declared(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", str(50 * 1024 * 1024))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True


def _gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    body = gzip.compress(b"<rss>" + b" " * (20 * 1024 * 1024))
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        handler.wfile.write(body)
    except OSError:
        pass


def _redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return handle


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.add("/rss2.xml", RSS2, etag='"rss2-v1"')
    server.add("/rss1.rdf", RSS1, content_type="application/rdf+xml")
    server.add("/atom.xml", ATOM, content_type="application/atom+xml")
    server.add("/cp1258.xml", CP1258, content_type="text/xml")
    server.add("/malformed.xml", MALFORMED)
    server.add("/script.xml", SCRIPTED)
    server.add("/page.html", HTML_PAGE, content_type="text/html; charset=utf-8")
    server.routes["/slow.xml"] = Route(handler=_slow)
    server.routes["/drip.xml"] = Route(handler=_drip)
    server.routes["/huge.xml"] = Route(handler=_huge)
    server.routes["/huge-declared.xml"] = Route(handler=_huge_declared)
    server.routes["/bomb.xml"] = Route(handler=_gzip_bomb)
    server.routes["/loop"] = Route(handler=_redirect("/loop"))
    for n in range(10):
        server.routes[f"/hop/{n}"] = Route(handler=_redirect(f"/hop/{n + 1}"))
    server.routes["/hop/10"] = Route(handler=_redirect("/rss2.xml"))
    server.routes["/moved"] = Route(handler=_redirect("/atom.xml"))
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.feeds import fetch

    monkeypatch.setattr(fetch, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr(fetch, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(fetch, "TOTAL_TIMEOUT", 5.0)


@pytest.fixture
def make_source(app, make_user):  # type: ignore[no-untyped-def]
    from publisher.db import db
    from publisher.feeds.services import create_source

    def make(url: str, admin: Any = None, **fields: Any) -> Any:
        admin = admin or make_user("admin")
        unit_id = fields.pop("unit_id", None)
        data = {"name": fields.pop("name", "Nguồn thử"), "url": url, "allow_private_address": True, **fields}
        source = create_source(admin, data, unit_id=unit_id)
        db.session.commit()
        return source

    return make


@pytest.fixture(autouse=True)
def _dispose_engines():  # type: ignore[no-untyped-def]
    """Each test's app has its own engine; close its pooled connections when the test ends (set up before the app
    fixture, so torn down after it) instead of leaving them to the garbage collector on a shared PostgreSQL."""
    yield
    from publisher.db import db

    for engines in list(getattr(db, "_app_engines", {}).values()):
        for engine in engines.values():
            engine.dispose()
