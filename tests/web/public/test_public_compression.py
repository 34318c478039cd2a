"""Compressed answers (Brotli, gzip) of the public site, with ETag/304 still working on the compressed copies."""

from __future__ import annotations

import gzip

import brotli
import pytest

READER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/130 Mobile"}


@pytest.fixture
def article_path(publish) -> str:  # type: ignore[no-untyped-def]
    body = "".join(f"<p>Đoạn {n}: người lao động được bảo vệ quyền lợi hợp pháp, chính đáng.</p>" for n in range(30))
    post, _ = publish(title="Tin nén", body_html=body, category="Thời sự")
    for n in range(6):  # a sitemap and feeds above the smallest size worth compressing
        publish(title=f"Tin thêm số {n}")
    return f"/tin/{post.slug}"


@pytest.mark.parametrize("path", ["ARTICLE", "/", "/rss.xml", "/atom.xml", "/sitemap.xml", "/static/public.css",
                                  "/chuyen-muc/thoi-su", "/tim-kiem?q=tin"])
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_css_feeds_and_sitemap_are_compressed(client, article_path, path, encoding):
    path = article_path if path == "ARTICLE" else path
    plain = client.get(path, headers=READER)
    packed = client.get(path, headers={**READER, "Accept-Encoding": encoding})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert "accept-encoding" in packed.headers["Vary"].lower()
    unpacked = brotli.decompress(packed.data) if encoding == "br" else gzip.decompress(packed.data)
    assert unpacked == plain.data
    assert len(packed.data) < len(plain.data) and int(packed.headers["Content-Length"]) == len(packed.data)


def test_a_page_is_compressed_once_per_site_version(app, client, article_path):
    kept = app.extensions["publisher.compress"].cache
    client.get(article_path, headers={"Accept-Encoding": "br"})
    client.get(article_path, headers={"Accept-Encoding": "br"})
    assert [k for k in kept.keys() if k.startswith("br;article-")] and len(kept.keys()) == 1
    client.post(article_path + "/y-kien", data={"name": "", "message": "x"}, headers={"Accept-Encoding": "br"})
    client.get("/admin/login", headers={"Accept-Encoding": "br"})
    assert len(kept.keys()) == 1  # a form with errors, an editor's screen: compressed, never kept


def test_a_compressed_copy_has_its_own_strong_etag_and_gets_304(client, article_path):
    plain = client.get(article_path, headers=READER)
    packed = client.get(article_path, headers={**READER, "Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "br"
    etag = packed.headers["ETag"]
    assert not etag.startswith("W/") and etag != plain.headers["ETag"] and etag.endswith(':br"')
    again = client.get(article_path, headers={**READER, "Accept-Encoding": "gzip, deflate, br", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and "accept-encoding" in again.headers["Vary"].lower()
    # The copy as rendered keeps its own validator.
    assert client.get(article_path, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_a_change_on_the_site_makes_the_compressed_copy_stale(client, article_path, publish):
    packed = client.get(article_path, headers={"Accept-Encoding": "gzip"})
    publish(title="Một tin mới")
    fresh = client.get(article_path, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != packed.headers["ETag"]
    assert "Một tin mới" in gzip.decompress(fresh.data).decode()


def test_static_css_keeps_its_304_when_compressed(client):
    first = client.get("/static/public.css", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br" and first.headers["ETag"]
    again = client.get("/static/public.css", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_feeds_keep_their_304_when_compressed(client, article_path):
    for path in ("/rss.xml", "/sitemap.xml"):
        first = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert first.headers["Content-Encoding"] == "gzip"
        again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304


def test_images_are_not_compressed_again(client, publish, make_media):
    image = make_media()
    publish(media_ids=[image.id], cover_media_id=image.id)
    path = "/media/" + image.renditions["w480"]["path"]
    response = client.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
