"""A video's poster frame, made at upload; each channel's choice of the post's media, used when the channel's
request is built (a story with a photo and a video can go to Facebook with either)."""

from __future__ import annotations

import io

from PIL import Image

from publisher.channels.facebook import FacebookAdapter
from publisher.content.media import MediaLimits, save_upload
from publisher.content.services import update_post
from publisher.db import db
from publisher.scheduler.requests import publish_request_for
from tests.conftest import image_bytes
from tests.media_files import tiny_mp4

LIMITS = MediaLimits(10 * 2**20, 50 * 2**20)


def upload_video(user, settings, tmp_path, name: str = "clip.mp4", seconds: float = 2):  # type: ignore[no-untyped-def]
    path = tiny_mp4(tmp_path / name, seconds=seconds)
    with path.open("rb") as fh:
        return save_upload(fh, name, user, settings.media_dir, LIMITS)


def upload_photo(user, settings, color: str = "navy"):  # type: ignore[no-untyped-def]
    return save_upload(io.BytesIO(image_bytes(size=(800, 600), color=color)), "anh.jpg", user, settings.media_dir,
                       LIMITS)


def test_an_uploaded_video_gets_a_poster_frame(make_user, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    item = upload_video(make_user("editor"), settings, tmp_path)
    assert set(item.renditions) == {"poster", "poster_w480"}
    poster = settings.media_dir / item.renditions["poster"]["path"]
    with Image.open(poster) as image:
        assert image.format == "JPEG" and image.size == (320, 240)
    with Image.open(settings.media_dir / item.renditions["poster_w480"]["path"]) as image:
        assert image.width == 320  # never upscaled
    assert (item.width, item.height) == (320, 240)


def test_a_video_shorter_than_a_second_gets_its_first_frame(make_user, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    item = upload_video(make_user("editor"), settings, tmp_path, seconds=0.3)
    assert "poster" in item.renditions


def test_a_video_ffmpeg_cannot_read_is_kept_without_poster(make_user, settings) -> None:  # type: ignore[no-untyped-def]
    junk = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x01" * 5000
    item = save_upload(io.BytesIO(junk), "hong.mp4", make_user("editor"), settings.media_dir, LIMITS)
    assert item.kind == "video" and item.renditions == {}
    assert sorted(p.name for p in (settings.media_dir / item.path).parent.iterdir()) == ["original.mp4"]


def story_with_photo_and_video(make_post, make_user, settings, tmp_path):  # type: ignore[no-untyped-def]
    editor = make_user("editor")
    photo, video = upload_photo(editor, settings), upload_video(editor, settings, tmp_path)
    post = make_post(author=editor, media_ids=[photo.id, video.id])
    return editor, post, photo, video


def facebook_problems(request, settings) -> list[str]:  # type: ignore[no-untyped-def]
    adapter = FacebookAdapter(settings, {"page_id": "123"}, {"access_token": "t"})
    return [str(p.message) for p in adapter.validate(request) if p.field == "media"]


def test_without_a_choice_facebook_gets_everything_and_refuses(make_post, make_user, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _editor, post, _photo, _video = story_with_photo_and_video(make_post, make_user, settings, tmp_path)
    request = publish_request_for(post, "facebook", "k", settings)
    assert [m.kind for m in request.media] == ["image", "video"]
    assert facebook_problems(request, settings)


def test_each_channel_gets_the_media_its_tab_chose(make_post, make_user, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    editor, post, photo, video = story_with_photo_and_video(make_post, make_user, settings, tmp_path)
    update_post(post, editor, {"variants": {
        "facebook": {"message": "Ảnh lễ phát động", "media_ids": [photo.id]},
        "youtube": {"title": "Lễ phát động", "media_ids": [video.id, photo.id]},
        "website": {"media_ids": [photo.id, video.id]},
    }}, post.version)
    db.session.commit()
    facebook = publish_request_for(post, "facebook", "k", settings)
    assert [m.media_id for m in facebook.media] == [photo.id]
    assert facebook_problems(facebook, settings) == []
    assert "media_ids" not in facebook.variant and facebook.variant["message"] == "Ảnh lễ phát động"
    youtube = publish_request_for(post, "youtube", "k", settings)
    assert [m.media_id for m in youtube.media] == [video.id, photo.id]
    assert youtube.cover is not None and youtube.cover.media_id == photo.id  # the thumbnail
    assert [m.media_id for m in publish_request_for(post, "website", "k", settings).media] == [photo.id, video.id]

    update_post(post, editor, {"variants": {"facebook": {"message": "Video", "media_ids": [video.id]},
                                            "youtube": {"title": "Lễ phát động", "media_ids": [video.id]}}},
                post.version)
    facebook = publish_request_for(post, "facebook", "k", settings)
    assert [m.kind for m in facebook.media] == ["video"] and facebook_problems(facebook, settings) == []
    assert publish_request_for(post, "youtube", "k", settings).cover is None  # YouTube makes its own thumbnail


def test_a_medium_removed_from_the_post_leaves_every_channel(make_post, make_user, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    editor, post, photo, video = story_with_photo_and_video(make_post, make_user, settings, tmp_path)
    update_post(post, editor, {"variants": {"facebook": {"media_ids": [photo.id]}}}, post.version)
    update_post(post, editor, {"media_ids": [video.id], "variants": {"facebook": {"media_ids": [photo.id]}}},
                post.version)
    assert post.variant("facebook")["media_ids"] == []
    assert publish_request_for(post, "facebook", "k", settings).media == ()


def test_the_api_takes_a_channels_media_and_refuses_a_wrong_list(api_as, make_user, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    photo = api.post("/api/v1/media", data={"file": (io.BytesIO(image_bytes()), "a.jpg")},
                     content_type="multipart/form-data").get_json()
    created = api.post("/api/v1/posts", json={"title": "Tin ảnh", "media_ids": [photo["id"]],
                                               "variants": {"facebook": {"message": "x", "media_ids": [photo["id"]]}}})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["variants"]["facebook"]["media_ids"] == [photo["id"]]
    bad = api.patch(f"/api/v1/posts/{created.get_json()['id']}",
                    json={"version": 1, "variants": {"facebook": {"media_ids": ["một"]}}})
    assert bad.status_code == 422
    assert "variants.facebook.media_ids" in bad.get_json()["error"]["fields"]
