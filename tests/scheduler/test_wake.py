"""Workers woken by the scheduler claim due deliveries straight from PostgreSQL (no RQ job per batch): real
``publisher worker`` processes against real Redis and PostgreSQL, racing, and one SIGKILLed mid-publish.

Skipped unless PUBLISHER_REDIS_URL and a PostgreSQL PUBLISHER_DATABASE_URL are set (CI sets both)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from publisher.db import db, utcnow
from publisher.scheduler import jobs, pipeline, wake
from publisher.scheduler.models import Delivery
from tests.conftest import DATABASE_URL, REDIS_URL, process_env
from tests.scheduler.conftest import fresh, soon

pytestmark = pytest.mark.skipif(not (REDIS_URL and DATABASE_URL and DATABASE_URL.startswith("postgres")),
                                reason="needs PUBLISHER_REDIS_URL and a PostgreSQL PUBLISHER_DATABASE_URL")

ROOT = Path(__file__).resolve().parents[2]
BOOT = "from tests.scheduler.testchannel import register_testchannel; register_testchannel(); "


def _worker(app_config: dict, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BOOT + "from web.cli import main; main()", "worker"],
                            cwd=ROOT, env={**process_env(app_config), **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.terminate()
    for w in workers:
        try:
            w.wait(40)
        except subprocess.TimeoutExpired:
            w.kill()


def _wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + seconds
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _listening(settings) -> int:  # type: ignore[no-untyped-def]
    from publisher.queue import redis_connection

    return int(dict(redis_connection(settings).pubsub_numsub(wake.WAKE_CHANNEL)).get(wake.WAKE_CHANNEL.encode(), 0))


def test_the_scheduler_wakes_only_when_something_is_due(app, settings, make_post, make_channel, schedule, platform):
    from publisher.queue import get_queue

    assert pipeline.claims_directly(settings)
    assert jobs.dispatch_due() == 0  # nothing due: no wake-up
    schedule(make_post(state="approved"), [make_channel()], at=soon(3600))
    assert jobs.dispatch_due() == 0
    get_queue(settings, "publish").empty()
    schedule(make_post(state="approved", title="Tin ngay"), [make_channel()])
    get_queue(settings, "publish").empty()
    assert jobs.dispatch_due() == 1
    assert get_queue(settings, "publish").count == 0  # a wake-up, not a job


def test_concurrent_claims_from_the_table_never_share_a_delivery(app, settings, make_post, make_channel, schedule,
                                                                 platform):
    channels = [make_channel() for _ in range(3)]
    deliveries = [d for i in range(20) for d in schedule(make_post(state="approved", title=f"Tin {i}"), channels)]
    db.session.commit()
    claimed: list[list[int]] = []
    flask_app = app

    def claimer(n: int) -> None:
        with flask_app.app_context():
            try:
                while ids := pipeline.claim_due(f"racer-{n}", 7):
                    claimed.append(ids)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [i for ids in claimed for i in ids]
    assert sorted(every) == sorted(d.id for d in deliveries)  # each claimed once, none left out
    assert {fresh(d.id).state for d in deliveries} == {"publishing"}


def test_a_woken_claim_is_committed_with_the_attempts_before_the_platform_is_called(  # type: ignore[no-untyped-def]
        app, make_post, make_channel, schedule, platform, monkeypatch):
    from sqlalchemy import text

    from tests.scheduler.testchannel import TestChannelAdapter

    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    db.session.commit()
    seen: list[tuple[str, str, str]] = []
    publish = TestChannelAdapter.publish

    def publish_and_look(self, request):  # type: ignore[no-untyped-def]
        with db.engine.connect() as other:  # another connection sees only what is committed
            seen.append(tuple(other.execute(text(
                "SELECT d.state, d.claimed_by, a.outcome FROM deliveries d JOIN delivery_attempts a "
                "ON a.delivery_id = d.id WHERE d.id = :id"), {"id": delivery.id}).one()))
        return publish(self, request)

    monkeypatch.setattr(TestChannelAdapter, "publish", publish_and_look)
    assert pipeline.publish_due(10) == {"published": 1}
    [(state, claimed_by, outcome)] = seen
    assert (state, outcome) == ("publishing", "running") and claimed_by == pipeline.worker_name()
    assert fresh(delivery.id).state == "published" and platform.duplicates() == 0


def test_a_woken_claim_that_fails_before_any_call_is_rolled_back(  # type: ignore[no-untyped-def]
        app, make_post, make_channel, schedule, platform, monkeypatch):
    deliveries = schedule(make_post(state="approved"), [make_channel(), make_channel()])
    db.session.commit()

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("posts could not be read")

    monkeypatch.setattr(pipeline, "_prepare", broken)
    with pytest.raises(RuntimeError):
        pipeline.publish_due(10)
    assert {(fresh(d.id).state, fresh(d.id).claimed_by) for d in deliveries} == {("scheduled", None)}
    assert not platform.received  # nothing was called, and nothing waits for a lease to expire
    monkeypatch.undo()
    assert pipeline.publish_due(10) == {"published": 2}
    assert sorted(platform.created.values()) == [1, 1]


def test_woken_worker_processes_race_and_publish_each_delivery_once(app, app_config, settings, make_post,
                                                                    make_channel, schedule, platform):
    from publisher.queue import get_queue

    platform.latency = 0.1
    # Small batches (20 of 3 rather than 3 of 20), so that the 60 deliveries are many claims: with three claims a
    # loaded machine may let the first process's threads take all of them before the second one has woken.
    workers = [_worker(app_config, PUBLISHER_PUBLISH_BATCH_SIZE="3") for _ in range(2)]
    try:
        # Started and waiting (each runs PUBLISHER_WORKER_CLAIM_THREADS claim threads) before anything is due.
        _wait_for(lambda: _listening(settings) >= 2 * settings.worker_claim_threads, 60, "the claim threads")
        channels = [make_channel() for _ in range(3)]
        deliveries = [d for i in range(20)
                      for d in schedule(make_post(state="approved", title=f"Tin {i}"), channels, at=soon(3600))]
        # All due at once (scheduling them one by one takes longer than a second).
        db.session.execute(update(Delivery).values(scheduled_at=utcnow()))
        db.session.commit()
        assert jobs.dispatch_due() == 1
        woken = time.time()
        _wait_for(lambda: len(platform.posts) == len(deliveries), 60, "every delivery to go out")
        # Published on the wake-up, well before the claim threads' own poll would have looked.
        assert time.time() - woken < wake.POLL_SECONDS
        assert get_queue(settings, "publish").count == 0
    finally:
        _stop(workers)
    assert platform.duplicates() == 0
    assert {fresh(d.id).state for d in deliveries} == {"published"}
    claimers = {a.worker.rsplit(":", 1)[0] for d in deliveries for a in fresh(d.id).history}
    assert len(claimers) == 2  # both processes took part
    assert all(":claim-" in a.worker for d in deliveries for a in fresh(d.id).history), \
        {(a.worker, a.action, a.outcome) for d in deliveries for a in fresh(d.id).history}


def test_woken_worker_sigkilled_mid_publish_then_another_exactly_one_remote_post(app, app_config, settings,
                                                                                make_post, make_channel, schedule,
                                                                                platform):
    platform.faults = ["hang"]  # the platform accepts the post and then never answers
    [delivery] = schedule(make_post(state="approved"), [make_channel(timeout=30)], at=soon(1))
    key = delivery.idempotency_key
    first = _worker(app_config)
    try:
        _wait_for(lambda: platform.received[key] == 1, 60, "the worker to reach the platform")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert fresh(delivery.id).state == "publishing"
    assert pipeline.recover_stale(settings, now=soon(settings.delivery_lease_seconds + 1)) == [delivery.id]
    db.session.commit()
    second = _worker(app_config)
    try:
        _wait_for(lambda: fresh(delivery.id).state == "published", 60, "the second worker")
    finally:
        _stop([second])
    done = fresh(delivery.id)
    assert platform.created[key] == 1 and platform.received[key] == 1 and len(platform.posts) == 1
    assert [(a.action, a.outcome) for a in done.history] == [("publish", "abandoned"), ("lookup", "found")]
