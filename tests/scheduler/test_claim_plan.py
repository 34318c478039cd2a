"""The woken workers' claim on PostgreSQL reads only the rows it takes: with a campaign's thousands due at one
second, each claim of fifty is an index scan in due order that stops after fifty, not a join with every approved
post and a sort of every due delivery (which made each claim cost as much as all the due rows together).

Skipped unless PUBLISHER_DATABASE_URL names PostgreSQL (CI sets it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql

from publisher.db import db, utcnow
from publisher.scheduler import pipeline
from publisher.scheduler.models import Delivery
from publisher.scheduler.services import new_idempotency_key
from tests.conftest import DATABASE_URL

pytestmark = pytest.mark.skipif(not (DATABASE_URL and DATABASE_URL.startswith("postgres")),
                                reason="needs a PostgreSQL PUBLISHER_DATABASE_URL")


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan] + [node for child in plan.get("Plans", []) for node in _nodes(child)]


def _plan(statement: Any) -> list[dict[str, Any]]:
    sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    [[explained]] = db.session.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).all()
    return _nodes(explained[0]["Plan"])


def test_a_claim_of_fifty_reads_fifty_due_rows_however_many_are_due(app, make_post, make_channel):  # type: ignore[no-untyped-def]
    channel = make_channel()
    posts = [make_post(state="approved", title=f"Tin {i}") for i in range(30)]  # approved posts the claim must not scan
    db.session.commit()
    ahead = utcnow() + timedelta(hours=1)
    db.session.execute(insert(Delivery), [
        {"post_id": posts[i % 30].id, "channel_id": channel.id, "unit_id": channel.unit_id, "state": "scheduled",
         "scheduled_at": ahead, "version": 1, "post_version": 1, "attempts": 0,
         "idempotency_key": new_idempotency_key(), "warnings": [], "needs_lookup": False, "created_at": utcnow(),
         "updated_at": utcnow()} for i in range(600)])
    db.session.commit()
    # The statistics are taken while they wait, as autovacuum would; then their second comes.
    db.session.execute(text("ANALYZE deliveries"))
    db.session.execute(text("ANALYZE posts"))
    due = (utcnow() - timedelta(seconds=1)).replace(microsecond=0)
    db.session.execute(Delivery.__table__.update().values(scheduled_at=due))
    db.session.commit()

    claim = pipeline.due_in_order(utcnow(), 50).with_for_update(of=Delivery.__table__, skip_locked=True)
    nodes = _plan(claim)
    db.session.rollback()
    assert not [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort", "Hash Join", "Hash")], nodes
    read = [n for n in nodes if n.get("Relation Name") == "deliveries"]
    assert read and all(n["Actual Rows"] <= 50 for n in read), read
    assert sum(n["Actual Rows"] * n.get("Actual Loops", 1) for n in nodes
               if n.get("Relation Name") == "posts") <= 50  # one look-up by key per row taken

    # And the claim itself takes the oldest fifty, each once.
    ids = pipeline.claim_due("plan-test", 50)
    assert len(ids) == len(set(ids)) == 50
