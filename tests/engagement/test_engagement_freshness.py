"""Each channel's freshness (the oldest and newest figures' times, failing reads, removed posts) is kept by the
collector in ``engagement_channel_freshness``, equal at every moment to what an aggregate over the channel's
deliveries' totals gives; rebuilding it (``publisher engagement rebuild-rollups``) gives the same rows."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from publisher.db import db
from publisher.engagement.models import EngagementChannelFreshness, EngagementTotals
from publisher.engagement.services import collect_channel, collect_engagement, rebuild_channel_freshness
from tests.conftest import race_for_a_row_lock
from tests.engagement.conftest import NOW


def _kept() -> dict[int, tuple]:
    return {r.channel_id: (r.unit_id, r.oldest, r.newest, r.failing, r.removed)
            for r in db.session.scalars(select(EngagementChannelFreshness))}


def _from_totals() -> dict[int, tuple]:
    """The same figures aggregated over every delivery's totals (what the reports used to read)."""
    out: dict[int, list] = {}
    for t in db.session.scalars(select(EngagementTotals)):
        entry = out.setdefault(t.channel_id, [t.unit_id, None, None, 0, 0])
        if t.collected_at is not None:
            entry[1] = t.collected_at if entry[1] is None else min(entry[1], t.collected_at)
            entry[2] = t.collected_at if entry[2] is None else max(entry[2], t.collected_at)
        entry[3] += t.last_error is not None
        entry[4] += bool(t.removed)
    return {channel_id: tuple(entry) for channel_id, entry in out.items()}


def test_the_collector_keeps_each_channels_freshness(app, seeded):
    kept = _kept()
    assert kept == _from_totals()
    assert set(kept) == {seeded["a"].id, seeded["b"].id, seeded["c"].id}
    unit, oldest, newest, failing, removed = kept[seeded["a"].id]
    assert unit == seeded["a"].unit_id and oldest == newest == datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
    assert (failing, removed) == (0, 0)


def test_failing_reads_and_removed_posts_show_in_the_channels_freshness(app, metrics_server, make_channel,
                                                                        make_delivery):
    channel = make_channel()
    first, second = make_delivery(channel), make_delivery(channel)
    metrics_server.figures[first.remote_id] = {"values": {"post_media_view": 10}}
    metrics_server.figures[second.remote_id] = {"values": {"post_media_view": 20}}
    collect_engagement(NOW, every_published=True)
    db.session.commit()
    assert _kept() == _from_totals() == {channel.id: (channel.unit_id, NOW, NOW, 0, 0)}

    later = NOW + timedelta(hours=1)
    metrics_server.fail_next = [(500, {})]  # the whole batch fails: figures and their times stay
    collect_engagement(later, every_published=True)
    db.session.commit()
    assert _kept() == _from_totals() == {channel.id: (channel.unit_id, NOW, NOW, 2, 0)}

    metrics_server.figures[first.remote_id] = {"values": {}, "removed": True}
    metrics_server.figures[second.remote_id] = {"values": {"post_media_view": 25}}
    collect_channel(channel.id, [first.id, second.id], later + timedelta(hours=1))  # a channel's job
    db.session.commit()
    assert _kept() == _from_totals() == {channel.id: (channel.unit_id, NOW, later + timedelta(hours=1), 0, 1)}


def test_a_channel_without_totals_has_no_freshness_row(app, make_channel):
    make_channel()
    collect_engagement(NOW, every_published=True)
    db.session.commit()
    assert _kept() == {}


def test_rebuilding_the_freshness_gives_what_the_collector_kept(app, seeded):
    kept = _kept()
    db.session.execute(EngagementChannelFreshness.__table__.delete())
    rebuild_channel_freshness()
    db.session.commit()
    db.session.expire_all()
    assert _kept() == kept


def test_cli_rebuilds_the_freshness_and_the_post_years(app, seeded, monkeypatch):
    from click.testing import CliRunner

    import web.cli
    from publisher.engagement.models import EngagementPostYearly
    from web.reports.cli import engagement

    kept = _kept()
    years = db.session.scalar(select(db.func.count()).select_from(EngagementPostYearly))
    db.session.execute(EngagementChannelFreshness.__table__.delete())
    db.session.execute(EngagementPostYearly.__table__.delete())
    db.session.commit()
    monkeypatch.setattr(web.cli, "_app", lambda: app)
    web.cli.cli.add_command(engagement, "engagement")
    result = CliRunner().invoke(web.cli.cli, ["engagement", "rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert f"{years} post-year rows, " in result.output
    assert f" channel-year rows and {len(kept)} channels' freshness rebuilt" in result.output
    db.session.expire_all()
    assert _kept() == kept


def test_of_two_jobs_of_one_channel_the_second_reads_what_the_first_committed(app, metrics_server, make_channel,
                                                                             make_delivery):
    """PostgreSQL: a job of a channel has collected (flushed, not committed) when a second job of the same channel
    collects other deliveries; the second waits for the first's freshness row, then reads both jobs' totals."""
    import pytest

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks between two transactions: PostgreSQL")
    channel = make_channel()
    first, second = make_delivery(channel), make_delivery(channel)
    for delivery, views in ((first, 10), (second, 20)):
        metrics_server.figures[delivery.remote_id] = {"values": {"post_media_view": views}}
    collect_engagement(NOW, every_published=True)
    db.session.commit()
    metrics_server.figures[first.remote_id] = {"values": {"post_media_view": 15}}
    metrics_server.figures[second.remote_id] = {"values": {"post_media_view": 25}}
    # Another month and year for the second job: the two share no roll-up row, only the channel's freshness
    at_first, at_second = NOW + timedelta(hours=1), datetime(2027, 1, 10, 3, 0, tzinfo=UTC)
    channel_id, unit_id, first_id, second_id = channel.id, channel.unit_id, first.id, second.id
    race_for_a_row_lock(app, lambda: collect_channel(channel_id, [first_id], at_first),
                        lambda: collect_channel(channel_id, [second_id], at_second),
                        "the second job never waited for the first's freshness row")
    db.session.expire_all()
    assert _kept() == _from_totals() == {channel_id: (unit_id, at_first, at_second, 0, 0)}
