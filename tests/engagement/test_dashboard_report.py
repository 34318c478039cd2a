"""The dashboard's report: the same figures as the full report, but only the top posts (PostgreSQL returns only
those); the channels' freshness read from the totals' own copies of channel and unit."""

from datetime import date

import pytest
from sqlalchemy import select

from publisher.db import db
from publisher.engagement.models import EngagementTotals
from publisher.reports.services import (
    DASHBOARD_TOP_POSTS,
    Period,
    channel_freshness,
    dashboard_report,
    engagement_report,
    resolve_scope,
)

JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))
ACROSS_MONTHS = Period(date(2026, 5, 20), date(2026, 7, 5))  # edge days from the daily roll-up, June from the monthly
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))  # a calendar year: the top posts from the per-post years


@pytest.mark.parametrize("period", [JUNE, ACROSS_MONTHS, YEAR], ids=["month", "across-months", "year"])
def test_top_posts_are_the_head_of_the_full_list(app, seeded, period):
    scope = resolve_scope(seeded["editor"], include_sub_units=True)
    full = engagement_report(scope, period, trend_bucket="auto")
    assert len(full["by_post"]) == 3
    for n in (1, 2, 5):
        top = engagement_report(scope, period, trend_bucket="auto", top_posts=n)
        assert top["by_post"] == full["by_post"][:n]
        for key in ("totals", "by_channel", "by_unit", "by_campaign", "trend", "previous"):
            assert top[key] == full[key], key
    assert full["by_post"][0]["title"] == "Ngày hội Công nhân"


@pytest.mark.parametrize("who, sub_units, in_campaign", [("editor", True, False), ("editor", False, False),
                                                         ("editor", False, True), ("child_editor", True, False)])
def test_a_years_top_posts_are_the_head_of_its_full_list_in_every_scope(app, seeded, who, sub_units, in_campaign):
    scope = resolve_scope(seeded[who], include_sub_units=sub_units,
                          campaign_id=seeded["campaign"].id if in_campaign else None)
    full = engagement_report(scope, YEAR)
    assert full["by_post"]
    for n in (1, 10):
        assert engagement_report(scope, YEAR, top_posts=n)["by_post"] == full["by_post"][:n]
    report, freshness = dashboard_report(scope, YEAR)
    assert report["by_post"] == full["by_post"][:DASHBOARD_TOP_POSTS]
    assert freshness == channel_freshness(scope)


@pytest.mark.parametrize("who, sub_units", [("editor", True), ("editor", False), ("child_editor", True)])
def test_a_calendar_years_report_equals_the_same_figures_read_from_its_months(app, seeded, who, sub_units):
    """A calendar year reads its channels' and units' figures from the per-channel years and its top posts from
    the per-post years; a day more (no figures on it) is read from the months and the days: the same figures."""
    scope = resolve_scope(seeded[who], include_sub_units=sub_units)
    longer = Period(date(2025, 12, 31), YEAR.end)
    for top_posts in (None, 10):
        year = engagement_report(scope, YEAR, top_posts=top_posts)
        months = engagement_report(scope, longer, top_posts=top_posts)
        for key in ("totals", "by_channel", "by_post", "by_campaign", *(("by_unit",) if sub_units else ())):
            assert year[key] == months[key], key
    assert year["totals"]["views"]
    assert dashboard_report(scope, YEAR)[0]["trend"]["series"][5]["views"] == JUNE_VIEWS[(who, sub_units)]


JUNE_VIEWS = {("editor", True): 207, ("editor", False): 200, ("child_editor", True): 7}


def test_no_posts_asked_keeps_every_other_breakdown(app, seeded):
    scope = resolve_scope(seeded["editor"])
    full = engagement_report(scope, JUNE)
    none = engagement_report(scope, JUNE, top_posts=0)
    assert none["by_post"] == []
    assert none["by_campaign"] == full["by_campaign"] and none["by_campaign"]
    assert none["totals"] == full["totals"] == {"views": 200, "reactions": 2, "comments": 0, "shares": 0}
    assert sum(c["totals"]["views"] for c in none["by_channel"]) == 200


def test_dashboard_report_lists_the_top_posts_and_the_freshness(app, seeded):
    scope = resolve_scope(seeded["editor"], include_sub_units=True)
    report, freshness = dashboard_report(scope, JUNE)
    assert len(report["by_post"]) <= DASHBOARD_TOP_POSTS
    assert [p["title"] for p in report["by_post"]] == ["Ngày hội Công nhân", "Tuyên truyền an toàn lao động",
                                                        "Hội nghị người lao động"]
    assert {u["unit_id"]: u["totals"]["views"] for u in report["by_unit"]}[seeded["child"].id] == 7
    assert set(freshness) == {seeded["a"].id, seeded["b"].id, seeded["c"].id}


def test_totals_carry_their_delivery_channel_and_unit(app, seeded):
    rows = list(db.session.scalars(select(EngagementTotals)))
    assert len(rows) == 4
    for row in rows:
        delivery = next(d for d in seeded["deliveries"] if d.id == row.delivery_id)
        assert (row.channel_id, row.unit_id) == (delivery.channel_id, delivery.unit_id)
    own = channel_freshness(resolve_scope(seeded["editor"]))
    assert set(own) == {seeded["a"].id, seeded["b"].id}
    assert own[seeded["a"].id]["oldest"] is not None
    child = channel_freshness(resolve_scope(seeded["child_editor"]))
    assert set(child) == {seeded["c"].id}


def test_a_statement_built_for_one_report_gives_every_other_of_its_shape_its_own_figures(app, seeded):
    """PostgreSQL builds the breakdown statement once per shape (which views, which period bounds, which kind of
    scope) and binds each report's own days, units, campaign and number of posts: reports run after another of
    the same shape equal what a statement built for them alone gives."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs a statement of its own per report")
    from publisher.reports import services

    may = Period(date(2026, 5, 1), date(2026, 5, 31))
    july_edges = Period(date(2026, 6, 20), date(2026, 8, 3))  # edge days both sides, like ACROSS_MONTHS
    asks = [
        (resolve_scope(seeded["editor"]), JUNE, 10),
        (resolve_scope(seeded["child_editor"]), JUNE, 10),  # another unit, same shape
        (resolve_scope(seeded["editor"]), may, 1),  # another month, another number of posts
        (resolve_scope(seeded["editor"], campaign_id=seeded["campaign"].id), JUNE, 10),
        (resolve_scope(seeded["editor"], campaign_id=seeded["campaign"].id), may, 10),
        (resolve_scope(seeded["editor"], include_sub_units=True), ACROSS_MONTHS, 2),
        (resolve_scope(seeded["editor"], include_sub_units=True), july_edges, 2),
        (resolve_scope(seeded["child_editor"], include_sub_units=True), ACROSS_MONTHS, 10),
        (resolve_scope(seeded["child_editor"], include_sub_units=True), JUNE, 10),
    ]
    services._BREAKDOWN_STATEMENTS.clear()
    shared = [engagement_report(scope, period, trend_bucket="auto", top_posts=n) for scope, period, n in asks]
    assert len(services._BREAKDOWN_STATEMENTS) < len(asks)  # statements were shared
    for (scope, period, n), report in zip(asks, shared, strict=True):
        services._BREAKDOWN_STATEMENTS.clear()
        assert report == engagement_report(scope, period, trend_bucket="auto", top_posts=n), (scope.unit.name, period)
    assert len({r["totals"]["views"] for r in shared}) >= 5  # the asks differ in their figures
