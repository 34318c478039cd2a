"""Engagement collection and the comment inbox of a Facebook Page, with the REAL facebook-sdk against the Graph
sandbox (which refuses Graph's legacy features as for an app created after 4 November 2026): figures come in
synchronous batches, one post's failure defers that post alone, and no legacy call is made anywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.channels.base import PublishRequest
from publisher.channels.facebook import FacebookAdapter
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
from publisher.db import db, utcnow
from publisher.engagement.models import EngagementTotals, InboxComment
from publisher.engagement.services import collect_channel
from tests.channels.fb_fixtures import *  # noqa: F403  (the Graph sandbox fixtures)


@pytest.fixture
def page_channel(app, root_unit, fb_settings):  # type: ignore[no-untyped-def]
    from publisher.channels.models import Channel
    from publisher.channels.services import store_secrets

    channel = Channel(kind="facebook", name="Trang Công đoàn tỉnh", unit_id=root_unit.id,
                      settings={"page_id": DEMO_PAGE_ID}, state="connected")
    store_secrets(channel, fb_settings, {"access_token": DEMO_PAGE_TOKEN})
    db.session.add(channel)
    db.session.commit()
    return channel


def published(fb_settings, make_delivery, channel, message: str):  # type: ignore[no-untyped-def]
    fb = FacebookAdapter(fb_settings, {"page_id": DEMO_PAGE_ID}, {"access_token": DEMO_PAGE_TOKEN})
    remote_id = fb.publish(PublishRequest(post_id=0, idempotency_key=message, title=message, summary="",
                                          body_html="", slug="x", variant={"message": message})).remote_id
    return make_delivery(channel, remote_id=remote_id, published_at=utcnow() - timedelta(hours=1))


def test_collection_reads_batches_keeps_good_answers_and_defers_only_the_bad(
        fb_settings, graph_sandbox, page_channel, make_delivery):  # type: ignore[no-untyped-def]
    good, gone, limited = (published(fb_settings, make_delivery, page_channel, f"Tin Facebook {n}") for n in range(3))
    FacebookAdapter(fb_settings, {"page_id": DEMO_PAGE_ID}, {"access_token": DEMO_PAGE_TOKEN}).unpublish(gone.remote_id)
    graph_sandbox.advance(2 * 600 + 1)  # two readers' comments on each post
    graph_sandbox.rate_limit(f"/{limited.remote_id}", code=613)  # this one read answers 613 inside the batch
    now = utcnow()
    before = len(graph_sandbox.requests_seen)

    result = collect_channel(page_channel.id, [good.id, gone.id, limited.id], now, fb_settings)
    db.session.commit()

    assert (result.updated, result.removed, result.failed) == (1, 1, 1)
    figures = db.session.get(EngagementTotals, good.id)
    assert figures.views > 0 and figures.comments == 2 and figures.last_error is None
    assert db.session.get(EngagementTotals, gone.id).removed
    deferred = db.session.get(EngagementTotals, limited.id)
    assert deferred.collected_at is None and "613" in (deferred.last_error or "")
    assert deferred.next_due_at is not None and deferred.next_due_at >= now + timedelta(seconds=60)
    # the inbox got the good post's comments (their count rose); the metrics were one batch, no ?ids=
    authors = db.session.scalars(select(InboxComment.author_name).where(InboxComment.delivery_id == good.id)).all()
    assert len(authors) == 2
    metric_calls = [r for r in graph_sandbox.requests_seen[before:] if r[1] == "POST" and r[2] == "/v27.0/"]
    assert len(metric_calls) == 1
    assert not any("ids=" in r[2] for r in graph_sandbox.requests_seen)

    # the next round (the limit has passed) reads the deferred post too
    result = collect_channel(page_channel.id, [good.id, limited.id], now + timedelta(minutes=15), fb_settings)
    db.session.commit()
    db.session.expire_all()
    assert result.failed == 0
    assert db.session.get(EngagementTotals, limited.id).views > 0
    assert graph_sandbox.legacy_refused == []
