"""Campaign kits pushed down the tree, through the JSON API, with the scoping rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.channels.models import Channel
from publisher.db import db, utcnow
from publisher.scheduler.models import Delivery


@pytest.fixture
def tree(make_unit, root_unit, api_as, make_campaign, make_post):  # type: ignore[no-untyped-def]
    district_a = make_unit("LĐLĐ huyện Thọ Xuân")
    district_b = make_unit("Công đoàn ngành Y tế")
    grassroots = make_unit("CĐCS Công ty May", parent=district_a)
    province = api_as("editor")
    campaign = make_campaign(user=province.user, name="Tháng Công nhân")
    posts = [make_post(author=province.user, title=f"Bài tuyên truyền {i}", campaign_id=campaign.id) for i in (1, 2)]
    return {
        "root": root_unit, "a": district_a, "b": district_b, "a1": grassroots, "campaign": campaign, "posts": posts,
        "province": province, "api_a": api_as("editor", unit=district_a), "api_b": api_as("editor", unit=district_b),
        "api_a1": api_as("editor", unit=grassroots),
    }


def send(tree, **body):  # type: ignore[no-untyped-def]
    payload = {"post_ids": [p.id for p in tree["posts"]], "all_below": True, "deadline": "2026-12-31", **body}
    return tree["province"].post(f"/api/v1/campaigns/{tree['campaign'].id}/kits", json=payload)


def test_send_kit_to_all_units_below(tree):  # type: ignore[no-untyped-def]
    response = send(tree)
    assert response.status_code == 201, response.get_json()
    kit = response.get_json()
    assert kit["campaign_id"] == tree["campaign"].id
    assert kit["post_ids"] == [p.id for p in tree["posts"]]
    assert sorted(kit["unit_ids"]) == sorted([tree["a"].id, tree["b"].id, tree["a1"].id])
    assert kit["deadline"] == "2026-12-31"

    received = tree["api_a"].get("/api/v1/kits").get_json()
    assert [k["id"] for k in received["received"]] == [kit["id"]] and received["sent"] == []
    sent = tree["province"].get("/api/v1/kits").get_json()
    assert [k["id"] for k in sent["sent"]] == [kit["id"]] and sent["received"] == []


def test_send_kit_to_chosen_units_only(tree):  # type: ignore[no-untyped-def]
    kit = send(tree, all_below=False, unit_ids=[tree["a1"].id]).get_json()
    assert kit["unit_ids"] == [tree["a1"].id]
    assert tree["api_a"].get("/api/v1/kits").get_json()["received"] == []
    assert tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"all_below": False, "unit_ids": None}, "unit_ids"),
    ({"all_below": False, "unit_ids": ["x"]}, "unit_ids"),
    ({"post_ids": []}, "post_ids"),
    ({"deadline": "31/12/2026"}, "deadline"),
    ({"colour": "red"}, "colour"),
])
def test_bad_kits_are_refused_with_fields(tree, body, field):  # type: ignore[no-untyped-def]
    response = send(tree, **body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_kits_only_go_down_and_carry_the_senders_posts(tree, make_post):  # type: ignore[no-untyped-def]
    # A district cannot send to its sibling or to the province above it.
    campaign_a = tree["api_a"].post("/api/v1/campaigns", json={"name": "Chiến dịch huyện"}).get_json()
    post_a = tree["api_a"].post("/api/v1/posts", json={"title": "Tin huyện"}).get_json()
    for target in (tree["b"].id, tree["root"].id):
        response = tree["api_a"].post(f"/api/v1/campaigns/{campaign_a['id']}/kits",
                                      json={"post_ids": [post_a["id"]], "unit_ids": [target]})
        assert response.status_code == 422
        assert "unit_ids" in response.get_json()["error"]["fields"]
    # The province cannot send a district's post as its own.
    response = send(tree, post_ids=[post_a["id"]])
    assert response.status_code == 422 and "post_ids" in response.get_json()["error"]["fields"]


def test_viewer_cannot_send(tree, api_as):  # type: ignore[no-untyped-def]
    viewer = api_as("viewer")
    response = viewer.post(f"/api/v1/campaigns/{tree['campaign'].id}/kits",
                           json={"post_ids": [tree["posts"][0].id], "all_below": True})
    assert response.status_code == 403


def test_adopt_copies_posts_as_linked_drafts_once(tree):  # type: ignore[no-untyped-def]
    kit = send(tree).get_json()
    first = tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt")
    assert first.status_code == 200, first.get_json()
    copies = first.get_json()["post_ids"]
    assert len(copies) == 2 and not set(copies) & {p.id for p in tree["posts"]}
    again = tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt").get_json()["post_ids"]
    assert again == copies  # adopting twice makes no second set of drafts

    copy = tree["api_a"].get(f"/api/v1/posts/{copies[0]}").get_json()
    assert copy["state"] == "draft" and copy["unit_id"] == tree["a"].id
    assert copy["title"] == "Bài tuyên truyền 1"
    assert copy["campaign_id"] == tree["campaign"].id
    # The copy is the district's own: it can edit, submit it and keep the campaign link.
    edited = tree["api_a"].patch(f"/api/v1/posts/{copies[0]}", json={
        "version": copy["version"], "summary": "Bản dành cho đoàn viên huyện", "campaign_id": tree["campaign"].id})
    assert edited.status_code == 200, edited.get_json()


def test_scoping_originals_readable_below_never_sideways(tree):  # type: ignore[no-untyped-def]
    kit = send(tree).get_json()
    original = tree["posts"][0].id
    copies = tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt").get_json()["post_ids"]

    # Receiving units read the original and its campaign, but cannot change them.
    assert tree["api_a"].get(f"/api/v1/posts/{original}").status_code == 200
    assert tree["api_a"].get(f"/api/v1/campaigns/{tree['campaign'].id}").status_code == 200
    patch = tree["api_a"].patch(f"/api/v1/posts/{original}", json={"version": 1, "title": "Sửa trộm"})
    assert patch.status_code in (403, 404)
    assert tree["province"].get(f"/api/v1/posts/{original}").get_json()["title"] == "Bài tuyên truyền 1"

    # Nothing sideways: the sibling district does not see district A's copy; the province above does.
    assert tree["api_b"].get(f"/api/v1/posts/{copies[0]}").status_code == 404
    assert tree["province"].get(f"/api/v1/posts/{copies[0]}").status_code == 200
    # A unit that received no kit sees nothing of the province's posts.
    other = tree["province"].post("/api/v1/posts", json={"title": "Tin nội bộ tỉnh"}).get_json()
    assert tree["api_a"].get(f"/api/v1/posts/{other['id']}").status_code == 404
    # Progress is the sender's: receivers get 404.
    assert tree["api_a"].get(f"/api/v1/kits/{kit['id']}/progress").status_code == 404


def test_progress_pending_adopted_adapted_published(tree, app):  # type: ignore[no-untyped-def]
    kit = send(tree).get_json()

    def states():  # type: ignore[no-untyped-def]
        body = tree["province"].get(f"/api/v1/kits/{kit['id']}/progress").get_json()
        return {row["unit_id"]: row for row in body["units"]}

    assert {r["state"] for r in states().values()} == {"pending"}
    copies_a = tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt").get_json()["post_ids"]
    copies_a1 = tree["api_a1"].post(f"/api/v1/kits/{kit['id']}/adopt").get_json()["post_ids"]
    rows = states()
    assert rows[tree["a"].id]["state"] == "adopted" and rows[tree["a"].id]["post_ids"] == sorted(copies_a)
    assert rows[tree["b"].id]["state"] == "pending"

    tree["api_a"].patch(f"/api/v1/posts/{copies_a[0]}", json={"version": 1, "summary": "Đã biên tập lại"})
    assert states()[tree["a"].id]["state"] == "adapted"

    channel = Channel(unit_id=tree["a1"].id, kind="website", name="Trang tin CĐCS", settings={})
    db.session.add(channel)
    db.session.flush()
    db.session.add(Delivery(post_id=copies_a1[0], channel_id=channel.id, unit_id=tree["a1"].id, state="published",
                            scheduled_at=utcnow(), published_at=utcnow(), idempotency_key="kit-test-1"))
    db.session.commit()
    assert states()[tree["a1"].id]["state"] == "published"


def test_progress_marks_units_that_missed_the_deadline(tree):  # type: ignore[no-untyped-def]
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    kit = send(tree, deadline=yesterday).get_json()
    tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt")
    rows = {r["unit_id"]: r for r in tree["province"].get(f"/api/v1/kits/{kit['id']}/progress").get_json()["units"]}
    assert rows[tree["b"].id]["overdue"] is True
    assert rows[tree["a"].id]["overdue"] is False


# --- the suggested schedule ------------------------------------------------------------------------------


def test_a_kit_carries_a_suggested_time_per_post_in_utc(tree):  # type: ignore[no-untyped-def]
    first, second = (p.id for p in tree["posts"])
    # A time without offset is the organisation's (Asia/Ho_Chi_Minh, UTC+7); one with an offset keeps it.
    response = send(tree, schedule=[{"post_id": first, "at": "2030-12-03T07:30"},
                                    {"post_id": second, "at": "2030-12-04T09:00:00+09:00"}])
    assert response.status_code == 201, response.get_json()
    kit = response.get_json()
    expected = [{"post_id": first, "at": "2030-12-03T00:30:00+00:00"},
                {"post_id": second, "at": "2030-12-04T00:00:00+00:00"}]
    assert kit["schedule"] == expected
    # The contract's fields are all still there.
    assert kit["post_ids"] == [first, second] and kit["deadline"] == "2026-12-31"

    assert tree["province"].get(f"/api/v1/kits/{kit['id']}").get_json()["schedule"] == expected
    received = tree["api_a1"].get("/api/v1/kits").get_json()["received"]
    assert [k["schedule"] for k in received] == [expected]
    assert tree["province"].get("/api/v1/kits").get_json()["sent"][0]["schedule"] == expected


def test_a_kit_without_a_schedule_has_an_empty_one(tree):  # type: ignore[no-untyped-def]
    first = tree["posts"][0].id
    kit = send(tree, schedule=[{"post_id": first, "at": None}]).get_json()
    assert kit["schedule"] == []
    assert send(tree).get_json()["schedule"] == []


@pytest.mark.parametrize("schedule, field, message", [
    (lambda posts, other: [{"post_id": other, "at": "2030-12-03T07:30"}], "schedule.0.post_id",
     "Bài viết này không nằm trong bộ tài liệu."),
    (lambda posts, other: [{"post_id": 999999, "at": "2030-12-03T07:30"}], "schedule.0.post_id",
     "Bài viết này không nằm trong bộ tài liệu."),
    (lambda posts, other: [{"post_id": posts[0], "at": "2030-12-03T07:30"},
                           {"post_id": posts[0], "at": "2030-12-04T07:30"}], "schedule.1.post_id",
     "Bài viết này đã có giờ đăng gợi ý."),
    (lambda posts, other: [{"post_id": posts[1], "at": "3/12/2030 7:30"}], "schedule.0.at", None),
    (lambda posts, other: [{"post_id": posts[1], "at": 1733200000}], "schedule.0.at", None),
    (lambda posts, other: [{"post_id": posts[0], "at": "2020-01-01T07:30"}], "schedule.0.at",
     "Giờ đăng gợi ý đã qua."),
    (lambda posts, other: {"post_id": posts[0], "at": "2030-12-03T07:30"}, "schedule", None),
    (lambda posts, other: ["2030-12-03T07:30"], "schedule.0", None),
    (lambda posts, other: [{"post_id": posts[0], "at": "2030-12-03T07:30", "channel": 1}], "schedule.0.channel",
     None),
])
def test_a_bad_schedule_is_refused_naming_the_field(tree, make_post, schedule, field, message):  # type: ignore[no-untyped-def]
    # A post of the sending unit, but not one of this kit's posts.
    other = make_post(author=tree["province"].user, title="Bài không gửi").id
    response = send(tree, schedule=schedule([p.id for p in tree["posts"]], other))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error
    if message:
        assert error["fields"][field] == [message]
    assert all(msg for msgs in error["fields"].values() for msg in msgs)
    # Nothing was sent.
    assert tree["province"].get("/api/v1/kits").get_json()["sent"] == []


def test_adopted_drafts_know_their_suggested_time(tree, app):  # type: ignore[no-untyped-def]
    from publisher.content.models import Post
    from publisher.hierarchy.services import suggested_time_of

    first, second = (p.id for p in tree["posts"])
    kit = send(tree, schedule=[{"post_id": second, "at": "2030-12-03T07:30"}]).get_json()
    adopted = tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt")
    assert adopted.status_code == 200, adopted.get_json()
    body = adopted.get_json()
    copy_first, copy_second = body["post_ids"]
    assert body["schedule"] == [{"post_id": copy_second, "original_post_id": second,
                                 "at": "2030-12-03T00:30:00+00:00"}]
    # Adopting again answers the same.
    assert tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt").get_json() == body

    assert suggested_time_of(db.session.get(Post, copy_second)).isoformat() == "2030-12-03T00:30:00+00:00"
    assert suggested_time_of(db.session.get(Post, copy_first)) is None
    assert suggested_time_of(db.session.get(Post, first)) is None  # an original is no adopted draft


def test_an_adopted_draft_shows_where_it_came_from_in_the_posts_api(tree):  # type: ignore[no-untyped-def]
    first, second = (p.id for p in tree["posts"])
    kit = send(tree, schedule=[{"post_id": second, "at": "2030-12-03T07:30"}]).get_json()
    copy_first, copy_second = tree["api_a"].post(f"/api/v1/kits/{kit['id']}/adopt").get_json()["post_ids"]

    draft = tree["api_a"].get(f"/api/v1/posts/{copy_second}").get_json()
    assert draft["adopted_from"] == {"kit_id": kit["id"], "original_post_id": second,
                                     "suggested_at": "2030-12-03T00:30:00+00:00"}
    assert tree["api_a"].get(f"/api/v1/posts/{copy_first}").get_json()["adopted_from"] == {
        "kit_id": kit["id"], "original_post_id": first, "suggested_at": None}
    listed = {p["id"]: p["adopted_from"] for p in tree["api_a"].get("/api/v1/posts").get_json()["posts"]}
    assert listed[copy_second]["suggested_at"] == "2030-12-03T00:30:00+00:00"
    # The original is no adopted draft.
    assert tree["province"].get(f"/api/v1/posts/{second}").get_json()["adopted_from"] is None


def test_openapi_describes_the_schedule(client):  # type: ignore[no-untyped-def]
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    send_kit = document["paths"]["/campaigns/{campaign_id}/kits"]["post"]
    assert "schedule" in send_kit["requestBody"]["content"]["application/json"]["schema"]["properties"]
    answer = send_kit["responses"]["201"]["content"]["application/json"]["schema"]
    assert "schedule" in answer["properties"] and "post_ids" in answer["properties"]
