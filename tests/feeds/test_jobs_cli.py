"""Jobs on RQ (due fetches queued once, the fetch job idempotent), auto-drafts, and `publisher feeds fetch`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from rq import SimpleWorker

from publisher.content.models import Post
from publisher.db import db, utcnow
from publisher.feeds import jobs
from publisher.feeds.jobs import PERIODIC, enqueue_due_fetches, fetch_source, run_fetch
from publisher.feeds.models import Item, Source
from publisher.queue import get_queue, redis_connection


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where)) or 0


def test_fetch_job_is_idempotent(feed_server, make_source):
    source = make_source(feed_server.url("/rss1.rdf"))
    assert fetch_source(source.id) == {"source_id": source.id, "status": "ok", "new": 2, "error": None}
    assert fetch_source(source.id)["new"] == 0
    assert count(Item) == 2
    assert fetch_source(999999) == {"source_id": 999999, "skipped": True}
    paused = make_source(feed_server.url("/atom.xml"), active=False)
    assert fetch_source(paused.id) == {"source_id": paused.id, "skipped": True}
    assert fetch_source(paused.id, force=True)["new"] == 1  # "fetch now" also works for an inactive source


def test_due_sources_are_queued_once_and_run_by_a_worker(app, settings, feed_server, make_source):
    due = make_source(feed_server.url("/atom.xml"))
    fresh = make_source(feed_server.url("/rss1.rdf"))
    fresh.last_fetch_at = utcnow()
    inactive = make_source(feed_server.url("/rss2.xml"), active=False)
    db.session.commit()
    assert enqueue_due_fetches() == 1
    assert enqueue_due_fetches() == 0  # same source, same due time: not queued twice
    queue = get_queue(settings, "feeds")
    assert queue.job_ids == [jobs.job_id_for(due.id, due.created_at)]
    SimpleWorker([queue], connection=redis_connection(settings)).work(burst=True)
    db.session.expire_all()
    assert db.session.get(Source, due.id).last_fetch_status == "ok"
    assert count(Item, Item.source_id == due.id) == 1
    assert count(Item, Item.source_id.in_([fresh.id, inactive.id])) == 0
    # Just fetched: not due again until its interval has passed.
    assert enqueue_due_fetches() == 0
    source = db.session.get(Source, due.id)
    source.last_fetch_at = utcnow() - timedelta(minutes=source.fetch_interval_minutes + 1)
    db.session.commit()
    assert enqueue_due_fetches() == 1
    assert PERIODIC and PERIODIC[0][1] is enqueue_due_fetches


def test_auto_draft_makes_drafts_never_published(feed_server, make_source):
    source = make_source(feed_server.url("/rss2.xml"), auto_draft=True, name="Báo Lao Động")
    outcome = run_fetch(source.id)
    assert outcome.status == "ok", outcome.message
    posts = list(db.session.scalars(db.select(Post).order_by(Post.id)))
    assert len(posts) == 3
    assert {p.state for p in posts} == {"draft"}
    assert {p.unit_id for p in posts} == {source.unit_id}
    assert all(p.source_name == "Báo Lao Động" and p.source_url.startswith("https://laodong.example/") for p in posts)
    assert all("Nguồn: <a href=" in p.body_html for p in posts)
    assert count(Item, Item.draft_post_id.is_(None)) == 0
    # Fetching again makes no new drafts.
    feed_server.routes["/rss2.xml"].etag = None
    run_fetch(source.id)
    assert count(Post) == 3


def test_auto_draft_without_a_usable_author_is_reported(feed_server, make_source):

    source = make_source(feed_server.url("/atom.xml"), auto_draft=True)
    author = source.created_by
    author.active = False
    db.session.commit()
    outcome = run_fetch(source.id)
    assert outcome.status == "warning" and outcome.error_code == "auto_draft_no_author"
    assert count(Item) == 1 and count(Post) == 0


@pytest.fixture
def cli(app, monkeypatch):  # type: ignore[no-untyped-def]
    import web.cli
    from web.feeds_cli import feeds

    monkeypatch.setattr(web.cli, "_app", lambda: app)

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(web.cli.cli, ["feeds", *args])

    if "feeds" not in web.cli.cli.commands:
        web.cli.cli.add_command(feeds, "feeds")
    return run


def test_cli_fetch_prints_what_was_new_and_exits_0_even_with_failures(cli, feed_server, make_source):
    good = make_source(feed_server.url("/rss1.rdf"), name="Cổng thông tin tỉnh", fetch_interval_minutes=600)
    good.last_fetch_at = utcnow()  # not due: fetched anyway
    make_source(feed_server.url("/missing.xml"), name="Trang đã xoá")
    make_source(feed_server.url("/atom.xml"), name="Nguồn tạm dừng", active=False)
    db.session.commit()
    result = cli("fetch")
    assert result.exit_code == 0, result.output
    assert "Cổng thông tin tỉnh" in result.output and "2 new" in result.output
    assert "+ Hội nghị tổng kết năm" in result.output
    assert "Trang đã xoá" in result.output and "404" in result.output
    assert "Nguồn tạm dừng" not in result.output
    assert "2 source(s) fetched: 2 new item(s), 1 failed" in result.output
    again = cli("fetch")
    assert again.exit_code == 0
    assert "0 new item(s)" in again.output


def test_cli_is_registered():
    from web.cli import EXTRA_COMMANDS

    assert ("feeds", "web.feeds_cli:feeds") in EXTRA_COMMANDS
