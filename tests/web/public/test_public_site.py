"""The public website: pages, feeds, caching, 410s, comments and their moderation, page views, page weight."""

from __future__ import annotations

import re

import feedparser
import pytest
from sqlalchemy import select

from publisher.db import db
from publisher.website import services
from publisher.website.models import ArticleViewDay, ReaderComment
from tests.web.public.conftest import csrf_from

READER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/130 Mobile"}


def test_front_page_lists_live_articles(client, publish):
    post, _ = publish(category="Thời sự")
    other, article = publish(title="Bài đã gỡ")
    services.remove_article(article.id)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert post.title in html and "Bài đã gỡ" not in html
    assert '<html lang="vi">' in html
    assert client.get("/chuyen-muc/thoi-su").status_code == 200
    assert client.get("/chuyen-muc/khong-co").status_code == 404


def test_article_page_has_what_a_reader_and_a_share_need(client, publish, make_media):
    image = make_media(caption="Toàn cảnh hội nghị", alt_text="Hội trường đông người")
    post, article = publish(category="Thời sự", locality="Huyện Hòa Vang", byline="Nguyễn Văn An",
                            media_ids=[image.id], cover_media_id=image.id,
                            body_html=f'<p>Mở đầu</p><figure data-media-id="{image.id}"><img data-media-id="{image.id}" '
                                      f'src="x.jpg" alt="Ảnh trong bài"><figcaption>Chú thích trong bài</figcaption>'
                                      f'</figure><p>Kết</p>')
    response = client.get(f"/tin/{post.slug}", headers=READER)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nguyễn Văn An" in html and "Huyện Hòa Vang" in html and "Chú thích trong bài" in html
    assert re.search(r"Thứ \w+, \d\d/\d\d/20\d\d, \d\d:\d\d", html), "date in Vietnamese format"
    assert '<meta property="og:title"' in html
    social = image.renditions["social"]["path"]
    assert f'<meta property="og:image" content="http://loa.test/media/{social}">' in html
    assert "https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Floa.test%2Ftin%2F" in html
    assert "zalo" in html.lower()
    body_img = re.search(r'<img [^>]*alt="Ảnh trong bài"[^>]*>', html).group(0)
    assert 'srcset="/media/' in body_img and 'loading="lazy"' in body_img and "w480" in body_img
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(tag == '<script type="application/ld+json">' for tag in scripts), "data blocks only"
    assert "Ý kiến của bạn sẽ được biên tập trước khi đăng" in html
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" in response.headers


def test_related_articles_prefer_the_same_category(client, publish):
    post, _ = publish(title="Bài chính", category="Việc làm")
    publish(title="Cùng chuyên mục", category="Việc làm")
    publish(title="Chuyên mục khác", category="Pháp luật")
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    related = html.split('id="related-h"')[1]
    assert related.index("Cùng chuyên mục") < related.index("Chuyên mục khác")


def test_search_ignores_tone_marks(client, publish):
    post, _ = publish(title="Đẩy mạnh chuyển đổi số", body_html="<p>Công đoàn cơ sở</p>")
    publish(title="Tin khác hẳn")
    html = client.get("/tim-kiem?q=chuyen+doi+so").get_data(as_text=True)
    assert post.title in html and "Tin khác hẳn" not in html
    assert "Tin khác hẳn" not in client.get("/tim-kiem?q=CÔNG+ĐOÀN").get_data(as_text=True)
    assert client.get("/tim-kiem?q=%25").status_code == 200


def test_feeds_parse_cleanly(client, publish):
    post, _ = publish(title="Tin <đặc biệt> & \"ký tự\"", category="Thời sự")
    for path, version in (("/rss.xml", "rss20"), ("/atom.xml", "atom10")):
        response = client.get(path)
        assert response.status_code == 200
        parsed = feedparser.parse(response.data, response_headers={"content-type": response.headers["Content-Type"]})
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.version == version
        entry = parsed.entries[0]
        assert entry.title == post.title and entry.link == f"http://loa.test/tin/{post.slug}"
        assert parsed.feed.title == "Liên đoàn Lao động tỉnh"  # the site's name
        assert entry.published_parsed is not None
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200 and f"<loc>http://loa.test/tin/{post.slug}</loc>" in sitemap.get_data(as_text=True)
    assert client.get("/robots.txt").status_code == 200


def test_pages_are_cacheable_with_etag_and_last_modified(client, publish):
    post, article = publish()
    first = client.get(f"/tin/{post.slug}")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get(f"/tin/{post.slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(f"/tin/{post.slug}", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    for path in ("/", "/rss.xml", "/atom.xml", "/sitemap.xml"):
        response = client.get(path)
        assert client.get(path, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    publish(title="Một tin mới")  # any change on the site makes old copies stale
    assert client.get(f"/tin/{post.slug}", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_removed_article_answers_410(client, publish):
    post, article = publish()
    services.remove_article(article.id)
    db.session.commit()
    response = client.get(f"/tin/{post.slug}")
    assert response.status_code == 410 and "đã được gỡ" in response.get_data(as_text=True).lower()
    assert client.post(f"/tin/{post.slug}/y-kien", data={"name": "A", "message": "B", "consent": "yes"}).status_code == 410
    assert client.get("/tin/khong-ton-tai").status_code == 404


def test_comment_goes_to_the_moderation_queue(client, publish):
    post, article = publish()
    response = client.post(f"/tin/{post.slug}/y-kien", data={"name": "Trần Thị Bình", "message": "Rất bổ ích", "consent": "yes"})
    assert response.status_code == 303 and "gui=1" in response.headers["Location"]
    comment = db.session.scalar(select(ReaderComment))
    assert comment.state == "pending" and comment.author_name == "Trần Thị Bình"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rất bổ ích" not in page and 'role="status"' in page


def test_comment_form_errors_keep_what_was_typed(client, publish):
    post, _ = publish()
    response = client.post(f"/tin/{post.slug}/y-kien", data={"name": "", "message": "Ý kiến còn nguyên", "consent": "yes"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ý kiến còn nguyên" in html and 'aria-invalid="true"' in html
    too_long = client.post(f"/tin/{post.slug}/y-kien", data={"name": "A", "message": "x" * 2001, "consent": "yes"})
    assert too_long.status_code == 422
    assert db.session.scalar(select(ReaderComment)) is None


def test_honeypot_comment_is_dropped_silently(client, publish):
    post, _ = publish()
    response = client.post(f"/tin/{post.slug}/y-kien", data={"name": "Bot", "message": "mua ngay", "website": "x.y", "consent": "yes"})
    assert response.status_code == 303
    assert db.session.scalar(select(ReaderComment)) is None


def test_comments_are_rate_limited_per_reader(client, publish):
    post, _ = publish()
    for n in range(services.COMMENT_LIMIT):
        assert client.post(f"/tin/{post.slug}/y-kien", data={"name": "A", "message": f"ý kiến {n}", "consent": "yes"}).status_code == 303
    blocked = client.post(f"/tin/{post.slug}/y-kien", data={"name": "A", "message": "thêm nữa", "consent": "yes"})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]
    other = client.post(f"/tin/{post.slug}/y-kien", data={"name": "B", "message": "người khác", "consent": "yes"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 303
    assert db.session.query(ReaderComment).count() == services.COMMENT_LIMIT + 1


def test_page_views_are_counted_without_cookies_or_addresses(client, publish, settings):
    from publisher.queue import redis_connection

    post, article = publish()
    url = f"/tin/{post.slug}"
    client.get(url, headers=READER, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    client.get(url, headers=READER, environ_base={"REMOTE_ADDR": "203.0.113.7"})  # same reader, same day
    client.get(url, headers=READER, environ_base={"REMOTE_ADDR": "203.0.113.8"})
    client.head(url, headers=READER, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client.get(url, headers={"User-Agent": "Googlebot/2.1"}, environ_base={"REMOTE_ADDR": "66.249.66.1"})
    client.get(url, headers={"User-Agent": "facebookexternalhit/1.1"}, environ_base={"REMOTE_ADDR": "31.13.1.1"})
    client.get(url, headers={"User-Agent": ""}, environ_base={"REMOTE_ADDR": "203.0.113.10"})  # no user agent
    client.get(url, headers={"User-Agent": "curl/8.5"}, environ_base={"REMOTE_ADDR": "203.0.113.11"})
    rows = db.session.scalars(select(ArticleViewDay)).all()
    assert sum(r.views for r in rows) == 2
    redis = redis_connection(settings)
    stored = b" ".join(redis.keys("*")) + b" ".join(m for k in redis.keys("website:seen:*") for m in redis.smembers(k))
    assert b"203.0.113" not in stored
    assert all(redis.ttl(k) > 0 for k in redis.keys("website:*"))


def test_article_page_stays_within_150_kb(client, publish, make_user):
    body = "".join(f"<h2>Mục {n}</h2><p>{'Người lao động được bảo vệ quyền lợi hợp pháp. ' * 30}</p>" for n in range(48))
    assert len(body.encode()) < services.BODY_MAX_BYTES
    post, article = publish(body_html=body, title="Tiêu đề " * 37, summary="Tóm tắt dài " * 83, category="Thời sự",
                            locality="Thành phố Đà Nẵng")
    for n in range(4):
        publish(title=f"Bài liên quan số {n} " + "chữ " * 60, category="Thời sự")
    editor = make_user("editor")
    for n in range(services.COMMENTS_SHOWN + 10):
        comment = services.submit_comment(article, f"Bạn đọc {n}", "Ý kiến dài " * 180, consent=True)
        services.moderate_comment(comment, editor, approve=True)
        if n % 2:
            services.add_staff_reply(comment.id, "Trả lời dài " * 300, editor)
    db.session.commit()
    response = client.get(f"/tin/{post.slug}", headers={"If-None-Match": "stale"})
    css = client.get("/static/public.css")
    total = len(response.data) + len(css.data)
    assert total <= 150 * 1024, total
    assert "ý kiến cũ hơn không được hiển thị" in response.get_data(as_text=True)


def test_moderation_needs_sign_in_and_an_editor(client, publish, make_user, sign_in):
    post, article = publish()
    comment = services.submit_comment(article, "Hoa", "Chờ duyệt", consent=True)
    db.session.commit()
    assert client.get("/admin/comments/").status_code == 302
    sign_in(make_user("viewer"))
    # A viewer reads the platforms' comments in the one inbox, but never readers' comments waiting for moderation.
    html = client.get("/admin/comments/").get_data(as_text=True)
    assert "Chờ duyệt" not in html and f"/admin/comments/{comment.id}/approve" not in html
    token = csrf_from(html)
    assert client.post(f"/admin/comments/{comment.id}/approve", data={"csrf_token": token}).status_code == 403


def test_editor_approves_rejects_and_answers(client, publish, make_user, sign_in):
    post, article = publish()
    good = services.submit_comment(article, "Hoa", "Bài viết rất hay", consent=True)
    bad = services.submit_comment(article, "Quảng cáo", "mua hàng giá rẻ", consent=True)
    third = services.submit_comment(article, "Minh", "Cho tôi hỏi", consent=True)
    db.session.commit()
    sign_in(make_user("editor"))
    queue = client.get("/admin/comments/")
    html = queue.get_data(as_text=True)
    assert "Bài viết rất hay" in html and "mua hàng giá rẻ" in html and "/admin/comments/" in html
    token = csrf_from(html)
    assert client.post(f"/admin/comments/{good.id}/approve", data={}).status_code == 400  # no CSRF token
    assert client.post(f"/admin/comments/{good.id}/approve", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/comments/{bad.id}/reject", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/comments/{third.id}/reply",
                       data={"csrf_token": token, "message": "Ban biên tập sẽ trả lời sớm"}).status_code == 302
    page = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert "Bài viết rất hay" in page and "Cho tôi hỏi" in page and "Ban biên tập sẽ trả lời sớm" in page
    assert "mua hàng giá rẻ" not in page
    states = {c.author_name: c.state for c in db.session.scalars(select(ReaderComment))}
    assert states["Hoa"] == "approved" and states["Quảng cáo"] == "rejected" and states["Minh"] == "approved"


def test_moderators_see_only_their_units(client, publish, make_user, make_unit, sign_in):
    post, article = publish()  # the root unit's article
    comment = services.submit_comment(article, "Hoa", "Ở cấp tỉnh", consent=True)
    db.session.commit()
    branch = make_unit("Công đoàn huyện")
    sign_in(make_user("editor", unit=branch))
    assert "Ở cấp tỉnh" not in client.get("/admin/comments/").get_data(as_text=True)
    html = client.get("/admin/comments/?state=approved").get_data(as_text=True)
    response = client.post(f"/admin/comments/{comment.id}/approve", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 404
    assert db.session.get(ReaderComment, comment.id).state == "pending"


@pytest.mark.parametrize("path", ["/", "/tim-kiem?q=x", "/rss.xml"])
def test_public_pages_set_no_cookie(client, path):
    assert "Set-Cookie" not in client.get(path).headers
