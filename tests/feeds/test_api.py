"""The JSON API of news sources: shapes, permissions, unit scoping, drafts from items."""

from __future__ import annotations

from publisher.db import db
from publisher.feeds.jobs import run_fetch
from publisher.feeds.models import Item


def test_create_and_list_sources(api_as):
    admin = api_as("admin")
    response = admin.post("/api/v1/sources", json={"url": "https://laodong.example/rss", "name": "Báo Lao Động"})
    assert response.status_code == 201, response.get_json()
    source = response.get_json()
    assert source["name"] == "Báo Lao Động" and source["url"] == "https://laodong.example/rss"
    assert source["fetch_interval_minutes"] == 60 and source["auto_draft"] is False
    assert source["allow_private_address"] is False and source["active"] is True
    assert source["last_fetch_status"] is None and source["last_error"] is None
    listed = admin.get("/api/v1/sources")
    assert listed.status_code == 200
    assert [s["id"] for s in listed.get_json()] == [source["id"]]
    assert {"last_fetch_status", "last_error"} <= set(listed.get_json()[0])


def test_source_validation(api_as):
    admin = api_as("admin")
    response = admin.post("/api/v1/sources", json={"url": "file:///etc/passwd", "name": "", "fetch_interval_minutes": 1,
                                                   "auto_draft": "yes"})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"url", "name", "fetch_interval_minutes", "auto_draft"}
    assert admin.post("/api/v1/sources", data="not json", headers={"Content-Type": "application/json"}).status_code == 400


def test_sources_are_for_admins(api_as):
    editor = api_as("editor")
    response = editor.post("/api/v1/sources", json={"url": "https://x.example/rss", "name": "X"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert editor.get("/api/v1/sources").status_code == 403
    assert api_as("viewer").get("/api/v1/sources").status_code == 403


def test_items_newest_first_and_draft(api_as, feed_server, make_source):
    admin = api_as("admin")
    source = make_source(feed_server.url("/rss2.xml"), admin=admin.user, name="Báo Lao Động")
    run_fetch(source.id)
    editor = api_as("editor")
    response = editor.get(f"/api/v1/sources/{source.id}/items")
    assert response.status_code == 200
    items = response.get_json()
    assert isinstance(items, list)
    assert [i["title"] for i in items] == ["Người lao động được hỗ trợ nhà ở",
                                           "Công đoàn tỉnh tổ chức Tháng Công nhân 2026", "Đối thoại tại doanh nghiệp"]
    assert {"id", "title", "link", "published", "summary", "image_url"} <= set(items[0])
    assert items[0]["published"] == "2026-05-06T02:00:00+00:00"

    item_id = items[1]["id"]
    created = editor.post(f"/api/v1/items/{item_id}/draft")
    assert created.status_code == 201, created.get_json()
    post = created.get_json()
    assert post["state"] == "draft" and post["unit_id"] == source.unit_id
    assert post["title"] == "Công đoàn tỉnh tổ chức Tháng Công nhân 2026"
    assert post["source_url"] == "https://laodong.example/tin/thang-cong-nhan-2026"
    assert post["source_name"] == "Báo Lao Động"
    assert ('Nguồn: <a href="https://laodong.example/tin/thang-cong-nhan-2026" rel="noopener noreferrer">Báo Lao Động</a>'
            in post["body_html"])
    assert post["summary"] == "Hơn 5.000 đoàn viên tham gia."
    # A second call gives the same draft, not a second one.
    again = editor.post(f"/api/v1/items/{item_id}/draft")
    assert again.status_code == 200 and again.get_json()["id"] == post["id"]
    assert db.session.get(Item, item_id).draft_post_id == post["id"]
    assert editor.get(f"/api/v1/sources/{source.id}/items").get_json()[1]["draft_post_id"] == post["id"]


def test_viewers_cannot_read_items_or_draft(api_as, feed_server, make_source):
    source = make_source(feed_server.url("/atom.xml"))
    run_fetch(source.id)
    viewer = api_as("viewer")
    assert viewer.get(f"/api/v1/sources/{source.id}/items").status_code == 403
    item_id = db.session.scalar(db.select(Item.id))
    assert viewer.post(f"/api/v1/items/{item_id}/draft").status_code == 403
    assert api_as("approver").post(f"/api/v1/items/{item_id}/draft").status_code == 201


def test_other_units_sources_are_404(api_as, make_unit, make_user, feed_server, make_source):
    district_a, district_b = make_unit("Công đoàn huyện A"), make_unit("Công đoàn huyện B")
    source = make_source(feed_server.url("/atom.xml"), admin=make_user("admin", unit=district_a))
    run_fetch(source.id)
    item_id = db.session.scalar(db.select(Item.id))
    outsider = api_as("admin", unit=district_b)
    assert outsider.get("/api/v1/sources").get_json() == []
    assert outsider.get(f"/api/v1/sources/{source.id}/items").status_code == 404
    assert outsider.post(f"/api/v1/items/{item_id}/draft").status_code == 404
    assert outsider.patch(f"/api/v1/sources/{source.id}", json={"active": False}).status_code == 404
    # The federation above sees it.
    top = api_as("admin")
    assert [s["id"] for s in top.get("/api/v1/sources").get_json()] == [source.id]
    assert top.get("/api/v1/sources/999999/items").status_code == 404
    assert top.post("/api/v1/items/999999/draft").status_code == 404


def test_patch_source(api_as):
    admin = api_as("admin")
    source = admin.post("/api/v1/sources", json={"url": "https://x.example/rss", "name": "X"}).get_json()
    changed = admin.patch(f"/api/v1/sources/{source['id']}", json={"active": False, "fetch_interval_minutes": 30})
    assert changed.status_code == 200
    assert changed.get_json()["active"] is False and changed.get_json()["fetch_interval_minutes"] == 30


def test_openapi_describes_feeds(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/sources"])
    assert "get" in paths["/sources/{source_id}/items"]
    assert "post" in paths["/items/{item_id}/draft"]


def test_source_for_a_unit_below(api_as, make_unit):
    district = make_unit("Công đoàn huyện A")
    admin = api_as("admin")
    response = admin.post("/api/v1/sources", json={"url": "https://x.example/rss", "name": "X", "unit_id": district.id,
                                                   "fetch_interval_minutes": 15, "auto_draft": True})
    assert response.status_code == 201
    body = response.get_json()
    assert body["unit_id"] == district.id and body["fetch_interval_minutes"] == 15 and body["auto_draft"] is True
    district_admin = api_as("admin", unit=district)
    assert [s["id"] for s in district_admin.get("/api/v1/sources").get_json()] == [body["id"]]
    # Not upwards: a district admin cannot add a source to the federation.
    root_id = admin.user.unit_id
    assert district_admin.post("/api/v1/sources", json={"url": "https://y.example/rss", "name": "Y",
                                                        "unit_id": root_id}).status_code == 404
