"""The YouTube adapter with the real google-api-python-client against the YouTube sandbox on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httplib2
import pytest

from publisher.channels.base import ErrorKind, MediaFile, PublishRequest, adapter_class
from publisher.channels.models import Channel
from publisher.channels.sandbox import youtube as sandbox_module
from publisher.channels.sandbox.youtube import CLIENT_ID, CLIENT_SECRET, YouTubeSandbox
from publisher.channels.services import adapter_for, channel_secrets, store_secrets
from publisher.channels.youtube import YouTubeAdapter, discovery_document, marker_tag
from publisher.channels.youtube_quota import (
    UNITS_PER_UPLOAD,
    YouTubeQuotaUsage,
    check_schedule_quota,
    quota_left,
    record_quota_use,
    seconds_until_quota_reset,
)
from publisher.db import db
from publisher.errors import ValidationFailed
from tests.conftest import image_bytes, sign_in_session

MB = 1024 * 1024
CHUNK = 256 * 1024


@pytest.fixture
def youtube() -> Iterator[YouTubeSandbox]:
    box = sandbox_module.start()
    yield box
    box.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], youtube: YouTubeSandbox) -> dict[str, Any]:
    return {**app_config, "youtube_api_url": youtube.url, "google_token_url": youtube.token_url,
            "google_auth_url": youtube.auth_url, "google_client_id": CLIENT_ID,
            "google_client_secret": CLIENT_SECRET, "channel_timeout_seconds": 5.0}


@pytest.fixture
def tokens(youtube: YouTubeSandbox) -> dict[str, Any]:
    issued = youtube.issue_tokens()
    return {"access_token": issued["access_token"], "refresh_token": issued["refresh_token"],
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def _fast(adapter: YouTubeAdapter) -> YouTubeAdapter:
    adapter.chunk_size = CHUNK
    adapter.retry_sleep = lambda seconds: None  # the library's back-off, and Loa's between resumes
    adapter._service = None
    return adapter


@pytest.fixture
def make_adapter(settings, youtube: YouTubeSandbox, tokens) -> Callable[..., YouTubeAdapter]:  # type: ignore[no-untyped-def]
    def make(secrets: dict[str, Any] | None = None, remote_channel: str | None = None):
        cls = adapter_class("youtube")
        adapter = cls(settings, {"channel_id": remote_channel or youtube.channel_id},
                      dict(tokens if secrets is None else secrets))
        return _fast(adapter)

    return make


@pytest.fixture
def video(tmp_path: Path) -> MediaFile:
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(3 * MB + 12345))  # 13 chunks of 256 KiB, the last one short
    return MediaFile(media_id=1, kind="video", path=path, content_type="video/mp4", size_bytes=path.stat().st_size)


@pytest.fixture
def cover(tmp_path: Path) -> MediaFile:
    thumb = tmp_path / "youtube_thumb.jpg"
    thumb.write_bytes(image_bytes(size=(1280, 720)))
    original = tmp_path / "cover.jpg"
    original.write_bytes(image_bytes())
    return MediaFile(media_id=2, kind="image", path=original, content_type="image/jpeg",
                     size_bytes=original.stat().st_size, renditions={"youtube_thumb": thumb})


@pytest.fixture
def make_request(video: MediaFile, cover: MediaFile) -> Callable[..., PublishRequest]:
    def make(**overrides: Any) -> PublishRequest:
        variant = {"title": "Hội thao công nhân 2026", "description": "Công đoàn tỉnh tổ chức hội thao.",
                   "tags": ["công đoàn", "hội thao"], "privacy": "public"}
        variant.update(overrides.pop("variant", {}))
        fields = dict(post_id=7, idempotency_key="delivery-7-v1", title="Hội thao", summary="Tóm tắt",
                      body_html="<p>x</p>", slug="hoi-thao", variant=variant, media=(video,), cover=cover,
                      campaign_name="Tháng Công nhân 2026")
        fields.update(overrides)
        return PublishRequest(**fields)

    return make


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the service is built from the bundled discovery document -------------------------------------------


def test_discovery_document_is_the_bundled_one_pointed_at_the_setting():
    doc = discovery_document("http://127.0.0.1:9/")
    assert doc["rootUrl"] == "http://127.0.0.1:9/"
    assert doc["resources"]["videos"]["methods"]["insert"]["mediaUpload"]["protocols"]["resumable"]["multipart"]


def test_adapter_is_registered_for_kind_youtube():
    assert adapter_class("youtube") is YouTubeAdapter


# --- publish ------------------------------------------------------------------------------------------------


def test_publish_uploads_resumably_in_chunks_with_progress_thumbnail_and_playlist(make_adapter, make_request,
                                                                                  youtube, video):
    seen: list[tuple[int, int]] = []
    result = make_adapter().publish(make_request(progress=lambda sent, total: seen.append((sent, total))))

    assert result.warnings == ()
    assert result.remote_url == f"https://www.youtube.com/watch?v={result.remote_id}"
    stored = youtube.video_files[result.remote_id]
    assert stored["bytes"] == video.size_bytes and stored["sha256"] == sha256(video.path)
    ops = youtube.operations()
    assert ops.count("videos.insert") == 1
    assert ops.count("videos.upload_chunk") == -(-video.size_bytes // CHUNK) == 13
    # progress grows chunk by chunk and ends at the total
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    assert seen[0] == (CHUNK, video.size_bytes) and seen[-1] == (video.size_bytes, video.size_bytes)
    assert len(seen) >= 12
    snippet = youtube.videos[result.remote_id]["snippet"]
    assert snippet["title"] == "Hội thao công nhân 2026"
    assert marker_tag("delivery-7-v1") in snippet["tags"]
    assert youtube.thumbnails[result.remote_id] > 0
    playlist = next(p for p in youtube.playlists.values() if p["snippet"]["title"] == "Tháng Công nhân 2026")
    assert any(i["snippet"]["playlistId"] == playlist["id"] and
               i["snippet"]["resourceId"]["videoId"] == result.remote_id for i in youtube.playlist_items)


def test_second_video_of_a_campaign_reuses_its_playlist(make_adapter, make_request, youtube):
    adapter = make_adapter()
    adapter.publish(make_request())
    adapter.publish(make_request(idempotency_key="delivery-8-v1"))
    assert len(youtube.playlists) == 1
    assert youtube.operations().count("playlists.insert") == 1


def test_private_video_with_publish_at_is_scheduled_by_youtube(make_adapter, make_request, youtube):
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    result = make_adapter().publish(make_request(variant={"privacy": "private", "publish_at": when.isoformat()}))
    status = youtube.videos[result.remote_id]["status"]
    assert status["privacyStatus"] == "private"
    assert status["publishAt"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_upload_cut_off_half_way_is_resumed_from_what_arrived(make_adapter, make_request, youtube, video):
    youtube.inject("upload_cut", operation="videos.upload_chunk")
    result = make_adapter().publish(make_request())
    upload = next(iter(youtube.uploads.values()))
    assert upload.status_queries == 1  # PUT with Content-Range: bytes */TOTAL, answered 308 with Range
    stored = youtube.video_files[result.remote_id]
    assert stored["bytes"] == video.size_bytes and stored["sha256"] == sha256(video.path)


def test_upload_dropped_connection_is_resumed(make_adapter, make_request, youtube, video, settings):
    youtube.inject("drop_connection", operation="videos.upload_chunk")
    adapter = make_adapter()
    # httplib2 re-sends once on a dropped connection, from a chunk stream already read to its end: that waits
    # for the time-out; Loa then resumes properly
    adapter.settings = replace(settings, channel_timeout_seconds=1.0)
    result = adapter.publish(make_request())
    assert youtube.video_files[result.remote_id]["sha256"] == sha256(video.path)


def test_upload_that_keeps_failing_is_transient(make_adapter, make_request, youtube):
    youtube.inject("backendError", times=100, operation="videos.upload_chunk")
    adapter = make_adapter()
    with pytest.raises(Exception) as info:
        adapter.publish(make_request())
    assert info.value.kind == ErrorKind.TRANSIENT
    assert info.value.code == "backendError"
    assert youtube.videos == {}


def test_thumbnail_refused_on_unverified_channel_is_a_warning(make_adapter, make_request, youtube):
    youtube.verified = False
    result = make_adapter().publish(make_request())
    assert result.remote_id in youtube.videos
    assert len(result.warnings) == 1
    assert "forbidden" in result.warnings[0]


def test_missing_playlist_is_a_warning(make_adapter, make_request, youtube):
    result = make_adapter().publish(make_request(variant={"playlist_id": "PLdoesnotexist"}))
    assert result.remote_id in youtube.videos
    assert len(result.warnings) == 1 and "playlistNotFound" in result.warnings[0]


def test_publish_refuses_what_validate_finds(make_adapter, make_request, youtube):
    with pytest.raises(Exception) as info:
        make_adapter().publish(make_request(media=()))
    assert info.value.kind == ErrorKind.REJECTED
    assert youtube.operations() == []


# --- validate -----------------------------------------------------------------------------------------------


def test_validate_accepts_a_good_variant(make_adapter, make_request):
    assert make_adapter().validate(make_request()) == []


@pytest.mark.parametrize(("variant", "field", "fragment"), [
    ({"title": "x" * 101}, "youtube.title", "100"),
    ({"title": "<b>Tiêu đề</b>"}, "youtube.title", "<"),
    ({"description": "ữ" * 1700}, "youtube.description", "5000"),
    ({"description": "a > b"}, "youtube.description", "<"),
    ({"tags": ["công đoàn viên"] * 40}, "youtube.tags", "500"),
    ({"privacy": "friends"}, "youtube.privacy", ""),
    ({"privacy": "public", "publish_at": "2099-01-01T00:00:00+00:00"}, "youtube.publish_at", ""),
    ({"privacy": "private", "publish_at": "2020-01-01T00:00:00+00:00"}, "youtube.publish_at", ""),
])
def test_validate_finds_what_youtube_refuses(make_adapter, make_request, variant, field, fragment):
    problems = make_adapter().validate(make_request(variant=variant))
    assert [p.field for p in problems] == [field]
    assert fragment in str(problems[0].message)


def test_validate_requires_a_video_of_an_accepted_format(make_adapter, make_request, video, cover):
    problems = make_adapter().validate(make_request(media=(cover,)))
    assert [p.field for p in problems] == ["media"] and "video" in str(problems[0].message).lower()
    odd = replace(video, content_type="image/gif")
    assert "image/gif" in str(make_adapter().validate(make_request(media=(odd,)))[0].message)
    huge = replace(video, size_bytes=10**13)
    assert make_adapter().validate(make_request(media=(huge,)))[0].field == "media"


# --- update, unpublish, find_existing --------------------------------------------------------------------


def test_update_changes_title_and_privacy(make_adapter, make_request, youtube):
    adapter = make_adapter()
    remote_id = adapter.publish(make_request()).remote_id
    result = adapter.update(remote_id, make_request(variant={"title": "Tiêu đề mới", "privacy": "unlisted"}))
    assert result.remote_id == remote_id
    assert youtube.videos[remote_id]["snippet"]["title"] == "Tiêu đề mới"
    assert youtube.videos[remote_id]["status"]["privacyStatus"] == "unlisted"


def test_update_refused_by_youtube_is_rejected_with_its_reason(make_adapter, make_request):
    adapter = make_adapter()
    remote_id = adapter.publish(make_request()).remote_id
    with pytest.raises(Exception) as info:
        adapter.update(remote_id, make_request(variant={"title": "<script>"}))
    assert info.value.kind == ErrorKind.REJECTED
    assert info.value.code == "invalidTitle" and "invalid video title" in info.value.platform_message
    with pytest.raises(Exception) as info:
        adapter.update("gone1234567", make_request())
    assert info.value.kind == ErrorKind.REJECTED and info.value.code == "videoNotFound"


def test_unpublish_deletes_and_an_already_gone_video_is_fine(make_adapter, make_request, youtube):
    adapter = make_adapter()
    remote_id = adapter.publish(make_request()).remote_id
    adapter.unpublish(remote_id)
    assert remote_id not in youtube.videos
    adapter.unpublish(remote_id)  # no error


def test_find_existing_finds_the_video_by_its_marker(make_adapter, make_request, youtube):
    adapter = make_adapter()
    assert adapter.find_existing(make_request()) is None
    result = adapter.publish(make_request())
    before = len(youtube.requests)
    found = make_adapter().find_existing(make_request())
    assert found is not None and found.remote_id == result.remote_id
    assert [op for op, _ in youtube.requests[before:]] == ["playlistItems.list", "videos.list"]  # 2 quota units
    assert make_adapter().find_existing(make_request(idempotency_key="delivery-99-v1")) is None


# --- engagement ---------------------------------------------------------------------------------------------


def test_fetch_metrics_batches_50_ids_a_call_and_flags_removed_videos(make_adapter, make_request, youtube):
    adapter = make_adapter()
    remote_id = adapter.publish(make_request()).remote_id
    ids = [remote_id] + [f"missing{n:04d}" for n in range(59)]
    before = len(youtube.requests)
    metrics = adapter.fetch_metrics(ids)
    calls = [path for op, path in youtube.requests[before:] if op == "videos.list"]
    assert len(calls) == 2
    assert all(len(parse_qs(urlsplit(p.split(" ", 1)[1]).query)["id"][0].split(",")) <= 50 for p in calls)
    assert set(metrics[remote_id].values) == {"viewCount", "likeCount", "commentCount"}
    assert metrics[remote_id].removed is False
    assert metrics["missing0001"].removed is True
    youtube.uploaded_at[remote_id] -= 100  # time passes
    assert adapter.fetch_metrics([remote_id])[remote_id].values["viewCount"] > metrics[remote_id].values["viewCount"]


def test_fetch_comments_and_reply(make_adapter, make_request, youtube):
    adapter = make_adapter()
    remote_id = adapter.publish(make_request()).remote_id
    first = youtube.add_comment(remote_id, "Nguyễn Văn A", "Hay quá!")
    youtube.add_comment(remote_id, "Trần Thị B", "Khi nào có hội thao tiếp?")
    comments = adapter.fetch_comments(remote_id)
    assert [c.message for c in comments] == ["Hay quá!", "Khi nào có hội thao tiếp?"]
    reply_id = adapter.reply_comment(first, "Cảm ơn bạn!")
    comments = adapter.fetch_comments(remote_id)
    reply = next(c for c in comments if c.remote_id == reply_id)
    assert reply.parent_remote_id == first and reply.message == "Cảm ơn bạn!"
    assert adapter.fetch_metrics([remote_id])[remote_id].values["commentCount"] == 3
    later = adapter.fetch_comments(remote_id, since=datetime.now(UTC) + timedelta(minutes=1))
    assert later == []
    cutoff = reply.created_at
    newer = youtube.add_comment(remote_id, "Lê Văn C", "Đồng ý", reply_to=first)
    assert [c.remote_id for c in adapter.fetch_comments(remote_id, since=cutoff)] == [newer]


def test_fetch_comments_reads_every_reply_of_a_long_thread(make_adapter, make_request, youtube):
    adapter = make_adapter()
    remote_id = adapter.publish(make_request()).remote_id
    first = youtube.add_comment(remote_id, "Nguyễn Văn A", "Câu hỏi")
    for n in range(8):
        youtube.add_comment(remote_id, f"Người {n}", f"Trả lời {n}", reply_to=first)
    comments = adapter.fetch_comments(remote_id)
    assert len(comments) == 9
    assert [c.message for c in comments[1:]] == [f"Trả lời {n}" for n in range(8)]
    assert "comments.list" in youtube.operations()


# --- connection and credentials -----------------------------------------------------------------------------


def test_check_connection_wants_the_configured_channel(make_adapter):
    status = make_adapter().check_connection()
    assert status.ok and status.details["channel_id"] == sandbox_module.CHANNEL_ID
    other = make_adapter(remote_channel="UCsomeoneelse").check_connection()
    assert not other.ok and "UCsomeoneelse" in other.message


def test_expired_access_token_is_refreshed_and_handed_back(make_adapter, youtube, tokens):
    adapter = make_adapter()
    youtube.inject("token_expired")
    status = adapter.check_connection()
    assert status.ok
    assert youtube.operations().count("token") == 1
    new = adapter.updated_secrets
    assert new is not None and new["access_token"] != tokens["access_token"]
    assert new["refresh_token"] == tokens["refresh_token"] and new["expiry"]
    assert make_adapter(secrets=new).check_connection().ok


def test_revoked_refresh_token_is_auth_expired(make_adapter, youtube):
    adapter = make_adapter()
    youtube.revoke_refresh_tokens()
    with pytest.raises(Exception) as info:
        adapter.fetch_metrics(["abc"])
    assert info.value.kind == ErrorKind.AUTH_EXPIRED and info.value.code == "invalid_grant"
    status = adapter.check_connection()
    assert not status.ok and status.error.kind == ErrorKind.AUTH_EXPIRED


def test_no_refresh_token_and_a_dead_access_token_is_auth_expired(make_adapter, youtube, tokens):
    adapter = make_adapter(secrets={"access_token": tokens["access_token"]})
    youtube.expire_access_tokens()
    with pytest.raises(Exception) as info:
        adapter.fetch_metrics(["abc"])
    assert info.value.kind == ErrorKind.AUTH_EXPIRED


# --- error classes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["quotaExceeded", "dailyLimitExceeded"])
def test_quota_exceeded_is_never_retried_and_waits_for_pacific_midnight(make_adapter, youtube, reason):
    youtube.inject(reason, times=10)
    with pytest.raises(Exception) as info:
        make_adapter().fetch_metrics(["abc"])
    error = info.value
    assert error.kind == ErrorKind.RATE_LIMITED and error.code == reason
    assert youtube.operations() == ["videos.list"]  # one request: not retried
    assert abs(error.retry_after - seconds_until_quota_reset()) < 5
    assert 0 < error.retry_after <= 25 * 3600


def test_upload_limit_exceeded_is_never_retried(make_adapter, make_request, youtube):
    youtube.inject("uploadLimitExceeded", times=10, operation="videos.insert")
    with pytest.raises(Exception) as info:
        make_adapter().publish(make_request())
    assert info.value.kind == ErrorKind.RATE_LIMITED and info.value.code == "uploadLimitExceeded"
    assert youtube.operations() == ["token", "videos.insert"]  # a token of unknown age is renewed first


def test_rate_limit_is_retried_by_the_library_then_reported(make_adapter, youtube):
    adapter = make_adapter()
    youtube.inject("rateLimitExceeded", times=1)
    assert "abc" in adapter.fetch_metrics(["abc"])
    assert youtube.operations() == ["videos.list", "videos.list"]
    youtube.inject("userRateLimitExceeded", times=100)
    with pytest.raises(Exception) as info:
        adapter.fetch_metrics(["abc"])
    assert info.value.kind == ErrorKind.RATE_LIMITED and info.value.retry_after > 0
    assert youtube.operations().count("videos.list") == 2 + adapter.num_retries + 1


@pytest.mark.parametrize("fault", ["backendError", "internalError"])
def test_server_errors_are_transient(make_adapter, youtube, fault):
    youtube.inject(fault, times=100)
    with pytest.raises(Exception) as info:
        make_adapter().fetch_metrics(["abc"])
    assert info.value.kind == ErrorKind.TRANSIENT and info.value.http_status in (500, 503)


def test_time_out_is_transient(make_adapter, youtube, settings):
    adapter = make_adapter()
    adapter.settings = replace(settings, channel_timeout_seconds=0.3)
    adapter.num_retries = 1
    youtube.inject("delay", times=2, seconds=1.0)
    with pytest.raises(Exception) as info:
        adapter.fetch_metrics(["abc"])
    assert info.value.kind == ErrorKind.TRANSIENT and info.value.code == "timeout"


def test_unreachable_api_is_transient(settings, tokens):
    dead = replace(settings, youtube_api_url="http://127.0.0.1:9/")
    adapter = _fast(YouTubeAdapter(dead, {"channel_id": "UCx"}, tokens))
    adapter.num_retries = 0
    with pytest.raises(Exception) as info:
        adapter.fetch_metrics(["abc"])
    assert info.value.kind == ErrorKind.TRANSIENT


# --- quota accounting ---------------------------------------------------------------------------------------


@pytest.fixture
def channel(root_unit, settings, tokens, youtube) -> Channel:  # type: ignore[no-untyped-def]
    row = Channel(unit_id=root_unit.id, kind="youtube", name="Kênh Công đoàn", settings={"channel_id": youtube.channel_id})
    db.session.add(row)
    store_secrets(row, settings, tokens)
    db.session.commit()
    return row


def test_every_call_is_counted_against_the_pacific_day(channel, settings, make_request):
    adapter = _fast(adapter_for(channel, settings))
    adapter.publish(make_request())
    adapter.fetch_metrics(["x"])
    usage = db.session.query(YouTubeQuotaUsage).one()
    assert usage.uploads == 1
    # thumbnails.set 50 + playlists.list 1 + playlists.insert 50 + playlistItems.insert 50 + videos.list 1
    assert usage.units == 152
    assert usage.by_method == {"videos.insert": 1, "thumbnails.set": 1, "playlists.list": 1, "playlists.insert": 1,
                               "playlistItems.insert": 1, "videos.list": 1}
    assert quota_left(channel, settings) == {"units": 10000 - 152, "uploads": 99}


def test_schedule_beyond_the_daily_quota_is_refused(channel, settings):
    check_schedule_quota(channel, 10, settings)  # fine
    for _ in range(190):
        record_quota_use(channel.id, "playlistItems.insert")  # 9,500 units
    with pytest.raises(ValidationFailed) as info:
        check_schedule_quota(channel, 5, settings)
    message = str(info.value.fields["channel_ids"][0])
    assert "Kênh Công đoàn" in message and "500" in message
    check_schedule_quota(channel, 4, settings)  # 4 × 101 units still fit


def test_schedule_beyond_the_upload_bucket_is_refused(channel, settings):
    for _ in range(98):
        record_quota_use(channel.id, "videos.insert")
    check_schedule_quota(channel, 2)  # settings from the app
    with pytest.raises(ValidationFailed) as info:
        check_schedule_quota(channel, 3)
    assert "100" in str(info.value.fields["channel_ids"][0])


def test_validate_reports_a_used_up_quota(channel, settings, make_request):
    for _ in range(200):
        record_quota_use(channel.id, "videos.update")
    problems = adapter_for(channel, settings).validate(make_request())
    assert [p.field for p in problems] == ["channel"]
    assert UNITS_PER_UPLOAD == 101


# --- the OAuth web flow -------------------------------------------------------------------------------------


def _follow_google(url: str) -> str:
    """What a browser does at Google's consent page: the sandbox consents and redirects back."""
    http = httplib2.Http(timeout=5)
    http.follow_redirects = False
    response, _ = http.request(url, "GET")
    assert response.status == 302
    return response["location"]


def test_oauth_flow_round_trip_creates_the_channel_with_encrypted_tokens(client, make_user, settings, youtube):
    admin = make_user("admin")
    sign_in_session(client, admin)
    answer = client.get("/admin/channels/youtube/connect")
    assert answer.status_code == 302
    consent = answer.headers["Location"]
    assert consent.startswith(youtube.auth_url)
    query = parse_qs(urlsplit(consent).query)
    assert query["access_type"] == ["offline"] and query["code_challenge_method"] == ["S256"]
    back = _follow_google(consent)
    assert back.startswith("http://localhost/admin/channels/youtube/callback?")
    answer = client.get(back.replace("http://localhost", ""))
    assert answer.status_code == 302
    row = db.session.query(Channel).one()
    assert row.kind == "youtube" and row.settings == {"channel_id": youtube.channel_id}
    assert row.name == youtube.channel_title and row.state == "connected"
    assert "sandbox-refresh" not in (row.secrets_encrypted or "")
    secrets = channel_secrets(row, settings)
    assert secrets["refresh_token"].startswith("1//sandbox-refresh-") and secrets["access_token"]
    assert adapter_for(row, settings).check_connection().ok
    db.session.rollback()  # end the test's read transaction before the next request writes (SQLite locks)
    # connecting again updates the same channel
    back = _follow_google(client.get("/admin/channels/youtube/connect").headers["Location"])
    client.get(back.replace("http://localhost", ""))
    assert db.session.query(Channel).count() == 1


def test_oauth_callback_with_a_wrong_state_changes_nothing(client, make_user, youtube):
    sign_in_session(client, make_user("admin"))
    back = _follow_google(client.get("/admin/channels/youtube/connect").headers["Location"])
    forged = back.replace("state=", "state=forged")
    answer = client.get(forged.replace("http://localhost", ""), follow_redirects=True)
    assert answer.status_code == 200
    assert db.session.query(Channel).count() == 0


def test_oauth_connect_is_for_admins_only(client, make_user):
    sign_in_session(client, make_user("editor"))
    assert client.get("/admin/channels/youtube/connect").status_code == 403


# --- time-outs after YouTube accepted the video: nothing published twice ------------------------------------


def test_lost_answer_to_the_last_chunk_is_recovered_by_asking_youtube(make_adapter, make_request, youtube, settings):
    youtube.inject("lose_final_answer", seconds=1.5)
    adapter = make_adapter()
    adapter.settings = replace(settings, channel_timeout_seconds=0.5)
    result = adapter.publish(make_request())
    assert list(youtube.videos) == [result.remote_id]  # one video, found by the status query
    assert next(iter(youtube.uploads.values())).status_queries == 1


def test_publish_that_timed_out_is_found_by_find_existing(make_adapter, make_request, youtube, settings):
    youtube.inject("lose_final_answer", seconds=1.5)
    adapter = make_adapter()
    adapter.settings = replace(settings, channel_timeout_seconds=0.5)
    adapter.upload_resumes = 0
    with pytest.raises(Exception) as info:
        adapter.publish(make_request())
    assert info.value.kind == ErrorKind.TRANSIENT and info.value.code == "timeout"
    found = make_adapter().find_existing(make_request())
    assert found is not None and list(youtube.videos) == [found.remote_id]


def test_token_of_unknown_age_is_refreshed_before_an_upload(make_adapter, make_request, youtube, tokens):
    adapter = make_adapter()
    youtube.expire_access_tokens()
    result = adapter.publish(make_request())
    assert result.remote_id in youtube.videos
    assert youtube.operations()[:2] == ["token", "videos.insert"]  # no 401 on the way
    assert adapter.updated_secrets["access_token"] != tokens["access_token"]


def test_token_revoked_in_the_middle_of_an_upload_is_renewed_and_the_upload_resumed(make_adapter, make_request,
                                                                                      youtube, settings, video):
    adapter = make_adapter()
    adapter.settings = replace(settings, channel_timeout_seconds=1.0)
    youtube.inject("token_expired", operation="videos.upload_chunk")
    result = adapter.publish(make_request())
    assert youtube.video_files[result.remote_id]["sha256"] == sha256(video.path)
    assert youtube.operations().count("token") == 2


def test_refreshed_tokens_are_stored_encrypted(channel, settings, youtube):
    from publisher.channels.youtube_connect import store_refreshed_tokens

    adapter = _fast(adapter_for(channel, settings))
    assert store_refreshed_tokens(channel, adapter, settings) is False
    youtube.expire_access_tokens()
    assert adapter.check_connection().ok
    assert store_refreshed_tokens(channel, adapter, settings) is True
    assert channel_secrets(channel, settings)["access_token"] == adapter.credentials.token
    assert adapter.credentials.token not in (channel.secrets_encrypted or "")


# --- YouTube as it is in December 2026 (revision history read 2026-12-02) --------------------------------


def test_thumbnails_of_up_to_50_mb_are_accepted(make_adapter, make_request, youtube, cover, tmp_path):
    """14 September 2026: thumbnails.set accepts up to 50 MB (was 2 MB), in the adapter and the sandbox."""
    from publisher.channels import youtube as adapter_module

    assert adapter_module.THUMBNAIL_MAX_BYTES == sandbox_module.THUMBNAIL_MAX_BYTES == 50 * MB
    big = tmp_path / "big_thumb.jpg"
    big.write_bytes(image_bytes(size=(1280, 720)) + b"\x00" * (3 * MB))  # over the old 2 MB limit
    thick = replace(cover, renditions={"youtube_thumb": big})
    adapter = make_adapter()
    assert adapter.validate(make_request(cover=thick)) == []
    result = adapter.publish(make_request(cover=thick))
    assert result.warnings == () and youtube.thumbnails[result.remote_id] == big.stat().st_size
    huge = tmp_path / "huge_thumb.jpg"
    with huge.open("wb") as fh:  # sparse: 50 MB and a byte, nothing written
        fh.truncate(50 * MB + 1)
    problems = adapter.validate(make_request(cover=replace(cover, renditions={"youtube_thumb": huge})))
    assert [p.field for p in problems] == ["cover"] and "50" in problems[0].message


def test_the_quota_table_is_todays(channel, settings):
    """December 2025: an upload costs about 100 units; 1 June 2026: uploads have their own bucket; 3 June 2026:
    videos.batchGetStats costs 1 unit from a 10,000-unit bucket of its own."""
    from publisher.channels.youtube_quota import COSTS, OWN_BUCKET_METHODS, UPLOAD_METHODS

    assert UPLOAD_METHODS == ("videos.insert",) and OWN_BUCKET_METHODS == ("videos.batchGetStats",)
    assert COSTS["thumbnails.set"] == 50 and COSTS["videos.list"] == 1 and COSTS["playlistItems.insert"] == 50
    record_quota_use(channel.id, "videos.insert")
    record_quota_use(channel.id, "videos.batchGetStats")
    record_quota_use(channel.id, "thumbnails.set")
    usage = db.session.query(YouTubeQuotaUsage).one()
    assert (usage.units, usage.uploads) == (50, 1)  # neither the upload nor batchGetStats spends units
    assert usage.by_method == {"videos.insert": 1, "videos.batchGetStats": 1, "thumbnails.set": 1}


def test_a_revoked_refresh_token_marks_the_channel_needs_reconnecting(app, channel, settings, youtube, make_media,
                                                                      make_post, make_user):
    """invalid_grant from Google's token endpoint is what Graph's 190 is for Facebook: the delivery pauses and
    the channel needs reconnecting (the pipeline), and so does the channel's test (the channels page)."""
    from publisher.channels.services import check_channel
    from publisher.scheduler.services import schedule_post
    from tests.scheduler.conftest import run_worker

    clip = make_media("video", filename="phong-su.mp4")
    post = make_post(state="approved", media_ids=[clip.id])
    (delivery,) = schedule_post(post, make_user("editor"), {"channel_ids": [channel.id]}, settings)
    db.session.commit()
    youtube.revoke_refresh_tokens()  # the person removed Loa's access in their Google account
    run_worker(app)
    db.session.expire_all()
    delivery = db.session.get(type(delivery), delivery.id)
    row = db.session.get(Channel, channel.id)
    assert delivery.state == "paused" and delivery.last_error_code == "invalid_grant"
    assert row.state == "needs_reconnect" and not youtube.videos
    row.state = "connected"
    db.session.commit()
    status = check_channel(row, settings)
    db.session.commit()
    assert not status.ok and status.error.code == "invalid_grant" and row.state == "needs_reconnect"
