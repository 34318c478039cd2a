"""The Zalo OA adapter over real HTTP (requests) against the Zalo sandbox on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image

from publisher.channels.base import ChannelError, ErrorKind, MediaFile
from publisher.channels.sandbox import RunningSandboxes, start_sandboxes
from publisher.channels.sandbox.zalo import OA_ID, ZaloSandbox
from publisher.channels.services import adapter_for, channel_secrets, check_channel, store_secrets
from publisher.channels.zalo import (
    IMAGE_MAX_BYTES,
    ZaloAdapter,
    check_broadcast_quota,
    count_broadcast,
    marker,
    zalo_error,
    zalo_rendition,
)
from publisher.db import db
from publisher.errors import ValidationFailed
from tests.channels.conftest import assert_channel_error


@pytest.fixture
def running() -> Iterator[RunningSandboxes]:
    boxes = start_sandboxes(["zalo"])
    yield boxes
    boxes.stop()


@pytest.fixture
def zalo(running: RunningSandboxes) -> ZaloSandbox:
    return running["zalo"]  # type: ignore[return-value]


@pytest.fixture
def app_config(app_config: dict[str, Any], running: RunningSandboxes) -> dict[str, Any]:
    return {**app_config, **running.settings_overrides(), "channel_timeout_seconds": 2.0}


@pytest.fixture
def oa(make_channel, zalo):  # type: ignore[no-untyped-def]
    tokens = zalo.issue_tokens()
    return make_channel("zalo", channel_settings={"oa_id": OA_ID}, secrets={
        "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})


def _fast(adapter: Any) -> Any:
    adapter.sleep = lambda seconds: None
    return adapter


@pytest.fixture
def post_request(make_post, make_media, publish_request):  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Any:
        cover = make_media("image")
        post = make_post(summary="Tóm tắt cho Zalo", cover_media_id=cover.id, media_ids=[cover.id],
                         body_html="<p>Đoạn <strong>một</strong></p><h2>Tiêu đề phụ</h2><p>Đoạn hai</p>")
        return publish_request(post, kind="zalo", variant={"author": "Ban Tuyên giáo"}, **overrides)

    return make


def test_publish_goes_through_create_and_verify(oa, zalo, adapter, post_request) -> None:  # type: ignore[no-untyped-def]
    zalo.processing_polls = 2  # verify says "processing" twice first
    request = post_request()
    result = _fast(adapter(oa)).publish(request)
    article = zalo.articles[result.remote_id]
    assert article.fields["title"] == request.title
    assert article.fields["author"] == "Ban Tuyên giáo"
    assert [item["type"] for item in article.fields["body"]] == ["text", "text", "text", "image"]
    assert article.fields["cover"]["photo_url"].startswith("http://loa.test/media/")
    assert article.fields["cover"]["photo_url"].endswith("/zalo.jpg")
    assert marker(request.idempotency_key) in article.fields["tracking_link"]
    assert result.remote_url.endswith(result.remote_id)


def test_verify_still_processing_is_transient(oa, zalo, adapter, post_request) -> None:  # type: ignore[no-untyped-def]
    zalo.processing_polls = 100
    error = assert_channel_error(ErrorKind.TRANSIENT, _fast(adapter(oa)).publish, post_request())
    assert error.code == "-214"


def test_update_and_remove(oa, zalo, adapter, post_request) -> None:  # type: ignore[no-untyped-def]
    client = _fast(adapter(oa))
    request = post_request()
    remote = client.publish(request).remote_id
    changed = type(request)(**{**request.__dict__, "title": "Tiêu đề đã sửa"})
    assert client.update(remote, changed).remote_id == remote
    assert zalo.articles[remote].fields["title"] == "Tiêu đề đã sửa"
    client.unpublish(remote)
    assert remote not in zalo.articles
    client.unpublish(remote)  # already removed: not an error


def test_validation_names_zalo_limits(oa, adapter, post_request) -> None:  # type: ignore[no-untyped-def]
    request = post_request()
    long = type(request)(**{**request.__dict__, "title": "T" * 151, "variant": {"author": "A" * 51},
                            "cover": None})
    fields = {p.field for p in adapter(oa).validate(long)}
    assert {"variant.title", "variant.author", "cover"} <= fields


def test_look_up_after_a_time_out(oa, zalo, adapter, post_request) -> None:  # type: ignore[no-untyped-def]
    client = _fast(adapter(oa))
    request = post_request()
    zalo.add_fault(path_prefix="/v2.0/article/create", delay=2.5, process=True, status=200,
                   body={"error": 0, "data": {"token": "lost"}})
    assert_channel_error(ErrorKind.TRANSIENT, client.publish, request)
    zalo.finish_processing()  # the create went through and Zalo processed it; Loa never saw its token
    found = client.find_existing(request)
    assert found is not None and found.remote_id in zalo.articles
    other = post_request()
    assert client.find_existing(other) is None


def test_engagement_gives_views_and_shares_never_comments(oa, zalo, adapter, post_request) -> None:  # type: ignore[no-untyped-def]
    client = _fast(adapter(oa))
    remote = client.publish(post_request()).remote_id
    metrics = client.fetch_metrics([remote, "7199999999999999999"])
    assert set(metrics[remote].values) == {"views", "shares"}
    assert "comments" not in metrics[remote].values  # not available, not 0
    assert metrics["7199999999999999999"].removed
    assert client.fetch_comments(remote) == []


def test_expired_access_token_is_renewed_and_rotation_stored(oa, zalo, adapter, settings) -> None:  # type: ignore[no-untyped-def]
    before = channel_secrets(oa, settings)
    zalo.expire_token(before["access_token"])
    status = adapter(oa).check_connection()
    assert status.ok, status.message
    db.session.expire_all()
    after = channel_secrets(db.session.get(type(oa), oa.id), settings)
    assert after["refresh_token"] != before["refresh_token"]
    assert before["refresh_token"] in zalo.tokens.spent
    assert after["refresh_token"] in zalo.tokens.refresh


def test_two_racing_workers_rotate_once_and_both_keep_working(app, oa, zalo, settings) -> None:  # type: ignore[no-untyped-def]
    secrets = channel_secrets(oa, settings)
    secrets["expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()  # both think it is stale
    store_secrets(oa, settings, secrets)
    db.session.commit()
    zalo.expire_token(secrets["access_token"])
    zalo.refresh_delay = 0.5  # a slow refresh: the second worker arrives while the first one is renewing
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def worker() -> None:
        with app.app_context():
            channel = db.session.get(type(oa), oa.id)
            client = adapter_for(channel, settings)
            barrier.wait()
            outcomes.append(client.check_connection())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [s.ok for s in outcomes] == [True, True], [s.message for s in outcomes]
    assert zalo.tokens.refreshes == 1
    db.session.expire_all()
    stored = channel_secrets(db.session.get(type(oa), oa.id), settings)
    assert stored["refresh_token"] in zalo.tokens.refresh


def test_revoked_refresh_token_needs_reconnecting(oa, zalo, settings) -> None:  # type: ignore[no-untyped-def]
    zalo.revoke()
    status = check_channel(oa, settings)
    db.session.commit()
    assert not status.ok
    assert status.error.kind is ErrorKind.AUTH_EXPIRED
    assert oa.state == "needs_reconnect"


def test_broadcast_quota_refuses_a_second_one_the_same_day(oa, settings) -> None:  # type: ignore[no-untyped-def]
    oa.settings = {**oa.settings, "broadcast": "true", "broadcast_monthly_limit": "2"}
    db.session.commit()
    at = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    check_broadcast_quota(oa, at, lambda start, end: 0, settings)  # nothing yet: fine
    with pytest.raises(ValidationFailed) as refused:
        check_broadcast_quota(oa, at, lambda start, end: 1, settings)
    assert "broadcast" in refused.value.fields
    count_broadcast(settings, oa.id, at)
    count_broadcast(settings, oa.id, at + timedelta(days=1))
    with pytest.raises(ValidationFailed):  # the month's 2 are used
        check_broadcast_quota(oa, at + timedelta(days=5), lambda start, end: 0, settings)


def test_publish_with_broadcast_and_the_sandbox_quota(oa, zalo, adapter, post_request) -> None:  # type: ignore[no-untyped-def]
    oa.settings = {**oa.settings, "broadcast": "true"}
    db.session.commit()
    client = _fast(adapter(oa))
    result = client.publish(post_request())
    assert zalo.broadcasts and zalo.broadcasts[0][0] == result.remote_id
    assert not result.warnings


def test_sent_broadcasts_still_count_after_a_redis_flush(oa, zalo, adapter, post_request, settings) -> None:  # type: ignore[no-untyped-def]
    """The quota is counted from the database, not from Redis: the embedded in-process stand-in forgets everything
    on a restart, and a real Redis may be flushed; neither may let a second broadcast through the same day."""
    from publisher.queue import redis_connection

    oa.settings = {**oa.settings, "broadcast": "true"}
    db.session.commit()
    _fast(adapter(oa)).publish(post_request())
    db.session.commit()
    assert len(zalo.broadcasts) == 1
    redis_connection(settings).flushdb()  # a restart of the embedded stand-in, or a flush
    db.session.expire_all()
    with pytest.raises(ValidationFailed) as refused:
        check_broadcast_quota(oa, datetime.now(UTC), lambda start, end: 0, settings)
    assert "broadcast" in refused.value.fields
    # and the adapter itself refuses to send a second one that day (before creating anything on Zalo)
    before = len(zalo.pending)
    with pytest.raises(ChannelError) as limited:
        _fast(adapter(oa)).publish(post_request())
    assert limited.value.kind is ErrorKind.RATE_LIMITED and limited.value.code == "broadcast_quota"
    assert len(zalo.pending) == before and len(zalo.broadcasts) == 1


def approved_zalo_post(api, approver, cover, title: str) -> int:  # type: ignore[no-untyped-def]
    """A post with a cover and a Zalo variant, written, submitted and approved through the API: its id."""
    post = api.post("/api/v1/posts", json={
        "title": title, "summary": "Tóm tắt", "body_html": "<p>Nội dung</p>", "media_ids": [cover.id],
        "cover_media_id": cover.id, "variants": {"zalo": {"author": "Ban Tuyên giáo"}}}).get_json()
    api.post(f"/api/v1/posts/{post['id']}/submit")
    approver.post(f"/api/v1/posts/{post['id']}/approve")
    return post["id"]


def test_a_schedule_beyond_the_broadcast_quota_is_refused_after_a_flush(  # type: ignore[no-untyped-def]
        client, make_user, make_channel, zalo, api_as, make_media, settings) -> None:
    """Through the API and a real worker: one broadcast goes out today, Redis is flushed, and scheduling a second
    broadcast today is refused (422, in words) while tomorrow is fine; the channels page counts the month's."""
    from publisher.queue import redis_connection
    from tests.conftest import sign_in_session
    from tests.scheduler.conftest import tick

    tokens = zalo.issue_tokens()
    channel = make_channel("zalo", channel_settings={"oa_id": OA_ID, "broadcast": "true"}, secrets={
        "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    api, approver = api_as("admin"), api_as("approver")
    cover = make_media("image")

    def approved(title: str) -> int:
        return approved_zalo_post(api, approver, cover, title)

    first = approved("Hội nghị người lao động")
    assert api.post(f"/api/v1/posts/{first}/schedule", json={"channel_ids": [channel.id]}).status_code in (200, 201)
    for _ in range(3):
        tick(client.application)
    assert api.get(f"/api/v1/posts/{first}").get_json()["deliveries"][0]["state"] == "published"
    assert len(zalo.broadcasts) == 1
    redis_connection(settings).flushdb()

    second = approved("Tháng Công nhân 2026")
    refused = api.post(f"/api/v1/posts/{second}/schedule", json={"channel_ids": [channel.id]})
    assert refused.status_code == 422, refused.get_json()
    said = [m for messages in refused.get_json()["error"]["fields"].values() for m in messages]
    assert any("tối đa 1 tin Broadcast mỗi ngày" in m for m in said), said  # in words, in Vietnamese
    tomorrow = (datetime.now(UTC) + timedelta(days=1, hours=1)).isoformat()
    later = api.post(f"/api/v1/posts/{second}/schedule", json={"channel_ids": [channel.id], "at": tomorrow})
    assert later.status_code in (200, 201), later.get_json()

    sign_in_session(client, make_user("admin", locale="en"))
    listing = client.get("/admin/channels/").get_data(as_text=True)
    row = listing[listing.index(f'data-channel-id="{channel.id}"'):]
    assert "1 / 40" in row[:row.index("</tr>")] and "broadcasts this month" in row[:row.index("</tr>")]


def test_error_codes_become_sentences_with_zalo_code_and_message(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        error = zalo_error(-216, "Access token is invalid")
        assert error.kind is ErrorKind.AUTH_EXPIRED
        assert "-216" in str(error) and "Access token is invalid" in str(error)
        assert str(error).startswith("Zalo không còn chấp nhận access token")  # Vietnamese first
        assert zalo_error(-214, "Article is processing").kind is ErrorKind.TRANSIENT
        assert zalo_error(-210, "x").kind is ErrorKind.REJECTED
        assert zalo_error(-32, "x").kind is ErrorKind.RATE_LIMITED
        assert zalo_error(-14014, "Invalid refresh token").kind is ErrorKind.AUTH_EXPIRED


def test_rendition_is_a_jpeg_under_one_megabyte(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    path = tmp_path / "big.png"
    Image.frombytes("RGB", (3000, 2000), os.urandom(3000 * 2000 * 3)).save(path)
    media = MediaFile(media_id=1, kind="image", path=path, content_type="image/png", size_bytes=path.stat().st_size)
    out = zalo_rendition(media)
    assert out.stat().st_size <= IMAGE_MAX_BYTES
    with Image.open(out) as image:
        assert image.format == "JPEG" and max(image.size) <= 2048


def test_oauth_v4_with_pkce_and_single_use_state(zalo, settings) -> None:  # type: ignore[no-untyped-def]
    url, kept = ZaloAdapter.authorization_url(settings, "http://loa.test/admin/channels/zalo/callback")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge"][0] and query["state"][0] == kept["state"]
    answer = requests.get(url, allow_redirects=False, timeout=5)
    back = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    with pytest.raises(ValidationFailed):
        ZaloAdapter.exchange_code(settings, {**back, "state": "forged"}, kept)
    connected = ZaloAdapter.exchange_code(settings, back, kept)
    assert connected["settings"]["oa_id"] == OA_ID
    assert connected["secrets"]["refresh_token"] in zalo.tokens.refresh
    with pytest.raises(ValidationFailed):  # the code is spent
        ZaloAdapter.exchange_code(settings, back, kept)
    with pytest.raises(ValidationFailed):  # a wrong verifier is refused by Zalo
        url2, kept2 = ZaloAdapter.authorization_url(settings, "http://loa.test/cb")
        back2 = {k: v[0] for k, v in parse_qs(urlsplit(
            requests.get(url2, allow_redirects=False, timeout=5).headers["Location"]).query).items()}
        ZaloAdapter.exchange_code(settings, back2, {**kept2, "code_verifier": "x" * 43})


def test_connect_view_signs_in_with_zalo_and_connects_the_oa(client, make_user, zalo, settings) -> None:  # type: ignore[no-untyped-def]
    from publisher.channels.models import Channel
    from tests.conftest import sign_in_session

    admin = make_user("admin")
    sign_in_session(client, admin)
    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert "/admin/channels/zalo/connect" in listing
    start = client.get("/admin/channels/zalo/connect")
    assert start.status_code == 302
    to_zalo = start.headers["Location"]
    assert to_zalo.startswith(settings.zalo_oauth_url + "/v4/oa/permission?")
    back = requests.get(to_zalo, allow_redirects=False, timeout=5).headers["Location"]
    query = urlsplit(back).query
    done = client.get(f"/admin/channels/zalo/callback?{query}")
    assert done.status_code == 302, done.get_data(as_text=True)
    channel = db.session.query(Channel).filter_by(kind="zalo").one()
    assert channel.settings["oa_id"] == OA_ID and channel.state == "connected"
    assert channel_secrets(channel, settings)["refresh_token"] in zalo.tokens.refresh
    replay = client.get(f"/admin/channels/zalo/callback?{query}")  # the state was single-use
    assert replay.status_code == 400
    assert 'lang="vi"' in replay.get_data(as_text=True)
    # reconnecting the same OA updates that channel instead of adding one
    again = client.get(f"/admin/channels/zalo/connect?channel_id={channel.id}")
    back = requests.get(again.headers["Location"], allow_redirects=False, timeout=5).headers["Location"]
    assert client.get(f"/admin/channels/zalo/callback?{urlsplit(back).query}").status_code == 302
    assert db.session.query(Channel).filter_by(kind="zalo").count() == 1


def test_connect_view_without_a_zalo_app_says_so(client, make_user, app) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import sign_in_session

    app.extensions["publisher.settings"] = type(app.extensions["publisher.settings"])(
        **{**app.extensions["publisher.settings"].__dict__, "zalo_app_id": None})
    sign_in_session(client, make_user("admin"))
    assert client.get("/admin/channels/zalo/connect").status_code == 409
    assert client.get("/admin/channels/nothing/connect").status_code == 404


def test_demo_connects_an_oa_and_publishes_a_demo_post(app, running, settings, publish_request) -> None:  # type: ignore[no-untyped-def]
    from publisher.channels.models import Channel
    from publisher.content.models import Post
    from publisher.demo import set_up_demo

    lines = set_up_demo(settings, running.demo_channels())
    db.session.commit()
    assert any("zalo" in line and "(connected)" in line for line in lines), lines
    channel = db.session.query(Channel).filter_by(kind="zalo").one()
    post = db.session.query(Post).filter(Post.cover_media_id.is_not(None)).first()
    client = _fast(adapter_for(channel, settings))
    assert client.validate(publish_request(post, kind="zalo")) == []
    assert client.publish(publish_request(post, kind="zalo")).remote_id


def test_zalo_describes_itself_and_gets_a_compose_tab_with_its_preview(client, make_user) -> None:  # type: ignore[no-untyped-def]
    from flask_babel import lazy_gettext as _l

    from publisher.channels.base import description
    from publisher.channels.description import check_variant
    from tests.conftest import sign_in_session

    zalo_kind = description("zalo")
    assert zalo_kind.limits() == {"zalo.title": 150, "zalo.author": 50, "zalo.description": 300}
    assert zalo_kind.media.image_max_bytes == IMAGE_MAX_BYTES
    assert set(zalo_kind.metrics.not_available) == {"reactions", "comments"}
    assert "comments" not in zalo_kind.capabilities.names()
    with client.application.test_request_context():
        _, problems = check_variant(zalo_kind, {"title": "T" * 151, "author": "Ban Tuyên giáo"}, _l)
        assert [name for name, _ in problems] == ["title"]
    sign_in_session(client, make_user("editor"))
    page = client.get("/admin/posts/new").get_data(as_text=True)
    assert 'id="tab-zalo"' in page and 'data-preview="zalo"' in page
    assert 'name="variants.zalo.author"' in page


def test_engagement_configuration_maps_zalo_views_and_shares(oa, zalo, adapter, post_request, settings) -> None:  # type: ignore[no-untyped-def]
    from publisher.engagement.config import engagement_config

    mapping = engagement_config(settings).mapping("zalo")
    remote = _fast(adapter(oa)).publish(post_request()).remote_id
    read = mapping.read(adapter(oa).fetch_metrics([remote])[remote].values)
    assert read["views"] is not None and read["views"] > 0 and read["shares"] is not None
    assert "comments" not in read and mapping.state("comments") == "unmapped"  # shown as not available
    assert mapping.state("reactions") == "unmapped"


def test_scheduled_post_goes_out_a_revoked_oa_pauses_and_reconnecting_resumes(  # type: ignore[no-untyped-def]
        client, make_user, zalo, api_as, make_media) -> None:
    from publisher.channels.models import Channel
    from tests.conftest import sign_in_session
    from tests.scheduler.conftest import tick

    sign_in_session(client, make_user("admin"))
    back = requests.get(client.get("/admin/channels/zalo/connect").headers["Location"], allow_redirects=False,
                        timeout=5).headers["Location"]
    assert client.get(f"/admin/channels/zalo/callback?{urlsplit(back).query}").status_code == 302
    channel = db.session.query(Channel).filter_by(kind="zalo").one()
    channel.settings = {**channel.settings, "rate_per_minute": 600}  # three publishes within a second here
    db.session.commit()
    api, approver = api_as("admin"), api_as("approver")
    cover = make_media("image")

    def scheduled(title: str) -> int:
        post = {"id": approved_zalo_post(api, approver, cover, title)}
        answer = api.post(f"/api/v1/posts/{post['id']}/schedule", json={"channel_ids": [channel.id]})
        assert answer.status_code in (200, 201), answer.get_json()
        return post["id"]

    def state(post_id: int) -> str:
        return api.get(f"/api/v1/posts/{post_id}").get_json()["deliveries"][0]["state"]

    first = scheduled("Hội nghị người lao động")
    for _ in range(3):
        tick(client.application)
    assert state(first) == "published"
    assert len(zalo.articles) == 1

    zalo.revoke()  # the OA admin removed Loa's access on Zalo
    second = scheduled("Tháng Công nhân 2026")
    for _ in range(3):
        tick(client.application)
    db.session.refresh(channel)
    assert channel.state == "needs_reconnect"
    assert state(second) == "paused"

    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert f"/admin/channels/zalo/connect?channel_id={channel.id}" in listing
    again = client.get(f"/admin/channels/zalo/connect?channel_id={channel.id}")
    back = requests.get(again.headers["Location"], allow_redirects=False, timeout=5).headers["Location"]
    assert client.get(f"/admin/channels/zalo/callback?{urlsplit(back).query}").status_code == 302
    db.session.refresh(channel)
    assert channel.state == "connected"
    for _ in range(3):
        tick(client.application)
    assert state(second) == "published"
    assert len(zalo.articles) == 2


def test_a_chosen_video_becomes_a_video_item(oa, zalo, adapter, make_post, make_media, publish_request) -> None:  # type: ignore[no-untyped-def]
    cover, clip = make_media("image"), make_media("video", filename="clip.mp4")
    post = make_post(cover_media_id=cover.id, media_ids=[cover.id, clip.id],
                     body_html="<p>Đoạn</p><figure><img src=\"/media/x/w960.jpg\"><figcaption>Chú thích</figcaption></figure>")
    request = publish_request(post, kind="zalo", variant={"author": "Ban Tuyên giáo"})
    remote = _fast(adapter(oa)).publish(request).remote_id
    body = zalo.articles[remote].fields["body"]
    assert [item["type"] for item in body] == ["text", "image", "image", "video"]
    assert body[1] == {"type": "image", "url": "http://loa.test/media/x/w960.jpg", "caption": "Chú thích"}
    # The video was uploaded to Zalo (preparevideo → token → verify) and goes in by its video_id, not as a link.
    assert body[3] == {"type": "video", "video_id": body[3]["video_id"]}
    video = zalo.videos[body[3]["video_id"]]
    sent = next(m for m in request.media if m.media_id == clip.id)
    assert video.data == sent.path.read_bytes() and video.status == 1


@pytest.fixture
def video_request(make_post, make_media, publish_request):  # type: ignore[no-untyped-def]
    def make() -> Any:
        cover, clip = make_media("image"), make_media("video", filename="clip.mp4")
        post = make_post(cover_media_id=cover.id, media_ids=[cover.id, clip.id], body_html="<p>Đoạn</p>")
        return publish_request(post, kind="zalo", variant={"author": "Ban Tuyên giáo"})

    return make


def test_the_video_is_verified_until_zalo_has_processed_it(oa, zalo, adapter, video_request) -> None:  # type: ignore[no-untyped-def]
    zalo.video_processing_polls = 3  # verify answers status 3 ("processing") three times, then 1 with the id
    client = _fast(adapter(oa))
    slept: list[float] = []
    client.sleep = slept.append
    remote = client.publish(video_request()).remote_id
    item = zalo.articles[remote].fields["body"][-1]
    assert item["type"] == "video" and zalo.videos[item["video_id"]].status == 1
    assert zalo.video_verifies >= 4 and len(slept) >= 3


def test_a_video_zalo_could_not_process_is_refused_and_no_article_is_made(oa, zalo, adapter, video_request) -> None:  # type: ignore[no-untyped-def]
    zalo.video_outcome = 4  # "Video xử lý thất bại"
    error = assert_channel_error(ErrorKind.REJECTED, _fast(adapter(oa)).publish, video_request())
    assert error.code == "video_status_4" and "video" in str(error).lower()
    assert not zalo.articles and not zalo.pending


def test_a_video_still_processing_is_tried_again_later(oa, zalo, adapter, video_request) -> None:  # type: ignore[no-untyped-def]
    zalo.video_processing_polls = 1000
    error = assert_channel_error(ErrorKind.TRANSIENT, _fast(adapter(oa)).publish, video_request())
    assert error.code == "video_processing" and not zalo.articles


def test_a_video_zalo_does_not_take_goes_as_a_link(oa, zalo, adapter, video_request, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import publisher.channels.zalo as zalo_module

    monkeypatch.setattr(zalo_module, "VIDEO_MAX_BYTES", 1024)  # this clip is over the (lowered) upload limit
    remote = _fast(adapter(oa)).publish(video_request()).remote_id
    item = zalo.articles[remote].fields["body"][-1]
    assert item["type"] == "video" and item["url"].startswith("http://loa.test/media/") and not zalo.videos


def test_the_sandbox_refuses_a_video_item_with_an_unknown_video_id(zalo, oa, settings) -> None:  # type: ignore[no-untyped-def]
    token = channel_secrets(oa, settings)["access_token"]
    answer = requests.post(f"{zalo.urls['']}/v2.0/article/create", headers={"access_token": token}, json={
        "type": "normal", "title": "T", "author": "A", "description": "D",
        "cover": {"cover_type": "photo", "photo_url": "https://x/y.jpg", "status": "show"},
        "body": [{"type": "video", "video_id": "no-such-video"}]}, timeout=5).json()
    assert answer["error"] == -201
