"""The compose form carries each channel's choice of media; the post page lists the media, warns about a channel's
rule before scheduling and takes a medium off the post."""

from __future__ import annotations

import io

from publisher.content.media import MediaLimits, save_upload
from publisher.content.models import Post
from publisher.db import db
from tests.conftest import image_bytes
from tests.media_files import tiny_mp4
from tests.web.editorial.test_editorial_flows import compose_form

LIMITS = MediaLimits(2**24, 2**26)


def photo_and_video(user, settings, tmp_path):  # type: ignore[no-untyped-def]
    photo = save_upload(io.BytesIO(image_bytes(size=(600, 400))), "anh.jpg", user, settings.media_dir, LIMITS)
    with tiny_mp4(tmp_path / "clip.mp4").open("rb") as fh:
        video = save_upload(fh, "clip.mp4", user, settings.media_dir, LIMITS)
    db.session.commit()
    return photo, video


def test_the_compose_form_saves_each_channels_media(ui_as, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ui = ui_as("editor")
    photo, video = photo_and_video(ui.user, settings, tmp_path)
    saved = ui.post("/admin/posts/new", compose_form(**{
        "media_ids": f"{photo.id}, {video.id}", "variants.facebook.media_ids": str(video.id),
        "variants.website.media_ids": f"{photo.id}, {video.id}", "variants.youtube.media_ids": str(video.id)}))
    assert saved.status_code == 302
    post = db.session.query(Post).one()
    assert post.variant("facebook")["media_ids"] == [video.id]
    assert post.variant("website")["media_ids"] == [photo.id, video.id]
    assert "youtube" not in {v.channel_kind for v in post.variants}  # no YouTube text: no YouTube variant
    page = ui.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert f'name="variants.facebook.media_ids" value="{video.id}"' in page
    assert "Ảnh hoặc video trên Facebook" in page and "poster_w480.jpg" in page


def test_the_post_page_warns_and_removes_a_medium(ui_as, make_post, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ui = ui_as("editor")
    photo, video = photo_and_video(ui.user, settings, tmp_path)
    post = make_post(author=ui.user, media_ids=[photo.id, video.id],
                     body_html=f'<p>Một</p><figure data-media-id="{photo.id}"><img src="/x.jpg" alt="" '
                               f'data-media-id="{photo.id}"><figcaption>Ảnh</figcaption></figure>')
    page = ui.get(f"/admin/posts/{post.id}").get_data(as_text=True)
    assert 'id="media-warnings"' in page and "Facebook không thể cùng lúc đăng ảnh và video" in page
    assert "poster_w480.jpg" in page and "media_ids" not in page

    assert ui.client.post(f"/admin/posts/{post.id}/media/{photo.id}/remove",
                          data={"version": post.version}).status_code == 400  # no CSRF token: nothing changes
    removed = ui.post(f"/admin/posts/{post.id}/media/{photo.id}/remove", {"version": str(post.version)})
    assert removed.status_code == 302
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert [link.media_id for link in post.media_links] == [video.id]
    assert post.body_html == "<p>Một</p>"
    page = ui.get(f"/admin/posts/{post.id}").get_data(as_text=True)
    assert 'id="media-warnings"' not in page and "Đã bỏ khỏi bài" in page

    stale = ui.post(f"/admin/posts/{post.id}/media/{video.id}/remove", {"version": "1"})
    assert stale.status_code == 302
    db.session.expire_all()
    assert [link.media_id for link in db.session.get(Post, post.id).media_links] == [video.id]
