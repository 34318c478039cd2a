"""The editorial pages of news sources: /admin/sources (admins) and /admin/items (the inbox)."""

from __future__ import annotations

from rq import SimpleWorker

from publisher.content.models import Post
from publisher.db import db
from publisher.feeds.jobs import run_fetch
from publisher.feeds.models import Item, Source
from publisher.queue import get_queue, redis_connection
from tests.conftest import csrf_from as csrf
from tests.conftest import sign_in


def test_pages_need_sign_in(client):
    for path in ("/admin/sources", "/admin/sources/new", "/admin/items"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_admin_adds_edits_fetches_and_deactivates_a_source(app, client, make_user, feed_server, settings):
    admin = make_user("admin")
    sign_in(client, admin)
    form = client.get("/admin/sources/new").get_data(as_text=True)
    assert 'lang="vi"' in form
    bad = client.post("/admin/sources/new", data={"csrf_token": csrf(form), "name": "X", "url": "file:///etc/passwd",
                                                  "fetch_interval_minutes": "60", "active": "y"})
    assert bad.status_code == 400 and "http://" in bad.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Source)) == 0
    response = client.post("/admin/sources/new", data={
        "csrf_token": csrf(form), "name": "Báo Lao Động", "url": feed_server.url("/rss2.xml"),
        "fetch_interval_minutes": "30", "active": "y", "allow_private_address": "y"})
    assert response.status_code == 302
    source = db.session.scalar(db.select(Source))
    assert (source.name, source.fetch_interval_minutes, source.allow_private_address) == ("Báo Lao Động", 30, True)
    listing = client.get("/admin/sources")
    assert listing.status_code == 200 and "Báo Lao Động" in listing.get_data(as_text=True)
    assert "Content-Security-Policy" in listing.headers

    # Fetch now: queued after the commit, run by a worker, the status shows on the list.
    page = listing.get_data(as_text=True)
    assert client.post(f"/admin/sources/{source.id}/fetch", data={"csrf_token": csrf(page)}).status_code == 302
    queue = get_queue(settings, "feeds")
    assert queue.count == 1
    SimpleWorker([queue], connection=redis_connection(settings)).work(burst=True)
    db.session.expire_all()
    assert db.session.get(Source, source.id).last_fetch_status == "ok"
    assert db.session.scalar(db.select(db.func.count()).select_from(Item)) == 3

    # A failing source shows its error.
    source.url = feed_server.url("/page.html")
    db.session.commit()
    run_fetch(source.id)
    text = client.get("/admin/sources").get_data(as_text=True)
    assert "HTML" in text

    edit = client.get(f"/admin/sources/{source.id}/edit").get_data(as_text=True)
    assert "Báo Lao Động" in edit
    assert client.post(f"/admin/sources/{source.id}/edit", data={
        "csrf_token": csrf(edit), "name": "Báo LĐ", "url": feed_server.url("/atom.xml"),
        "fetch_interval_minutes": "60", "active": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Source, source.id).name == "Báo LĐ"
    assert db.session.get(Source, source.id).allow_private_address is False

    assert client.post(f"/admin/sources/{source.id}/active", data={"csrf_token": csrf(edit), "active": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Source, source.id).active is False


def test_post_without_csrf_is_refused(client, make_user):
    sign_in(client, make_user("admin"))
    response = client.post("/admin/sources/new", data={"name": "X", "url": "https://x.example/rss"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(Source)) == 0


def test_editors_cannot_manage_sources(client, make_user):
    sign_in(client, make_user("editor"))
    assert client.get("/admin/sources").status_code == 403
    assert client.get("/admin/sources/new").status_code == 403


def test_inbox_filters_and_make_a_draft(client, make_user, make_source, feed_server):
    rss = make_source(feed_server.url("/rss2.xml"), name="Báo Lao Động")
    rdf = make_source(feed_server.url("/rss1.rdf"), name="Cổng thông tin tỉnh")
    run_fetch(rss.id)
    run_fetch(rdf.id)
    editor = make_user("editor")
    sign_in(client, editor)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "/admin/items" in dashboard  # the nav link
    page = client.get("/admin/items")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Người lao động được hỗ trợ nhà ở" in text and "Hội nghị tổng kết năm" in text
    only_rdf = client.get(f"/admin/items?source_id={rdf.id}").get_data(as_text=True)
    assert "Hội nghị tổng kết năm" in only_rdf and "Người lao động được hỗ trợ nhà ở" not in only_rdf
    in_may = client.get("/admin/items?from=2026-05-05&to=2026-05-06").get_data(as_text=True)
    assert "Người lao động được hỗ trợ nhà ở" in in_may and "Đối thoại tại doanh nghiệp" not in in_may
    assert "Hội nghị tổng kết năm" not in in_may
    assert client.get("/admin/items?from=not-a-date").status_code == 200

    item = db.session.scalar(db.select(Item).where(Item.guid == "ld-1002"))
    response = client.post(f"/admin/items/{item.id}/draft", data={"csrf_token": csrf(text)})
    assert response.status_code == 302
    opened = client.get(response.headers["Location"])
    assert opened.status_code == 200
    assert "Người lao động được hỗ trợ nhà ở" in opened.get_data(as_text=True)
    post = db.session.scalar(db.select(Post))
    assert post.state == "draft" and post.author_id == editor.id and post.source_name == "Báo Lao Động"
    # Drafting again opens the same draft.
    again = client.post(f"/admin/items/{item.id}/draft", data={"csrf_token": csrf(text)})
    assert again.headers["Location"] == response.headers["Location"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == 1
    undrafted = client.get("/admin/items?undrafted=1").get_data(as_text=True)
    assert "Người lao động được hỗ trợ nhà ở" not in undrafted and "Hội nghị tổng kết năm" in undrafted


def test_inbox_is_scoped_to_the_unit(client, make_unit, make_user, make_source, feed_server):
    district_a, district_b = make_unit("Công đoàn huyện A"), make_unit("Công đoàn huyện B")
    source = make_source(feed_server.url("/atom.xml"), admin=make_user("admin", unit=district_a))
    run_fetch(source.id)
    sign_in(client, make_user("editor", unit=district_b))
    assert "Đại hội Công đoàn các cấp" not in client.get("/admin/items").get_data(as_text=True)
    item_id = db.session.scalar(db.select(Item.id))
    page = client.get("/admin/items").get_data(as_text=True)
    assert client.post(f"/admin/items/{item_id}/draft", data={"csrf_token": csrf(page)}).status_code == 404


def test_viewer_has_no_inbox(client, make_user):
    sign_in(client, make_user("viewer"))
    assert client.get("/admin/items").status_code == 403
    assert "/admin/items" not in client.get("/admin/").get_data(as_text=True)
