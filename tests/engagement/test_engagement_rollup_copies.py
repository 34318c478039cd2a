"""The roll-ups carry copies of the delivery's channel, post and unit and of the post's campaign, so reports read
one table; the copies stay right when a post moves to another campaign or its campaign is deleted. The per-post
and per-channel monthly roll-ups always hold the sums of the per-delivery monthly rows."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from publisher.content.models import Campaign
from publisher.content.services import update_post
from publisher.db import db
from publisher.engagement.config import MEASURES
from publisher.engagement.models import (
    EngagementChannelMonthly,
    EngagementChannelYearly,
    EngagementDaily,
    EngagementMonthly,
    EngagementPostMonthly,
    EngagementPostYearly,
)
from publisher.engagement.services import collect_engagement, rebuild_period_rollups
from publisher.reports.services import Period, engagement_report, resolve_scope
from tests.conftest import race_for_a_row_lock

JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))


def _campaign_views(report):
    return {c["campaign_id"]: c["totals"]["views"] for c in report["by_campaign"]}


def test_rollups_carry_their_delivery_coordinates(app, seeded):
    for model in (EngagementDaily, EngagementMonthly):
        rows = list(db.session.scalars(select(model)))
        assert rows
        for row in rows:
            delivery = next(d for d in seeded["deliveries"] if d.id == row.delivery_id)
            assert (row.channel_id, row.post_id, row.unit_id) == (delivery.channel_id, delivery.post_id,
                                                                  delivery.unit_id)
            assert row.campaign_id == delivery.post.campaign_id


def test_reports_follow_a_post_into_another_campaign(app, seeded, make_campaign):
    editor = seeded["editor"]
    scope = resolve_scope(editor)
    before = _campaign_views(engagement_report(scope, JUNE))
    assert before[seeded["campaign"].id] == 150 + 10  # post1: 150 on channel A, 10 on channel B in June
    assert before[None] == 40

    other = make_campaign(editor, name="An toàn vệ sinh lao động")
    post2 = seeded["post2"]
    update_post(post2, editor, {"campaign_id": other.id}, post2.version)
    db.session.commit()
    after = _campaign_views(engagement_report(resolve_scope(editor), JUNE))
    assert after == {seeded["campaign"].id: 160, other.id: 40}
    in_campaign = engagement_report(resolve_scope(editor, campaign_id=other.id), JUNE)
    assert in_campaign["totals"]["views"] == 40
    assert [p["title"] for p in in_campaign["by_post"]] == ["Tuyên truyền an toàn lao động"]

    update_post(post2, editor, {"campaign_id": None}, post2.version)
    db.session.commit()
    assert _campaign_views(engagement_report(resolve_scope(editor), JUNE)) == {seeded["campaign"].id: 160, None: 40}


def test_a_deleted_campaign_leaves_its_figures_without_campaign(app, seeded):
    campaign = seeded["campaign"]
    db.session.delete(db.session.get(Campaign, campaign.id))
    db.session.commit()
    report = engagement_report(resolve_scope(seeded["editor"]), JUNE)
    assert _campaign_views(report) == {None: 200}
    assert report["totals"]["views"] == 200


def _shared_rollups():
    """The per-post rows as {(post, month): (unit, campaign, *measures)}, the per-channel rows as
    {(month, channel, unit, campaign key): measures} and the per-post years as {(post, year): (unit, campaign,
    *measures)}."""
    posts = {(r.post_id, r.month): (r.unit_id, r.campaign_id, *[getattr(r, m) for m in MEASURES])
             for r in db.session.scalars(select(EngagementPostMonthly))}
    channels = {(r.month, r.channel_id, r.unit_id, r.campaign_key): tuple(getattr(r, m) for m in MEASURES)
                for r in db.session.scalars(select(EngagementChannelMonthly))}
    years = {(r.post_id, r.year): (r.unit_id, r.campaign_id, *[getattr(r, m) for m in MEASURES])
             for r in db.session.scalars(select(EngagementPostYearly))}
    channel_years = {(r.year, r.channel_id, r.unit_id): tuple(getattr(r, m) for m in MEASURES)
                     for r in db.session.scalars(select(EngagementChannelYearly))}
    return posts, channels, years, channel_years


def _sums_of_monthly():
    m = EngagementMonthly
    sums = [func.sum(getattr(m, name)) for name in MEASURES]
    posts = {(post_id, month): (unit_id, campaign_id, *[int(v) for v in values])
             for post_id, month, unit_id, campaign_id, *values in db.session.execute(
                 select(m.post_id, m.month, m.unit_id, m.campaign_id, *sums)
                 .group_by(m.post_id, m.month, m.unit_id, m.campaign_id))}
    channels = {(month, channel_id, unit_id, campaign_id or 0): tuple(int(v) for v in values)
                for month, channel_id, unit_id, campaign_id, *values in db.session.execute(
                    select(m.month, m.channel_id, m.unit_id, m.campaign_id, *sums)
                    .group_by(m.month, m.channel_id, m.unit_id, m.campaign_id))}
    years: dict[tuple[int, int], tuple] = {}
    for (post_id, month), (unit_id, campaign_id, *values) in posts.items():
        old = years.get((post_id, month.year), (unit_id, campaign_id, *[0] * len(MEASURES)))
        years[(post_id, month.year)] = (unit_id, campaign_id, *[a + b for a, b in zip(old[2:], values, strict=True)])
    channel_years: dict[tuple[int, int, int], tuple] = {}
    for (month, channel_id, unit_id, _key), values in channels.items():
        old = channel_years.get((month.year, channel_id, unit_id), (0,) * len(MEASURES))
        channel_years[(month.year, channel_id, unit_id)] = tuple(a + b for a, b in zip(old, values, strict=True))
    return posts, channels, years, channel_years


def test_the_collector_keeps_per_post_and_per_channel_months_equal_to_the_delivery_months(app, seeded):
    posts, channels, years, channel_years = _shared_rollups()
    assert (posts, channels, years, channel_years) == _sums_of_monthly()
    assert channel_years[(2026, seeded["a"].id, seeded["a"].unit_id)][0] == 300 + 40  # post 1 from May to July, post 2
    assert years[(seeded["post1"].id, 2026)][:3] == (seeded["post1"].unit_id, seeded["campaign"].id, 300 + 10)
    d1, _d2, d3, _d4 = seeded["deliveries"]
    june = date(2026, 6, 1)
    # post 1 in June: 150 views on channel A (100 -> 250 across 1 June) + 10 on channel B, 2 reactions on B
    assert posts[(seeded["post1"].id, june)][:4] == (seeded["post1"].unit_id, seeded["campaign"].id, 160, 2)
    assert channels[(june, seeded["b"].id, d3.unit_id, seeded["campaign"].id)][:2] == (10, 2)
    assert channels[(june, seeded["a"].id, d1.unit_id, 0)][0] == 40  # post 2: outside any campaign


def test_moving_a_post_between_campaigns_moves_its_months_in_the_shared_rollups(app, seeded, make_campaign):
    editor = seeded["editor"]
    other = make_campaign(editor, name="An toàn vệ sinh lao động")
    post1 = seeded["post1"]
    update_post(post1, editor, {"campaign_id": other.id}, post1.version)
    db.session.commit()
    posts, channels, years, channel_years = _shared_rollups()
    assert (posts, channels, years, channel_years) == _sums_of_monthly()
    assert years[(post1.id, 2026)][1] == other.id
    assert not [key for key in channels if key[3] == seeded["campaign"].id]  # nothing left behind, not even zeros
    update_post(post1, editor, {"campaign_id": None}, post1.version)
    db.session.commit()
    assert _shared_rollups() == _sums_of_monthly()


def test_rebuilding_the_shared_rollups_gives_what_the_collector_wrote(app, seeded):
    collected = _shared_rollups()
    db.session.execute(EngagementPostMonthly.__table__.delete())
    db.session.execute(EngagementChannelMonthly.__table__.delete())
    db.session.execute(EngagementPostYearly.__table__.delete())
    db.session.execute(EngagementChannelYearly.__table__.delete())
    rebuild_period_rollups()
    db.session.commit()
    assert _shared_rollups() == collected


def test_cli_rebuilds_shared_rollups_that_drifted(app, seeded, monkeypatch):
    from click.testing import CliRunner

    import web.cli
    from web.reports.cli import engagement

    collected = _shared_rollups()
    row = db.session.scalars(select(EngagementChannelMonthly)).first()
    row.views += 1000  # drifted (say, a hand edit in the database)
    db.session.execute(EngagementPostMonthly.__table__.delete())
    db.session.execute(EngagementPostYearly.__table__.delete())
    db.session.execute(EngagementChannelYearly.__table__.delete())
    db.session.commit()
    assert _shared_rollups() != collected
    monkeypatch.setattr(web.cli, "_app", lambda: app)
    web.cli.cli.add_command(engagement, "engagement")
    result = CliRunner().invoke(web.cli.cli, ["engagement", "rebuild-rollups"])
    assert result.exit_code == 0, result.output
    assert f"{len(collected[0])} post-month rows and {len(collected[1])} channel-month rows rebuilt" in result.output
    assert f"{len(collected[2])} post-year rows, {len(collected[3])} channel-year rows" in result.output
    db.session.expire_all()
    assert _shared_rollups() == collected


def test_a_posts_gains_fall_into_the_year_of_their_local_day(app, metrics_server, make_channel, make_delivery):
    channel = make_channel()
    delivery = make_delivery(channel, published_at=datetime(2026, 12, 31, 10, 0, tzinfo=UTC))
    for at, views in ((datetime(2026, 12, 31, 16, 0, tzinfo=UTC), 100),  # 23:00 on 31 December in Hanoi
                      (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), 130)):  # 00:30 on 1 January 2027 in Hanoi
        metrics_server.figures[delivery.remote_id] = {"values": {"post_media_view": views}}
        collect_engagement(at, every_published=True)
        db.session.commit()
    years = _shared_rollups()[2]
    assert {key: row[2] for key, row in years.items()} == {(delivery.post_id, 2026): 100, (delivery.post_id, 2027): 30}
    assert years == _sums_of_monthly()[2]
    assert {key[0]: row[0] for key, row in _shared_rollups()[3].items()} == {2026: 100, 2027: 30}
    assert _shared_rollups()[3] == _sums_of_monthly()[3]


def test_a_post_moved_while_a_collection_holds_its_rows_takes_that_collections_gains(app, seeded, make_campaign,
                                                                                      metrics_server):
    """PostgreSQL: a collection job has written a post's gains but not committed; an editor moves the post to
    another campaign meanwhile. The move waits for the job, then moves what the job committed too."""
    from datetime import UTC, datetime

    import pytest

    from publisher.accounts.models import User
    from publisher.content.models import Post
    from publisher.engagement.services import collect_channel

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks between two transactions: PostgreSQL")
    d1 = seeded["deliveries"][0]
    other = make_campaign(seeded["editor"], name="An toàn vệ sinh lao động")
    post_id, editor_id, channel_id, other_id = seeded["post1"].id, seeded["editor"].id, seeded["a"].id, other.id
    metrics_server.figures[d1.remote_id] = {"values": {"post_media_view": 400}}  # +100 on 20 June
    d1_id = d1.id

    def move() -> None:
        post = db.session.get(Post, post_id)
        update_post(post, db.session.get(User, editor_id), {"campaign_id": other_id}, post.version)

    # the collection flushed, not committed, while the editor moves the post
    race_for_a_row_lock(app, lambda: collect_channel(channel_id, [d1_id], datetime(2026, 6, 20, 3, 0, tzinfo=UTC)),
                        move, "the editor never waited for the collection's rows")
    db.session.expire_all()
    assert _shared_rollups() == _sums_of_monthly()
    june = _campaign_views(engagement_report(resolve_scope(seeded["editor"]), JUNE))
    assert june == {other_id: 150 + 10 + 100, None: 40}
