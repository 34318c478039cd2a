"""Collection: figures read over HTTP in batches, stored as snapshots, daily gains and latest totals; faults."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from publisher.db import db
from publisher.engagement.jobs import enqueue_engagement_round, job_id, round_key
from publisher.engagement.models import (
    EngagementDaily,
    EngagementMonthly,
    EngagementSnapshot,
    EngagementTotals,
    InboxComment,
)
from publisher.engagement.services import collect_engagement, due_deliveries
from tests.engagement.conftest import NOW


def figures(views: int, reactions: int = 0, comments: int = 0, shares: int | None = None, **extra) -> dict:
    values = {"post_media_view": views, "reactions": reactions, "comments": comments, **extra}
    if shares is not None:
        values["shares"] = shares
    return {"values": values}


def totals(delivery) -> EngagementTotals:
    db.session.expire_all()
    return db.session.get(EngagementTotals, delivery.id)


def test_figures_are_collected_batched_and_stored(metrics_server, make_channel, make_delivery):
    channel = make_channel()
    deliveries = [make_delivery(channel) for _ in range(7)]
    for i, d in enumerate(deliveries):
        metrics_server.figures[d.remote_id] = figures(100 + i, reactions=5, comments=1)

    result = collect_engagement(NOW)
    db.session.commit()

    assert result.updated == 7 and result.failed == 0
    assert len(metrics_server.metric_calls) == 3  # batches of 3 (the test configuration)
    row = totals(deliveries[2])
    assert (row.views, row.reactions, row.comments, row.shares) == (102, 5, 1, 0)  # missing shares count as 0
    assert row.collected_at == NOW and row.removed is False
    assert row.next_due_at == NOW + timedelta(minutes=15)  # two hours old: every 15 minutes
    snaps = db.session.scalars(select(EngagementSnapshot).where(EngagementSnapshot.delivery_id == deliveries[2].id)
                               .order_by(EngagementSnapshot.measure)).all()
    assert [(s.measure, s.value) for s in snaps] == [(1, 102), (2, 5), (3, 1)]  # zero shares: no change point
    day = db.session.get(EngagementDaily, (deliveries[2].id, NOW.date()))
    assert (day.views, day.reactions, day.comments, day.shares) == (102, 5, 1, 0)
    month = db.session.get(EngagementMonthly, (deliveries[2].id, NOW.date().replace(day=1)))
    assert month.views == 102


def test_only_due_deliveries_are_picked_by_cadence(metrics_server, make_channel, make_delivery):
    channel = make_channel()
    fresh = make_delivery(channel, published_at=NOW - timedelta(hours=2))
    week_old = make_delivery(channel, published_at=NOW - timedelta(days=3))
    old = make_delivery(channel, published_at=NOW - timedelta(days=30))
    for d in (fresh, week_old, old):
        metrics_server.figures[d.remote_id] = figures(10)
    collect_engagement(NOW)
    db.session.commit()
    assert totals(fresh).next_due_at == NOW + timedelta(minutes=15)
    assert totals(week_old).next_due_at == NOW + timedelta(hours=1)
    assert totals(old).next_due_at == NOW + timedelta(days=1)

    assert due_deliveries(NOW + timedelta(minutes=20)) == {channel.id: [fresh.id]}
    assert due_deliveries(NOW + timedelta(minutes=61)) == {channel.id: [fresh.id, week_old.id]}
    past_horizon = make_delivery(channel, published_at=NOW - timedelta(days=120))
    metrics_server.figures[past_horizon.remote_id] = figures(3)
    collect_engagement(NOW)
    db.session.commit()
    assert totals(past_horizon).next_due_at is None  # beyond 90 days: no longer collected on its own
    assert past_horizon.id not in due_deliveries(NOW + timedelta(days=400)).get(channel.id, [])
    assert past_horizon.id in due_deliveries(NOW, every_published=True)[channel.id]


def test_figures_never_go_backwards_and_failures_keep_the_last_figures(metrics_server, make_channel, make_delivery):
    channel = make_channel()
    d = make_delivery(channel)
    metrics_server.figures[d.remote_id] = figures(500, reactions=40, comments=3, shares=2)
    collect_engagement(NOW)
    db.session.commit()

    # a partial read: lower views, reactions missing altogether
    metrics_server.figures[d.remote_id] = {"values": {"post_media_view": 20, "comments": 4}}
    later = NOW + timedelta(minutes=15)
    collect_engagement(later)
    db.session.commit()
    row = totals(d)
    assert (row.views, row.reactions, row.comments, row.shares) == (500, 40, 4, 2)
    assert row.measure_states == {"reactions": "missing"}

    # the platform fails: figures stay, their age shows, the error is kept
    metrics_server.fail_next = [(500, {})]
    failed_at = later + timedelta(minutes=15)
    result = collect_engagement(failed_at, every_published=True)
    db.session.commit()
    assert result.failed == 1 and result.updated == 0
    row = totals(d)
    assert row.views == 500 and row.collected_at == later and row.attempted_at == failed_at
    assert "500" in row.last_error
    assert row.age(failed_at) == timedelta(minutes=15)
    values = db.session.scalars(select(EngagementSnapshot.value).where(
        EngagementSnapshot.delivery_id == d.id, EngagementSnapshot.measure == 1)).all()
    assert values == [500]


def test_time_out_is_a_failure_not_a_crash(metrics_server, make_channel, make_delivery):
    channel = make_channel(timeout=0.3)
    d = make_delivery(channel)
    metrics_server.figures[d.remote_id] = figures(9)
    metrics_server.delay = 1.0
    result = collect_engagement(NOW)
    db.session.commit()
    assert result.failed == 1
    assert "no answer" in totals(d).last_error


def test_rate_limit_defers_the_rest_of_the_channel(metrics_server, make_channel, make_delivery):
    channel = make_channel()
    deliveries = [make_delivery(channel) for _ in range(5)]
    for d in deliveries:
        metrics_server.figures[d.remote_id] = figures(7)
    metrics_server.fail_next = [(429, {"Retry-After": "600"})]
    result = collect_engagement(NOW)
    db.session.commit()
    assert result.deferred == 5 and result.updated == 0
    assert len(metrics_server.metric_calls) == 1  # the second batch was not even tried
    assert all(totals(d).next_due_at == NOW + timedelta(seconds=600) for d in deliveries)
    assert due_deliveries(NOW + timedelta(minutes=5)) == {}


def test_removed_remote_post_keeps_its_history(metrics_server, make_channel, make_delivery):
    channel = make_channel()
    d = make_delivery(channel)
    metrics_server.figures[d.remote_id] = figures(80, reactions=8)
    collect_engagement(NOW)
    db.session.commit()
    metrics_server.figures[d.remote_id] = {"values": {}, "removed": True}
    result = collect_engagement(NOW + timedelta(minutes=15))
    db.session.commit()
    assert result.removed == 1
    row = totals(d)
    assert row.removed and row.removed_at == NOW + timedelta(minutes=15)
    assert row.views == 80 and row.next_due_at is None
    assert db.session.scalar(select(func.count()).select_from(EngagementSnapshot)
                             .where(EngagementSnapshot.delivery_id == d.id)) == 2
    assert d.id not in due_deliveries(NOW + timedelta(days=2), every_published=True).get(channel.id, [])


def test_post_missing_from_the_answer_keeps_its_figures(metrics_server, make_channel, make_delivery):
    channel = make_channel()
    a, b = make_delivery(channel), make_delivery(channel)
    metrics_server.figures[a.remote_id] = figures(5)
    metrics_server.figures[b.remote_id] = figures(6)
    metrics_server.omit = {b.remote_id}
    result = collect_engagement(NOW)
    db.session.commit()
    assert result.updated == 1 and result.failed == 1
    assert totals(b).last_error


def test_retired_metric_shows_as_retired(app, metrics_server, make_channel, make_delivery, tmp_path):
    from publisher.engagement import config as engagement_config_module

    override = tmp_path / "retired.toml"
    override.write_text('[measures.testchannel]\nviews = ["post_impressions"]\nreactions = ["reactions"]\n'
                        'retired = ["post_impressions"]\n', encoding="utf-8")
    settings = app.extensions["publisher.settings"]
    from dataclasses import replace

    retired_settings = replace(settings, engagement_config=override)
    mapping = engagement_config_module.engagement_config(retired_settings).mapping("testchannel")
    assert mapping.state("views") == "retired"
    channel = make_channel()
    d = make_delivery(channel)
    metrics_server.figures[d.remote_id] = figures(0, reactions=3, post_impressions=999)
    collect_engagement(NOW, settings=retired_settings)
    db.session.commit()
    row = totals(d)
    assert row.views == 0 and row.reactions == 3
    assert row.measure_states.get("views") == "retired"


def test_default_mapping_follows_the_contract():
    from publisher.engagement.config import engagement_config

    config = engagement_config(None)
    fb = config.mapping("facebook").read({"post_media_view": 12, "reactions": 3, "comments": 1})
    assert fb == {"views": 12, "reactions": 3, "comments": 1, "shares": 0}
    assert config.mapping("facebook").state("views") == "ok"
    yt = config.mapping("youtube").read({"viewCount": "40", "likeCount": "4", "commentCount": "2"})
    assert yt["views"] == 40 and yt["reactions"] == 4 and yt["comments"] == 2
    assert config.batch_size("youtube") == 50


def test_comments_are_pulled_when_the_count_rises(metrics_server, make_channel, make_delivery):
    channel = make_channel()
    d = make_delivery(channel)
    metrics_server.figures[d.remote_id] = figures(10, comments=2)
    metrics_server.comments[d.remote_id] = [
        {"id": "c1", "author": "Nguyễn Văn An", "message": "Bài viết rất hay!", "created_at": "2026-06-15T02:00:00+00:00"},
        {"id": "c2", "author": "Trần Thị Bình", "message": "Cảm ơn Công đoàn", "created_at": "2026-06-15T02:30:00+00:00"},
    ]
    result = collect_engagement(NOW)
    db.session.commit()
    assert result.comments == 2
    rows = db.session.scalars(select(InboxComment).order_by(InboxComment.created_at)).all()
    assert [(c.author_name, c.post_id, c.state) for c in rows] == [("Nguyễn Văn An", d.post_id, "new"),
                                                                   ("Trần Thị Bình", d.post_id, "new")]
    # the same count again: no new fetch; a rise: only the newer comment is added
    collect_engagement(NOW + timedelta(minutes=15))
    assert len([r for r in metrics_server.requests if r.startswith("/comments")]) == 1
    metrics_server.figures[d.remote_id] = figures(10, comments=3)
    metrics_server.comments[d.remote_id].append(
        {"id": "c3", "author": "Lê Văn Cường", "message": "Đồng ý", "created_at": "2026-06-15T03:10:00+00:00",
         "parent": "c1"})
    result = collect_engagement(NOW + timedelta(minutes=30))
    db.session.commit()
    assert result.comments == 1
    reply = db.session.scalar(select(InboxComment).where(InboxComment.remote_id == "c3"))
    assert reply.parent.remote_id == "c1"


def test_periodic_round_queues_one_job_per_channel_and_a_worker_runs_it(app, metrics_server, make_channel,
                                                                         make_delivery):
    from rq import SimpleWorker

    import publisher.worker as worker_module
    from publisher.queue import get_queue, redis_connection
    from publisher.worker import AppJob

    first, second = make_channel(name="A"), make_channel(name="B")
    d1, d2, d3 = make_delivery(first), make_delivery(first), make_delivery(second)
    for d in (d1, d2, d3):
        metrics_server.figures[d.remote_id] = figures(33)
    queued = enqueue_engagement_round(NOW)
    assert queued == 3
    settings = app.extensions["publisher.settings"]
    queue = get_queue(settings, "engagement")
    assert sorted(queue.job_ids) == sorted([job_id(first.id, round_key(NOW)), job_id(second.id, round_key(NOW))])
    # claimed: a second round right after queues nothing more
    assert enqueue_engagement_round(NOW + timedelta(minutes=1)) == 0

    worker_module._app = app
    SimpleWorker([queue], connection=redis_connection(settings), job_class=AppJob).work(burst=True)
    assert all(totals(d).views == 33 for d in (d1, d2, d3))


def test_cli_collects_every_published_delivery(app, metrics_server, make_channel, make_delivery, monkeypatch):
    from click.testing import CliRunner

    import web.cli

    channel = make_channel()
    d = make_delivery(channel, published_at=NOW - timedelta(days=200))
    make_delivery(channel, state="scheduled")
    metrics_server.figures[d.remote_id] = figures(44)
    monkeypatch.setattr(web.cli, "_app", lambda: app)
    from web.reports.cli import engagement

    web.cli.cli.add_command(engagement, "engagement")
    result = CliRunner().invoke(web.cli.cli, ["engagement", "collect"])
    assert result.exit_code == 0, result.output
    assert "1 deliveries updated" in result.output
    assert totals(d).views == 44
