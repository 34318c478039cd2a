"""``publisher feeds``: news-source commands."""

from __future__ import annotations

import click
from flask import Flask

from web.cli import with_app


@click.group()
def feeds() -> None:
    """RSS/Atom news sources."""


@feeds.command("fetch")
@with_app
def feeds_fetch(app: Flask) -> None:
    """Fetch every active source now, whatever its interval, and print what was new.

    Exits 0 when the round ran, even where some sources failed (each failure is kept on its source)."""
    from publisher.feeds.jobs import run_fetch
    from publisher.feeds.services import active_sources

    source_ids = [s.id for s in active_sources()]
    total_new = failed = 0
    for source_id in source_ids:
        outcome = run_fetch(source_id)
        if outcome is None:
            continue
        name = outcome.source_name
        if outcome.status == "error":
            failed += 1
            click.echo(f"{name} (#{source_id}): failed: {outcome.message}")
            continue
        if outcome.status == "not_modified":
            click.echo(f"{name} (#{source_id}): not modified")
        else:
            click.echo(f"{name} (#{source_id}): {len(outcome.new_items)} new")
            for item in outcome.new_items:
                click.echo(f"  + {item.title or item.link}" + (f"  <{item.link}>" if item.link and item.title else ""))
        if outcome.status == "warning":
            click.echo(f"  warning: {outcome.message}")
        total_new += len(outcome.new_items)
    click.echo(f"{len(source_ids)} source(s) fetched: {total_new} new item(s), {failed} failed")
