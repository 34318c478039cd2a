"""`publisher engagement …` commands."""

from __future__ import annotations

import click
from flask import Flask

from web.cli import with_app


@click.group()
def engagement() -> None:
    """Engagement figures from every channel."""


@engagement.command("collect")
@click.option("--due-only", is_flag=True, help="Only deliveries due by the collection cadence.")
@with_app
def collect(app: Flask, due_only: bool) -> None:
    """One engagement-collection round now, for every published delivery; prints how many were updated."""
    from publisher.engagement.jobs import run_round_inline

    result = run_round_inline(every_published=not due_only)
    click.echo(f"{result.updated} deliveries updated"
               + (f", {result.removed} removed on the platform" if result.removed else "")
               + (f", {result.failed} failed (last figures kept)" if result.failed else "")
               + (f", {result.deferred} deferred (rate limited)" if result.deferred else "")
               + (f", {result.comments} new comments" if result.comments else ""))
    for error in result.errors[:20]:
        click.echo(f"  {error}", err=True)


@engagement.command("rebuild-rollups")
@with_app
def rebuild_rollups(app: Flask) -> None:
    """Recompute the per-post and per-channel monthly and yearly roll-ups from the per-delivery months, and every
    channel's freshness from its deliveries' totals (a repair)."""
    from sqlalchemy import func, select

    from publisher.db import db
    from publisher.engagement.models import (
        EngagementChannelMonthly,
        EngagementChannelYearly,
        EngagementPostMonthly,
        EngagementPostYearly,
    )
    from publisher.engagement.services import rebuild_channel_freshness, rebuild_period_rollups

    rebuild_period_rollups()
    channels_fresh = rebuild_channel_freshness()
    db.session.commit()
    posts = db.session.scalar(select(func.count()).select_from(EngagementPostMonthly))
    channels = db.session.scalar(select(func.count()).select_from(EngagementChannelMonthly))
    years = db.session.scalar(select(func.count()).select_from(EngagementPostYearly))
    channel_years = db.session.scalar(select(func.count()).select_from(EngagementChannelYearly))
    click.echo(f"{posts} post-month rows and {channels} channel-month rows rebuilt; {years} post-year rows, "
               f"{channel_years} channel-year rows and {channels_fresh} channels' freshness rebuilt")
