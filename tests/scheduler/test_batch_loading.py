"""A batch reads what its requests are built from in a fixed number of statements, however many posts it carries: a
campaign kit pushed down the tree puts one post per unit in each batch, each with its own cover and the
campaign's hashtags, and a look-up per post (the cover, the campaign) would grow every batch by one statement per
post."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import event

from publisher.content.media import MediaLimits, save_upload
from publisher.db import db
from publisher.scheduler import pipeline
from tests.conftest import image_bytes
from tests.scheduler.conftest import soon


def test_a_batch_reads_its_posts_covers_and_campaigns_in_a_fixed_number_of_statements(  # type: ignore[no-untyped-def]
        app, settings, make_post, make_campaign, make_channel, make_user, schedule, platform):
    channel = make_channel()
    campaign = make_campaign()
    editor = make_user("editor")
    limits = MediaLimits(settings.max_image_mb * 2**20, settings.max_video_mb * 2**20)
    made = iter(range(1000))

    def publish_batch(n: int) -> list[str]:
        deliveries = []
        for _ in range(n):
            i = next(made)
            cover = save_upload(io.BytesIO(image_bytes(size=(64, 40))), f"anh-{i}.jpg", editor, settings.media_dir,
                                limits, caption=f"Ảnh {i}", alt_text="Đoàn viên")
            post = make_post(state="approved", title=f"Tin đơn vị {i}", campaign_id=campaign.id,
                             cover_media_id=cover.id)  # a cover of its own, not among the attached media
            deliveries += schedule(post, [channel], at=soon(3600))
        pairs = [(d.id, d.version) for d in deliveries]
        db.session.commit()
        db.session.expunge_all()  # a worker has none of these loaded
        statements: list[str] = []

        def keep(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.startswith("SELECT") and any(
                    name in statement for name in ("FROM posts", "post_variants", "media_items", "campaigns")):
                statements.append(statement)  # what the batch's requests are built from

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            outcomes = pipeline.publish_deliveries(pairs, now=soon(7200))
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        assert outcomes == {"published": n}
        return statements

    publish_batch(1)  # the worker's adapter for the channel and the like, loaded once
    two, six = publish_batch(2), publish_batch(6)
    assert len(six) == len(two) == 3, "\n".join(s[:150] for s in six)  # posts, their variants, their media
    requests = {key: post for key, post in platform.posts.items()}
    assert len(requests) == 9 and all("Tin đơn vị" in post["text"] for post in requests.values())
