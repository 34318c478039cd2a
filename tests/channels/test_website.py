"""The website adapter: every method and its error classes, against Loa's own public site."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.channels.base import REGISTRY, ErrorKind, adapter_class
from publisher.db import db, utcnow
from publisher.website import services
from publisher.website.models import Article
from tests.channels.conftest import assert_channel_error


@pytest.fixture
def site(make_channel, adapter):  # type: ignore[no-untyped-def]
    return adapter(make_channel("website", name="Cổng thông tin"))


def test_registered_by_kind():
    assert adapter_class("website").__name__ == "WebsiteAdapter"
    assert REGISTRY["website"].kind == "website"


def test_publish_makes_the_article_public_at_once(site, make_post, publish_request, client, make_media):
    cover = make_media(caption="Lễ ra quân", alt_text="Đoàn viên xếp hàng")
    post = make_post(state="approved", category="Thời sự", locality="Đà Nẵng", media_ids=[cover.id],
                     cover_media_id=cover.id)
    result = site.publish(publish_request(post))
    db.session.commit()
    assert result.remote_id.isdigit()
    assert result.remote_url == f"http://loa.test/tin/{post.slug}"
    page = client.get(f"/tin/{post.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert post.title in html and "Thời sự" in html and "Đà Nẵng" in html and "Lễ ra quân" in html
    assert 'srcset="/media/' in html and 'loading="lazy"' not in html.split("<figure class=\"cover\">")[1][:50]


def test_variant_overrides_title_summary_and_body(site, make_post, publish_request, client):
    post = make_post(state="approved", variants={"website": {"title": "Tiêu đề riêng cho web",
                                                             "summary": "Sapo riêng", "body_html": "<p>Thân bài web</p>"}})
    site.publish(publish_request(post))
    db.session.commit()
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert "Tiêu đề riêng cho web" in html and "Sapo riêng" in html and "Thân bài web" in html
    assert "Nội dung bài viết" not in html


def test_publishing_the_same_delivery_twice_gives_one_article(site, make_post, publish_request):
    post = make_post(state="approved")
    request = publish_request(post, key="delivery-1")
    first = site.publish(request)
    second = site.publish(request)
    assert first == second
    assert db.session.query(Article).count() == 1


def test_second_delivery_of_a_live_post_is_a_duplicate(site, make_post, publish_request):
    post = make_post(state="approved")
    site.publish(publish_request(post))
    error = assert_channel_error(ErrorKind.DUPLICATE, site.publish, publish_request(post))
    assert f"/tin/{post.slug}" in error.message


def test_slug_clash_is_rejected_with_a_clear_message(site, make_post, publish_request):
    first = make_post(state="approved")
    other = make_post(state="approved", title="Một bài khác")
    site.publish(publish_request(first))
    error = assert_channel_error(ErrorKind.REJECTED, site.publish, publish_request(other, slug=first.slug))
    assert error.code == "slug_taken"
    assert f"/tin/{first.slug}" in error.message and "đã được một bài khác" in error.message
    problems = site.validate(publish_request(other, slug=first.slug))
    assert [p.field for p in problems] == ["slug"]


def test_validate_lists_what_the_site_refuses(site, make_post, publish_request):
    post = make_post(state="approved")
    good = publish_request(post)
    assert site.validate(good) == []
    bad = publish_request(post, title="", variant={}, body_html="<p>" + "x" * 100_001 + "</p>", slug="Sai Dia Chi",
                          summary="s" * 1001)
    fields = sorted(p.field for p in site.validate(bad))
    assert fields == ["body_html", "slug", "summary", "title"]
    assert all(p.message for p in site.validate(bad))
    empty = publish_request(post, body_html="<p> </p>", variant={})
    assert [p.field for p in site.validate(empty)] == ["body_html"]
    error = assert_channel_error(ErrorKind.REJECTED, site.publish, bad)
    assert error.code == "invalid_content"
    assert db.session.query(Article).count() == 0


def test_update_changes_the_page_and_its_version(site, make_post, publish_request, client):
    post = make_post(state="approved")
    request = publish_request(post)
    result = site.publish(request)
    db.session.commit()
    etag = client.get(f"/tin/{post.slug}").headers["ETag"]
    updated = site.update(result.remote_id, publish_request(post, title="Tiêu đề đã sửa", key=request.idempotency_key))
    db.session.commit()
    assert updated.remote_id == result.remote_id
    page = client.get(f"/tin/{post.slug}", headers={"If-None-Match": etag})
    assert page.status_code == 200 and "Tiêu đề đã sửa" in page.get_data(as_text=True)


def test_update_of_a_removed_or_unknown_article_is_rejected(site, make_post, publish_request):
    post = make_post(state="approved")
    result = site.publish(publish_request(post))
    site.unpublish(result.remote_id)
    assert_channel_error(ErrorKind.REJECTED, site.update, result.remote_id, publish_request(post))
    assert_channel_error(ErrorKind.REJECTED, site.update, "9999", publish_request(post))
    assert_channel_error(ErrorKind.REJECTED, site.update, "not-an-id", publish_request(post))


def test_unpublish_answers_410_at_once_and_twice_is_fine(site, make_post, publish_request, client):
    post = make_post(state="approved")
    result = site.publish(publish_request(post))
    db.session.commit()
    assert client.get(f"/tin/{post.slug}").status_code == 200
    site.unpublish(result.remote_id)
    db.session.commit()
    assert client.get(f"/tin/{post.slug}").status_code == 410
    site.unpublish(result.remote_id)
    site.unpublish("12345")
    site.unpublish("nonsense")
    db.session.commit()
    assert client.get(f"/tin/{post.slug}").status_code == 410
    assert post.slug not in client.get("/rss.xml").get_data(as_text=True)


def test_republishing_after_unpublish_revives_the_same_address(site, make_post, publish_request, client):
    post = make_post(state="approved")
    first = site.publish(publish_request(post))
    site.unpublish(first.remote_id)
    again = site.publish(publish_request(post))
    db.session.commit()
    assert again.remote_id == first.remote_id and again.remote_url == first.remote_url
    assert client.get(f"/tin/{post.slug}").status_code == 200


def test_find_existing_by_idempotency_key(site, make_post, publish_request):
    post = make_post(state="approved")
    request = publish_request(post, key="k-123")
    assert site.find_existing(request) is None
    result = site.publish(request)
    assert site.find_existing(request) == result
    assert site.find_existing(publish_request(post, key="other")) is None
    site.unpublish(result.remote_id)
    assert site.find_existing(request) is None


def test_fetch_metrics_counts_page_views_and_approved_comments(site, make_post, publish_request, client, make_user):
    post = make_post(state="approved")
    result = site.publish(publish_request(post))
    other = site.publish(publish_request(make_post(state="approved", title="Bài thứ hai")))
    db.session.commit()
    for n in range(3):
        client.get(f"/tin/{post.slug}", headers={"User-Agent": f"Mozilla/5.0 reader {n}"},
                   environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    article = db.session.get(Article, int(result.remote_id))
    approved = services.submit_comment(article, "Lan", "Bài hay", consent=True)
    services.submit_comment(article, "Spam", "chờ duyệt", consent=True)
    editor = make_user("editor")
    services.moderate_comment(approved, editor, approve=True)
    services.add_staff_reply(approved.id, "Cảm ơn bạn", editor)
    db.session.commit()
    metrics = site.fetch_metrics([result.remote_id, other.remote_id, "777", "x"])
    assert metrics[result.remote_id].values == {"page_views": 3, "comments": 1}
    assert metrics[other.remote_id].values == {"page_views": 0, "comments": 0}
    assert not metrics[result.remote_id].removed
    assert metrics["777"].removed and metrics["x"].removed
    site.unpublish(other.remote_id)
    assert site.fetch_metrics([other.remote_id])[other.remote_id].removed


def test_fetch_comments_and_reply(site, make_post, publish_request, make_user, client):
    post = make_post(state="approved")
    result = site.publish(publish_request(post))
    article = db.session.get(Article, int(result.remote_id))
    editor = make_user("editor")
    first = services.submit_comment(article, "Hùng", "Ý kiến thứ nhất", consent=True)
    pending = services.submit_comment(article, "Mai", "Chưa duyệt", consent=True)
    services.moderate_comment(first, editor, approve=True)
    db.session.commit()
    comments = site.fetch_comments(result.remote_id)
    assert [(c.author_name, c.message) for c in comments] == [("Hùng", "Ý kiến thứ nhất")]
    assert comments[0].post_remote_id == result.remote_id and comments[0].parent_remote_id is None
    reply_id = site.reply_comment(comments[0].remote_id, "Xin cảm ơn ý kiến của bạn")
    db.session.commit()
    comments = site.fetch_comments(result.remote_id)
    assert comments[-1].remote_id == reply_id and comments[-1].parent_remote_id == str(first.id)
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert "Xin cảm ơn ý kiến của bạn" in html and "Chưa duyệt" not in html
    later = site.fetch_comments(result.remote_id, since=utcnow() + timedelta(seconds=5))
    assert later == []
    assert_channel_error(ErrorKind.REJECTED, site.reply_comment, str(pending.id), "trả lời")
    assert_channel_error(ErrorKind.REJECTED, site.reply_comment, "999", "trả lời")
    assert_channel_error(ErrorKind.REJECTED, site.reply_comment, comments[0].remote_id, "   ")
    assert_channel_error(ErrorKind.REJECTED, site.fetch_comments, "abc")


def test_check_connection(site):
    status = site.check_connection()
    assert status.ok and "http://loa.test" in status.message


def test_database_failure_is_transient(site, make_post, publish_request, monkeypatch):
    from sqlalchemy.exc import OperationalError

    post = make_post(state="approved")

    def broken(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(services, "publish_article", broken)
    error = assert_channel_error(ErrorKind.TRANSIENT, site.publish, publish_request(post))
    assert error.code == "database_unavailable"


def test_video_is_shown_and_a_video_cover_is_refused(site, make_post, publish_request, make_media, client):
    video = make_media(kind="video", filename="clip.mp4", caption="Đoạn phim")
    image = make_media()
    post = make_post(state="approved", media_ids=[image.id, video.id])
    request = publish_request(post)
    assert request.cover is not None and request.cover.media_id == image.id  # first image when none is chosen
    bad_cover = publish_request(post, cover=next(m for m in request.media if m.kind == "video"))
    assert [p.field for p in site.validate(bad_cover)] == ["cover"]
    site.publish(request)
    db.session.commit()
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert '<video controls preload="none" src="/media/' in html and "Đoạn phim" in html


def test_missing_alt_text_is_a_warning_not_a_refusal(site, make_post, publish_request, make_media):
    image = make_media(alt_text="", caption="")
    post = make_post(state="approved", media_ids=[image.id])
    result = site.publish(publish_request(post))
    assert result.warnings and str(image.id) in result.warnings[0]


def test_unpublish_through_the_api_answers_410_before_any_job_runs(api_as, make_post, make_channel, client):
    """The contract: after ``POST /posts/ID/unpublish`` the website's article answers 410 at once; the queued job
    only cleans up (and running it after the request changes nothing more)."""
    from publisher.scheduler.jobs import unpublish_delivery
    from publisher.scheduler.models import Delivery
    from tests.scheduler.conftest import run_worker

    api = api_as("editor")
    channel = make_channel("website", name="Cổng thông tin")
    post = make_post(author=api.user, state="approved")
    assert api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [channel.id]}).status_code == 201
    run_worker(client.application)
    delivery = db.session.scalars(db.select(Delivery).where(Delivery.post_id == post.id)).one()
    assert delivery.state == "published"
    assert client.get(f"/tin/{post.slug}").status_code == 200

    answer = api.post(f"/api/v1/posts/{post.id}/unpublish", json={"channel_ids": [channel.id]})
    assert answer.status_code == 200 and answer.get_json()["deliveries"][0]["state"] == "unpublished"
    # no worker has run: the article is gone all the same
    assert client.get(f"/tin/{post.slug}").status_code == 410
    assert post.slug not in client.get("/rss.xml").get_data(as_text=True)
    db.session.expire_all()
    delivery = db.session.get(Delivery, delivery.id)
    assert unpublish_delivery(delivery.id, delivery.version) == "unpublished"  # the job: cleaning up only
    db.session.commit()
    assert client.get(f"/tin/{post.slug}").status_code == 410
