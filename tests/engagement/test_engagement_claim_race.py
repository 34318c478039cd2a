"""Two schedulers (or an overlapping round) may plan the same deliveries at once: the second one's claim finds the
latest-totals row that the first inserted after it looked, and must take it rather than fail the whole round on
the table's key (before: UniqueViolation pk_engagement_totals, and nothing queued until the next interval).

Skipped unless PUBLISHER_DATABASE_URL names PostgreSQL (CI sets it): SQLite lets one writer in at a time."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, insert, select

from publisher.db import db
from publisher.engagement.models import EngagementTotals
from publisher.engagement.services import CLAIM_FOR, claim_deliveries
from tests.conftest import DATABASE_URL
from tests.engagement.conftest import NOW

pytestmark = pytest.mark.skipif(not (DATABASE_URL and DATABASE_URL.startswith("postgres")),
                                reason="needs a PostgreSQL PUBLISHER_DATABASE_URL")


def test_a_claim_takes_the_totals_row_another_scheduler_inserted_meanwhile(make_channel, make_delivery):  # type: ignore[no-untyped-def]
    channel = make_channel()
    mine, theirs = make_delivery(channel), make_delivery(channel)
    db.session.commit()
    engine = db.engine
    raced: list[bool] = []

    def other_scheduler_claims(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # right after this claim read which totals rows exist, the other scheduler inserts one and commits
        if raced or "FROM engagement_totals" not in statement:
            return
        raced.append(True)
        with engine.connect() as other:
            other.execute(insert(EngagementTotals.__table__).values(
                delivery_id=theirs.id, channel_id=channel.id, unit_id=theirs.unit_id, views=7, reactions=0,
                comments=0, shares=0, removed=False, measure_states={}))
            other.commit()

    event.listen(engine, "after_cursor_execute", other_scheduler_claims)
    try:
        claim_deliveries([mine.id, theirs.id], NOW)
        db.session.commit()
    finally:
        event.remove(engine, "after_cursor_execute", other_scheduler_claims)

    assert raced
    db.session.expire_all()
    rows = {r.delivery_id: r for r in db.session.scalars(select(EngagementTotals))}
    assert set(rows) == {mine.id, theirs.id}
    assert rows[theirs.id].views == 7  # the other's row kept, not overwritten with zeros
    assert rows[mine.id].next_due_at == rows[theirs.id].next_due_at == NOW + CLAIM_FOR  # both held for this round
