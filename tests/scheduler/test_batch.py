"""The batch path of the pipeline: one job claims and publishes many deliveries with a handful of statements, and
every exactly-once guarantee holds per delivery inside the batch."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import update

from publisher.db import db
from publisher.scheduler import jobs, pipeline
from publisher.scheduler.models import Delivery
from tests.scheduler.conftest import fresh, soon


def test_batch_with_one_rescheduled_meanwhile_skips_only_it(app, make_post, make_channel, schedule, platform,
                                                            make_user, settings):
    from publisher.scheduler.services import reschedule_delivery

    channels = [make_channel() for _ in range(3)]
    deliveries = [d for i in range(2) for d in schedule(make_post(state="approved", title=f"Tin {i}"), channels)]
    pairs = [[d.id, d.version] for d in deliveries]
    moved = deliveries[2]
    reschedule_delivery(fresh(moved.id), make_user("editor"), soon(3600).isoformat(), settings)
    db.session.commit()
    assert jobs.publish_deliveries(pairs) == {"published": 5}  # the stale version is not even claimed
    assert fresh(moved.id).state == "scheduled" and not fresh(moved.id).history
    for delivery in deliveries:
        if delivery.id == moved.id:
            continue
        done = fresh(delivery.id)
        assert done.state == "published" and done.attempts == 1
        assert platform.posts[done.idempotency_key]["id"] == done.remote_id
        assert [(a.action, a.outcome, a.details["version"]) for a in done.history] == [
            ("publish", "published", delivery.version)]
    assert len(platform.posts) == 5 and platform.duplicates() == 0


def test_mixed_outcomes_in_one_batch(app, make_post, make_channel, schedule, platform, drain):
    channels = [make_channel() for _ in range(3)]
    deliveries = [d for i in range(3) for d in schedule(make_post(state="approved", title=f"Tin {i}"), channels)]
    # One of them may already be out there (a lost answer earlier): it is looked up, not blindly published.
    looked_up = deliveries[0]
    db.session.execute(update(Delivery).where(Delivery.id == looked_up.id).values(needs_lookup=True))
    db.session.commit()
    platform.faults = ["400", "500"]  # whichever publishes arrive first: one rejected, one 5xx
    outcomes = jobs.publish_deliveries([[d.id, d.version] for d in deliveries])
    assert outcomes == {"published": 7, "failed": 1, "retry": 1}, outcomes
    states = Counter(fresh(d.id).state for d in deliveries)
    assert states == {"published": 7, "failed": 1, "scheduled": 1}
    assert [a.action for a in fresh(looked_up.id).history][0] == "lookup"
    retried = next(d for d in deliveries if fresh(d.id).state == "scheduled")
    assert fresh(retried.id).needs_lookup  # a 5xx may hide an accepted post
    drain(rounds=3, until=lambda: fresh(retried.id).state == "published")
    assert fresh(retried.id).state == "published"
    assert len(platform.posts) == 8 and platform.duplicates() == 0


def test_claim_taken_over_during_the_publish_outcome_not_written(app, settings, make_post, make_channel, schedule,
                                                                 platform, drain):
    """Recovery takes the claim over while the batch waits for the platform: the batch's outcome UPDATE does not
    land, and the next attempt looks the post up instead of publishing it again."""
    channel = make_channel(timeout=10)
    deliveries = [schedule(make_post(state="approved", title=f"Tin {i}"), [channel])[0] for i in range(3)]
    platform.latency = 0.6
    results: list[dict] = []

    def run() -> None:
        with app.app_context():
            try:
                results.append(pipeline.publish_deliveries([(d.id, d.version) for d in deliveries]))
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.time() + 5
    while time.time() < deadline and not all(fresh(d.id).state == "publishing" for d in deliveries):
        time.sleep(0.02)
    time.sleep(0.2)
    recovered = pipeline.recover_stale(settings, now=soon(settings.delivery_lease_seconds + 1))
    assert sorted(recovered) == sorted(d.id for d in deliveries)
    thread.join()
    assert results == [{"skipped": 3}]
    for delivery in deliveries:
        again = fresh(delivery.id)
        assert again.state == "scheduled" and again.needs_lookup
        # The attempt row tells what happened: the platform took it (the delivery's outcome was not written).
        assert [a.outcome for a in again.history] == ["published"]
    platform.latency = 0.0
    drain(rounds=2)
    for delivery in deliveries:
        done = fresh(delivery.id)
        assert done.state == "published"
        assert [(a.action, a.outcome) for a in done.history] == [("publish", "published"), ("lookup", "found")]
    assert len(platform.posts) == 3 and platform.duplicates() == 0


def test_each_delivery_of_a_batch_keeps_its_own_outcome_values(app, make_post, make_channel, schedule, platform):
    """The outcomes of one batch are written together, yet each delivery keeps its own: two rate limits with
    different hints wait each its own time (and keep each its own hint in its attempt row), while a duplicate in the
    same batch is looked up in a second round."""
    channels = [make_channel() for _ in range(3)]
    deliveries = schedule(make_post(state="approved", title="Tin"), channels)
    platform.latency = 0.05
    platform.faults = ["429:30", "429:300", "409"]
    before = pipeline.utcnow()
    outcomes = jobs.publish_deliveries([[d.id, d.version] for d in deliveries])
    assert outcomes == {"retry": 2, "unconfirmed": 1}, outcomes  # the 409's look-up finds nothing: a person decides
    rows = [fresh(d.id) for d in deliveries]
    waits = sorted((r.next_attempt_at - before).total_seconds() for r in rows if r.state == "scheduled")
    assert len(waits) == 2 and 29 < waits[0] < 35 and 299 < waits[1] < 305, waits
    hints = sorted(a.details["retry_after"] for r in rows for a in r.history if a.outcome == "rate_limited")
    assert hints == [30.0, 300.0]
    unconfirmed = next(r for r in rows if r.state == "unconfirmed")
    assert [(a.action, a.outcome) for a in unconfirmed.history] == [("publish", "duplicate"), ("lookup", "not_found")]
    assert unconfirmed.needs_lookup and unconfirmed.last_error_code == "E409"
