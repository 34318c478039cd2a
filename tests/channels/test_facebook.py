"""The Facebook adapter with the REAL facebook-sdk against the Graph API sandbox: every method, every error class."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import facebook
import pytest
import requests
from fb_fixtures import *  # noqa: F403  (the sandbox fixtures)

from publisher.channels.base import ChannelError, ErrorKind, MediaFile, PublishRequest, adapter_class
from publisher.channels.facebook import FacebookAdapter, GraphCallError, GraphClient, compose_message
from publisher.channels.sandbox import Fault, start_sandboxes
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN, VIDEO_CHUNK_BYTES
from tests.conftest import image_bytes

PAGE = DEMO_PAGE_ID


def adapter(settings, token: str = DEMO_PAGE_TOKEN, page_id: str = PAGE) -> FacebookAdapter:  # type: ignore[no-untyped-def]
    return FacebookAdapter(settings, {"page_id": page_id}, {"access_token": token}, channel_id=7)


def request(message: str = "Đẩy mạnh chuyển đổi số trong hoạt động Công đoàn", media: tuple = (), **kw) -> PublishRequest:  # type: ignore[no-untyped-def,type-arg]
    variant = {"message": message, **kw.pop("variant", {})}
    return PublishRequest(post_id=1, idempotency_key="k-1", title="Chuyển đổi số", summary="Tóm tắt", body_html="",
                          slug="chuyen-doi-so", variant=variant, media=media, **kw)


def image_file(tmp_path: Path, name: str = "anh.jpg", fmt: str = "JPEG", content_type: str = "image/jpeg",
               **kw) -> MediaFile:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(image_bytes(fmt, size=(800, 500)))
    return MediaFile(media_id=len(name), kind="image", path=path, content_type=content_type,
                     size_bytes=path.stat().st_size, **kw)


def video_file(tmp_path: Path, size: int) -> MediaFile:
    path = tmp_path / "clip.mp4"
    with path.open("wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
        remaining = size - 24
        while remaining > 0:
            block = os.urandom(min(remaining, 1 << 20))
            fh.write(block)
            remaining -= len(block)
    return MediaFile(media_id=99, kind="video", path=path, content_type="video/mp4", size_bytes=size)


def raises(kind: ErrorKind, fn, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(ChannelError) as caught:
        fn(*args)
    assert caught.value.kind is kind, str(caught.value)
    return caught.value


# --- the wrapper ---------------------------------------------------------------------------------------------


def test_registered_for_kind_facebook(app):  # type: ignore[no-untyped-def]
    assert adapter_class("facebook") is FacebookAdapter


def test_wrapper_uses_settings_version_and_base_urls_per_instance(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    other = start_sandboxes(["facebook"])
    try:
        mine = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
        theirs = GraphClient.from_settings(dataclasses.replace(fb_settings, **other.settings_overrides(),
                                                               facebook_graph_version="v22.0"), DEMO_PAGE_TOKEN)
        assert mine.get_object("me")["id"] == PAGE
        assert theirs.get_object("me")["id"] == PAGE
        assert graph_sandbox.requests_seen[-1] == ("", "GET", "/v27.0/me")
        assert other["facebook"].requests_seen[-1] == ("", "GET", "/v22.0/me")
        assert facebook.FACEBOOK_GRAPH_URL == "https://graph.facebook.com/"  # the sdk's global is left alone
        assert mine.timeout == 1.0
    finally:
        other.stop()


def test_sdk_default_version_is_refused_by_the_sandbox(fb_settings):  # type: ignore[no-untyped-def]
    client = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    client.version = "v2.8"  # what facebook-sdk would send by itself
    with pytest.raises(GraphCallError) as caught:
        client.get_object("me")
    assert caught.value.code == 2635


def test_wrapper_keeps_code_subcode_transient_flag_and_trace_id(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    with pytest.raises(GraphCallError) as caught:
        GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN).get_object("me")
    exc = caught.value
    assert (exc.code, exc.subcode, exc.http_status, exc.is_transient) == (190, 463, 400, False)
    assert exc.fbtrace_id and "expired" in exc.platform_message


def test_http_status_is_checked_even_without_an_error_body(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph_sandbox.add_fault(path_prefix="/me", status=502, body=b"<html>Bad gateway</html>",
                            headers={"Content-Type": "text/html"})
    error = adapter(fb_settings).check_connection().error
    assert error.kind is ErrorKind.TRANSIENT and error.code == "502"
    graph_sandbox.add_fault(path_prefix="/me", status=400, body={"success": False})
    error = adapter(fb_settings).check_connection().error
    assert error.kind is ErrorKind.REJECTED and error.http_status == 400


def test_every_call_has_a_time_out(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph_sandbox.slow(f"/{PAGE}/feed", delay=2.5)
    error = raises(ErrorKind.TRANSIENT, adapter(fb_settings).publish, request())
    assert error.code == "timeout"


def test_unreachable_graph_is_transient(fb_settings):  # type: ignore[no-untyped-def]
    dead = dataclasses.replace(fb_settings, facebook_graph_url="http://127.0.0.1:9")
    error = raises(ErrorKind.TRANSIENT, adapter(dead).publish, request())
    assert error.code == "unreachable"


# --- validate ------------------------------------------------------------------------------------------------


def test_validate_accepts_a_plain_post(fb_settings):  # type: ignore[no-untyped-def]
    assert adapter(fb_settings).validate(request()) == []


def test_validate_finds_everything_facebook_would_refuse(fb_settings, tmp_path):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    assert [p.field for p in fb.validate(request("x" * 63207))] == ["variants.facebook.message"]
    assert fb.validate(request(variant={"link": "ftp://x"}))[0].field == "variants.facebook.link"
    photo = image_file(tmp_path)
    assert any(p.field == "variants.facebook.link" for p in fb.validate(
        request(variant={"link": "https://ldld.test/tin/a"}, media=(photo,))))
    video = video_file(tmp_path, 2048)
    assert any(p.field == "media" for p in fb.validate(request(media=(photo, video))))
    svg = MediaFile(media_id=5, kind="image", path=tmp_path / "a.svg", content_type="image/svg+xml", size_bytes=10)
    assert fb.validate(request(media=(svg,)))[0].field == "media"
    big = MediaFile(media_id=6, kind="image", path=tmp_path / "huge.png", content_type="image/png",
                    size_bytes=5 * 1024 * 1024)
    assert fb.validate(request(media=(big,)))[0].field == "media"
    avi = MediaFile(media_id=7, kind="video", path=tmp_path / "a.flv", content_type="video/x-flv", size_bytes=10)
    assert fb.validate(request(media=(avi,)))[0].field == "media"
    assert adapter(fb_settings, page_id="").validate(request())[0].field == "channel"


def test_a_too_large_photo_goes_as_its_rendition(fb_settings, graph_sandbox, tmp_path):  # type: ignore[no-untyped-def]
    rendition = tmp_path / "w1600.jpg"
    rendition.write_bytes(image_bytes("JPEG", size=(1600, 1000)))
    big = MediaFile(media_id=6, kind="image", path=tmp_path / "missing-original.png", content_type="image/png",
                    size_bytes=9 * 1024 * 1024, renditions={"w1600": rendition})
    assert adapter(fb_settings).validate(request(media=(big,))) == []
    result = adapter(fb_settings).publish(request(media=(big,)))
    photo = graph_sandbox.photos[graph_sandbox.posts[result.remote_id].media[0]]
    assert (photo.width, photo.format) == (1600, "JPEG")


def test_message_adds_campaign_hashtags_once(fb_settings):  # type: ignore[no-untyped-def]
    message = compose_message(request("Tháng Công nhân #ThangCongNhan", hashtags=("ThangCongNhan", "#CongDoan")))
    assert message == "Tháng Công nhân #ThangCongNhan\n\n#CongDoan"
    assert compose_message(request("")) == "Chuyển đổi số\n\nTóm tắt"


# --- publish -----------------------------------------------------------------------------------------------


def test_publish_text_post(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    result = adapter(fb_settings).publish(request())
    post = graph_sandbox.posts[result.remote_id]
    assert post.kind == "status" and post.message.startswith("Đẩy mạnh")
    assert result.remote_url == f"https://www.facebook.com/{result.remote_id}"


def test_an_adapter_keeps_one_http_session_that_skips_the_environment(fb_settings, graph_sandbox, monkeypatch):  # type: ignore[no-untyped-def]
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    page = adapter(fb_settings)
    session = page.graph().session
    first = page.publish(request("Tin thứ nhất"))
    second = page.publish(request("Tin thứ hai"))
    assert {first.remote_id, second.remote_id} <= set(graph_sandbox.posts)
    assert page.graph().session is session and session.trust_env is False  # one kept-alive session per adapter
    assert adapter(fb_settings).graph().session is not session


def test_publish_link_post(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    result = adapter(fb_settings).publish(request(variant={"link": "https://ldld.test/tin/chuyen-doi-so"}))
    post = graph_sandbox.posts[result.remote_id]
    assert (post.kind, post.link) == ("link", "https://ldld.test/tin/chuyen-doi-so")


def test_publish_single_photo(fb_settings, graph_sandbox, tmp_path):  # type: ignore[no-untyped-def]
    result = adapter(fb_settings).publish(request(media=(image_file(tmp_path, alt_text="Hội nghị"),)))
    post = graph_sandbox.posts[result.remote_id]
    assert post.kind == "photo" and len(post.media) == 1
    assert graph_sandbox.photos[post.media[0]].published


def test_publish_multi_photo_attaches_unpublished_photos_to_one_post(fb_settings, graph_sandbox, tmp_path):  # type: ignore[no-untyped-def]
    photos = (image_file(tmp_path, "a.jpg"), image_file(tmp_path, "b.png", "PNG", "image/png"),
              image_file(tmp_path, "c.jpg", caption="Ảnh 3"))
    result = adapter(fb_settings).publish(request(media=photos))
    post = graph_sandbox.posts[result.remote_id]
    assert post.kind == "album" and len(post.media) == 3
    assert all(not graph_sandbox.photos[m].published and graph_sandbox.photos[m].post_id == post.id
               for m in post.media)
    assert len(graph_sandbox.page_posts(PAGE)) == 1  # the photos made no posts of their own


def test_publish_video_goes_to_the_video_host_in_chunks(fb_settings, graph_sandbox, tmp_path):  # type: ignore[no-untyped-def]
    size = VIDEO_CHUNK_BYTES * 2 + 12345
    seen: list[tuple[int, int]] = []
    result = adapter(fb_settings).publish(request(media=(video_file(tmp_path, size),),
                                                  progress=lambda sent, total: seen.append((sent, total))))
    post = graph_sandbox.posts[result.remote_id]
    video = graph_sandbox.videos[post.media[0]]
    assert post.kind == "video" and video.finished and video.received == size
    assert seen[-1] == (size, size) and len(seen) == 3
    uploads = [r for r in graph_sandbox.requests_seen if r[2].endswith("/videos")]
    assert len(uploads) == 5 and all(host == "video" for host, _m, _p in uploads)


def test_video_upload_resumes_after_a_chunk_is_cut_off(fb_settings, graph_sandbox, tmp_path):  # type: ignore[no-untyped-def]
    size = VIDEO_CHUNK_BYTES * 2 + 10
    # the second chunk's connection drops before an answer; the third arrives but its answer is lost
    graph_sandbox.add_fault(Fault(path_prefix=f"/{PAGE}/videos", method="POST", skip=2, count=1, drop=True))
    graph_sandbox.add_fault(Fault(path_prefix=f"/{PAGE}/videos", method="POST", skip=4, count=1, drop=True,
                                  process=True))
    result = adapter(fb_settings).publish(request(media=(video_file(tmp_path, size),)))
    video = graph_sandbox.videos[graph_sandbox.posts[result.remote_id].media[0]]
    assert video.finished and video.received == size


def test_a_file_that_is_not_a_video_is_rejected(fb_settings, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"not a video at all" * 100)
    fake = MediaFile(media_id=1, kind="video", path=path, content_type="video/mp4", size_bytes=path.stat().st_size)
    error = raises(ErrorKind.REJECTED, adapter(fb_settings).publish, request(media=(fake,)))
    assert error.code == "6000" and "problem uploading" in error.platform_message


def test_publish_refuses_what_validate_finds(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    error = raises(ErrorKind.REJECTED, adapter(fb_settings).publish, request("x" * 70000))
    assert error.code == "validation"
    assert graph_sandbox.posts == {}


# --- update, unpublish, find_existing ---------------------------------------------------------------------------


def test_update_edits_the_message(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    remote_id = fb.publish(request()).remote_id
    assert fb.update(remote_id, request("Bản sửa: Đẩy mạnh chuyển đổi số")).remote_id == remote_id
    assert graph_sandbox.posts[remote_id].message == "Bản sửa: Đẩy mạnh chuyển đổi số"


def test_update_of_a_deleted_post_is_rejected_with_graphs_words(fb_settings):  # type: ignore[no-untyped-def]
    error = raises(ErrorKind.REJECTED, adapter(fb_settings).update, f"{PAGE}_404", request())
    assert (error.code, error.subcode) == ("100", "33") and "does not exist" in error.platform_message
    assert "[100/33]" in str(error)


def test_unpublish_deletes_and_a_second_time_is_fine(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    remote_id = fb.publish(request()).remote_id
    fb.unpublish(remote_id)
    assert remote_id not in graph_sandbox.posts
    fb.unpublish(remote_id)


def test_find_existing_after_a_time_out_where_facebook_accepted_the_post(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    graph_sandbox.slow(f"/{PAGE}/feed", delay=2.5, process=True)
    raises(ErrorKind.TRANSIENT, fb.publish, request(hashtags=("CongDoan",)))
    found = fb.find_existing(request(hashtags=("CongDoan",)))
    assert found is not None and found.remote_id in graph_sandbox.posts
    assert fb.find_existing(request("Một bài khác")) is None
    # publishing again anyway would be refused by Facebook itself as a duplicate
    raises(ErrorKind.DUPLICATE, fb.publish, request(hashtags=("CongDoan",)))
    assert len(graph_sandbox.page_posts(PAGE)) == 1


# --- metrics and comments ------------------------------------------------------------------------------------


def test_fetch_metrics_many_posts_per_call_and_growing(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    ids = [fb.publish(request(f"Bài số {n}")).remote_id for n in range(3)]
    graph_sandbox.advance(600)
    before = len(graph_sandbox.requests_seen)
    first = fb.fetch_metrics(ids)
    assert len(graph_sandbox.requests_seen) == before + 1
    assert set(first) == set(ids)
    values = first[ids[0]].values
    assert set(values) == {"reactions", "comments", "shares", "post_media_view", "post_total_media_view_unique"}
    assert values["post_media_view"] > 0 and values["comments"] == 1
    graph_sandbox.advance(6 * 3600)
    later = fb.fetch_metrics(ids)[ids[0]].values
    assert later["post_media_view"] > values["post_media_view"] and later["shares"] >= 1


def test_missing_shares_count_as_zero_and_deleted_posts_are_marked_removed(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    keep, gone = fb.publish(request("Bài giữ lại")).remote_id, fb.publish(request("Bài bị xoá")).remote_id
    fb.unpublish(gone)
    metrics = fb.fetch_metrics([keep, gone])
    assert metrics[gone].removed and not metrics[keep].removed
    assert metrics[keep].values["shares"] == 0


def test_fetch_metrics_batches_fifty_ids(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    ids = [fb.publish(request(f"Tin ngắn {n}")).remote_id for n in range(55)]
    before = len(graph_sandbox.requests_seen)
    assert len(fb.fetch_metrics(ids)) == 55
    assert len(graph_sandbox.requests_seen) == before + 2


def test_fetch_comments_and_reply(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    remote_id = fb.publish(request()).remote_id
    graph_sandbox.advance(35 * 60)
    comments = fb.fetch_comments(remote_id)
    assert len(comments) == 3 and comments[0].author_name and comments[0].message
    assert [c.created_at for c in comments] == sorted(c.created_at for c in comments)
    reply_id = fb.reply_comment(comments[0].remote_id, "Cảm ơn bạn đã quan tâm!")
    again = fb.fetch_comments(remote_id)
    reply = next(c for c in again if c.remote_id == reply_id)
    assert reply.parent_remote_id == comments[0].remote_id and reply.message == "Cảm ơn bạn đã quan tâm!"
    since = datetime.fromtimestamp(graph_sandbox.now(), UTC) - timedelta(seconds=30)
    assert [c.remote_id for c in fb.fetch_comments(remote_id, since=since)] == [reply_id]
    raises(ErrorKind.REJECTED, fb.reply_comment, comments[0].remote_id, "  ")


def test_fetch_comments_follows_paging(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    remote_id = fb.publish(request()).remote_id
    for n in range(120):
        fb.reply_comment(remote_id, f"Bình luận {n}")
    assert len(fb.fetch_comments(remote_id)) == 120


# --- check_connection ---------------------------------------------------------------------------------------


def test_check_connection_with_the_page_token(fb_settings):  # type: ignore[no-untyped-def]
    status = adapter(fb_settings).check_connection()
    assert status.ok and status.details["page_id"] == PAGE


def test_check_connection_refuses_a_user_token(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    status = adapter(fb_settings, token=graph_sandbox.create_user("Nguyễn Văn A")).check_connection()
    assert not status.ok and status.error.kind is ErrorKind.AUTH_EXPIRED and status.error.code == "not_a_page_token"
    assert "Nguyễn Văn A" in status.message and PAGE in status.message


def test_check_connection_refuses_another_pages_token(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    other = graph_sandbox.create_page("Trang khác")
    status = adapter(fb_settings, token=other.token).check_connection()
    assert not status.ok and status.details["token_owner_id"] == other.id


@pytest.mark.parametrize("token", ["expired", "garbage"])
def test_check_connection_with_a_dead_token(fb_settings, graph_sandbox, token):  # type: ignore[no-untyped-def]
    value = DEMO_PAGE_TOKEN if token == "expired" else "not-a-token"
    if token == "expired":
        graph_sandbox.expire_token(value)
    status = adapter(fb_settings, token=value).check_connection()
    assert not status.ok and status.error.kind is ErrorKind.AUTH_EXPIRED and status.error.code == "190"


def test_check_connection_without_credentials(fb_settings):  # type: ignore[no-untyped-def]
    status = adapter(fb_settings, token="").check_connection()
    assert not status.ok and status.error.code == "missing_credentials"


# --- every error class --------------------------------------------------------------------------------------


def test_expired_token_while_publishing_is_auth_expired(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    error = raises(ErrorKind.AUTH_EXPIRED, adapter(fb_settings).publish, request())
    assert (error.code, error.subcode) == ("190", "463")
    assert "fbtrace_id" in error.platform_message


@pytest.mark.parametrize("code,subcode", [(190, 467), (102, None), (190, None)])
def test_invalid_tokens_are_auth_expired(fb_settings, graph_sandbox, code, subcode):  # type: ignore[no-untyped-def]
    error = {"message": "Error validating access token", "type": "OAuthException", "code": code}
    if subcode:
        error["error_subcode"] = subcode
    graph_sandbox.add_fault(path_prefix=f"/{PAGE}/feed", status=400, body={"error": error})
    raises(ErrorKind.AUTH_EXPIRED, adapter(fb_settings).publish, request())


def test_user_token_publishing_is_rejected_with_a_hint(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    error = raises(ErrorKind.REJECTED, adapter(fb_settings, token=graph_sandbox.create_user("A")).publish, request())
    assert error.code == "200" and "pages_manage_posts" in error.platform_message
    assert error.http_status == 403


@pytest.mark.parametrize("code,minutes,expected", [(4, None, 300), (17, None, 300), (32, None, 300),
                                                   (613, None, 60), (80001, 7, 420), (4, 3, 180)])
def test_rate_limits_carry_retry_after(fb_settings, graph_sandbox, code, minutes, expected):  # type: ignore[no-untyped-def]
    graph_sandbox.rate_limit(f"/{PAGE}/feed", code=code, minutes=minutes)
    error = raises(ErrorKind.RATE_LIMITED, adapter(fb_settings).publish, request())
    assert error.retry_after == expected and error.code == str(code)
    assert adapter(fb_settings).publish(request()).remote_id  # the limit has passed


def test_http_429_with_retry_after_is_a_rate_limit(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph_sandbox.add_fault(path_prefix=f"/{PAGE}/feed", status=429, body=b"slow down", headers={"Retry-After": "90"})
    assert raises(ErrorKind.RATE_LIMITED, adapter(fb_settings).publish, request()).retry_after == 90


@pytest.mark.parametrize("status,code,transient", [(500, 2, True), (500, 1, False), (503, None, False),
                                                   (400, 9999, True)])
def test_transient_failures(fb_settings, graph_sandbox, status, code, transient):  # type: ignore[no-untyped-def]
    body = {"error": {"message": "Please retry", "type": "OAuthException", "is_transient": transient}}
    if code is not None:
        body["error"]["code"] = code
    graph_sandbox.add_fault(path_prefix=f"/{PAGE}/feed", status=status, body=body)
    raises(ErrorKind.TRANSIENT, adapter(fb_settings).publish, request())


def test_duplicate_post(fb_settings):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    fb.publish(request())
    error = raises(ErrorKind.DUPLICATE, fb.publish, request())
    assert error.code == "506" and "Duplicate" in error.platform_message


@pytest.mark.parametrize("code", [10, 200, 100, 368])
def test_permissions_policy_and_invalid_parameters_are_rejected(fb_settings, graph_sandbox, code):  # type: ignore[no-untyped-def]
    graph_sandbox.add_fault(path_prefix=f"/{PAGE}/feed", status=400, body={"error": {
        "message": f"(#{code}) Graph says no", "type": "OAuthException", "code": code}})
    error = raises(ErrorKind.REJECTED, adapter(fb_settings).publish, request())
    assert error.platform_message.startswith(f"(#{code}) Graph says no") and error.message
    assert f"[{code}]" in str(error) and error.message in str(error)


def test_invalid_photo_is_rejected_by_the_platform(fb_settings, graph_sandbox, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff not really a jpeg")
    broken = MediaFile(media_id=1, kind="image", path=path, content_type="image/jpeg", size_bytes=30)
    error = raises(ErrorKind.REJECTED, adapter(fb_settings).publish, request(media=(broken,)))
    assert error.code == "324"


def test_faults_can_be_injected_over_http(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    base = graph_sandbox.urls[""]
    answer = requests.post(f"{base}/__sandbox/faults", json={"path_prefix": f"/{PAGE}/feed", "status": 500, "body": {
        "error": {"message": "boom", "code": 2, "is_transient": True}}}, timeout=5)
    assert answer.status_code == 201
    raises(ErrorKind.TRANSIENT, adapter(fb_settings).publish, request())
    assert adapter(fb_settings).publish(request()).remote_id
    state = requests.get(f"{base}/__sandbox/state", timeout=5).json()
    assert state["posts"] and "v27.0" in state["versions_seen"]
    assert requests.post(f"{base}/__sandbox/faults", json={"nonsense": 1}, timeout=5).status_code == 400
    assert requests.delete(f"{base}/__sandbox/faults", timeout=5).json() == {"faults": 0}


def test_sandbox_controls_over_http(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    base = graph_sandbox.urls[""]
    user_token = requests.post(f"{base}/__sandbox/user_token", json={"name": "B"}, timeout=5).json()["access_token"]
    assert not adapter(fb_settings, token=user_token).check_connection().ok
    page = requests.post(f"{base}/__sandbox/page", json={"name": "Trang C"}, timeout=5).json()
    assert adapter(fb_settings, token=page["access_token"], page_id=page["id"]).check_connection().ok
    requests.post(f"{base}/__sandbox/rate_limit", json={"code": 32, "minutes": 2}, timeout=5)
    assert raises(ErrorKind.RATE_LIMITED, adapter(fb_settings).publish, request()).retry_after == 120
    requests.post(f"{base}/__sandbox/advance", json={"seconds": 60}, timeout=5)
    assert graph_sandbox.clock_offset == 60
    requests.post(f"{base}/__sandbox/expire_token", json={"token": DEMO_PAGE_TOKEN}, timeout=5)
    raises(ErrorKind.AUTH_EXPIRED, adapter(fb_settings).publish, request())
    assert requests.post(f"{base}/__sandbox/nonsense", json={}, timeout=5).status_code == 404
    assert requests.post(f"{base}/__sandbox/advance", json={}, timeout=5).status_code == 400


def test_tokens_never_reach_logs(fb_settings, graph_sandbox, caplog):  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.DEBUG)
    adapter(fb_settings).publish(request())
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    with pytest.raises(ChannelError) as caught:
        adapter(fb_settings).publish(request("khác"))
    assert DEMO_PAGE_TOKEN not in caplog.text and DEMO_PAGE_TOKEN not in str(caught.value)
    assert json.dumps(caught.value.__dict__, default=str).find(DEMO_PAGE_TOKEN) == -1


def test_retired_insights_metrics_are_refused_by_graph(fb_settings):  # type: ignore[no-untyped-def]
    remote_id = adapter(fb_settings).publish(request()).remote_id
    client = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    with pytest.raises(GraphCallError) as caught:
        client.get_object(remote_id, fields="insights.metric(post_impressions,post_reach)")
    assert caught.value.code == 100 and "insights metric" in caught.value.platform_message
    insights = client.get_object(remote_id, fields="insights.metric(post_media_view)")["insights"]["data"]
    assert insights[0]["name"] == "post_media_view"
