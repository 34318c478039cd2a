"""One story, end to end, through the real adapters and client libraries (facebook-sdk, google-api-python-client)
against the sandbox services: connected through the API, approved, scheduled to the website, the Facebook Page
and the YouTube channel, published by a real RQ worker, then its engagement collected and reported."""

from __future__ import annotations

import io
import os
from datetime import timedelta

from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
from publisher.db import utcnow
from tests.channels.fb_fixtures import *  # noqa: F403  (every sandbox; the app points at them)
from tests.conftest import image_bytes
from tests.scheduler.conftest import fresh, tick

VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(300_000)


def upload(api, name: str, data: bytes, **fields: str) -> dict:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/media", data={"file": (io.BytesIO(data), name), **fields},
                        content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_one_story_reaches_all_three_channels_and_comes_back_as_figures(app, api_as, sandboxes, client):  # type: ignore[no-untyped-def]
    admin = api_as("admin")
    approver = api_as("approver")
    youtube_demo = sandboxes["youtube"].sandbox.demo_channel()
    channels = {}
    for body in ({"kind": "website", "name": "Cổng thông tin Công đoàn tỉnh"},
                 {"kind": "facebook", "name": "Fanpage Công đoàn Thanh Hóa",
                  "settings": {"page_id": DEMO_PAGE_ID, "access_token": DEMO_PAGE_TOKEN}},
                 {"kind": "youtube", "name": "Kênh YouTube LĐLĐ tỉnh", "settings": youtube_demo["settings"]}):
        response = admin.post("/api/v1/channels", json=body)
        assert response.status_code == 201, response.get_json()
        channels[body["kind"]] = response.get_json()

    photo = upload(admin, "hoi-nghi.jpg", image_bytes(size=(1600, 1000)), caption="Hội nghị", alt_text="Hội trường")
    video = upload(admin, "phong-su.mp4", VIDEO, caption="Phóng sự")
    post = admin.post("/api/v1/posts", json={
        "title": "Đẩy mạnh chuyển đổi số trong hoạt động Công đoàn",
        "summary": "LĐLĐ tỉnh ban hành Kế hoạch hành động thực hiện Nghị quyết 06.",
        "body_html": "<p>Kế hoạch nêu rõ việc xây dựng và ban hành Kế hoạch hành động.</p>",
        "media_ids": [photo["id"], video["id"]], "cover_media_id": photo["id"],
        "variants": {"facebook": {"message": "LĐLĐ tỉnh đẩy mạnh chuyển đổi số #CongDoan"},
                     "youtube": {"title": "Chuyển đổi số trong hoạt động Công đoàn", "privacy": "public",
                                 "description": "Phóng sự của LĐLĐ tỉnh Thanh Hóa", "tags": ["công đoàn"]}},
    }).get_json()
    assert admin.post(f"/api/v1/posts/{post['id']}/submit").status_code == 200
    assert approver.post(f"/api/v1/posts/{post['id']}/approve").status_code == 200

    everywhere = {"channel_ids": [c["id"] for c in channels.values()]}
    # Facebook takes photos or one video in a post, not both: found before anything is scheduled.
    refused = admin.post(f"/api/v1/posts/{post['id']}/schedule", json=everywhere)
    assert refused.status_code == 422
    assert f"channels.{channels['facebook']['id']}.media" in refused.get_json()["error"]["fields"]
    assert admin.get(f"/api/v1/posts/{post['id']}").get_json()["deliveries"] == []

    # Keep the video attached and the photo as the cover (the site's image, YouTube's thumbnail); the edit sends
    # the approved post back to review.
    current = admin.get(f"/api/v1/posts/{post['id']}").get_json()
    edited = admin.patch(f"/api/v1/posts/{post['id']}", json={"version": current["version"], "media_ids": [video["id"]]})
    assert edited.get_json()["state"] == "in_review"
    assert approver.post(f"/api/v1/posts/{post['id']}/approve").status_code == 200
    scheduled = admin.post(f"/api/v1/posts/{post['id']}/schedule", json=everywhere)
    assert scheduled.status_code in (200, 201), scheduled.get_json()
    for _ in range(5):
        tick(app)
        deliveries = admin.get(f"/api/v1/posts/{post['id']}").get_json()["deliveries"]
        if all(d["state"] == "published" for d in deliveries):
            break
    by_channel = {d["channel_id"]: d for d in deliveries}
    assert {d["state"] for d in deliveries} == {"published"}, deliveries

    # Each platform holds exactly one copy, and the website's article is live at its address.
    website = by_channel[channels["website"]["id"]]
    assert website["remote_url"].endswith("/tin/day-manh-chuyen-doi-so-trong-hoat-dong-cong-doan")
    assert client.get("/tin/day-manh-chuyen-doi-so-trong-hoat-dong-cong-doan").status_code == 200
    youtube = by_channel[channels["youtube"]["id"]]
    assert youtube["remote_id"] in sandboxes["youtube"].sandbox.videos
    facebook = by_channel[channels["facebook"]["id"]]
    assert facebook["remote_id"]
    assert fresh(facebook["id"]).attempts == 1 and fresh(youtube["id"]).attempts == 1

    # Engagement comes back into one store and into the leadership report.
    from publisher.engagement.services import collect_engagement

    sandboxes["facebook"].advance(6 * 3600)  # the sandbox's audience grows with time
    client.get("/tin/day-manh-chuyen-doi-so-trong-hoat-dong-cong-doan", headers={"User-Agent": "Mozilla/5.0 reader"})
    result = collect_engagement(utcnow() + timedelta(hours=2), every_published=True)
    from publisher.db import db

    db.session.commit()
    assert result is not None
    today = utcnow().date()
    report = admin.get(f"/api/v1/reports/engagement?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    kinds = {row["kind"]: row["totals"] for row in body["by_channel"]}
    assert set(kinds) == {"website", "facebook", "youtube"}
    assert kinds["facebook"]["views"] > 0 and kinds["youtube"]["views"] > 0
    assert sum(row["totals"]["views"] for row in body["by_channel"]) == body["totals"]["views"]
