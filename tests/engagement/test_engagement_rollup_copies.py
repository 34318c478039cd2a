"""The roll-ups carry copies of the delivery's channel, post and unit and of the post's campaign, so reports read
one table; the copies stay right when a post moves to another campaign or its campaign is deleted."""

from datetime import date

from sqlalchemy import select

from publisher.content.models import Campaign
from publisher.content.services import update_post
from publisher.db import db
from publisher.engagement.models import EngagementDaily, EngagementMonthly
from publisher.reports.services import Period, engagement_report, resolve_scope

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
