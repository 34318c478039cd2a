"""The publishing pipeline end to end: real RQ SimpleWorker, real HTTP to a fake platform on 127.0.0.1."""

from __future__ import annotations

import threading
import time

from publisher.channels import services as channel_services
from publisher.db import db
from publisher.scheduler import jobs, pipeline
from tests.scheduler.conftest import fresh, run_worker, soon, tick


def test_due_post_published_at_its_time_and_not_before(app, make_post, make_channel, schedule, platform):
    channel = make_channel()
    post = make_post(state="approved")
    at = soon(1.5)
    [delivery] = schedule(post, [channel], at=at)
    tick(app)
    assert fresh(delivery.id).state == "scheduled"
    assert not platform.posts
    time.sleep(max(0.0, (at - soon(0)).total_seconds()) + 0.05)
    tick(app)
    done = fresh(delivery.id)
    assert done.state == "published", done.last_error
    assert done.published_at >= at
    assert platform.posts[done.idempotency_key]["id"] == done.remote_id
    assert [(a.action, a.outcome) for a in done.history] == [("publish", "published")]


def test_three_posts_to_three_channels(app, make_post, make_channel, schedule, platform, drain):
    channels = [make_channel() for _ in range(3)]
    posts = [make_post(state="approved", title=f"Bài số {i}") for i in range(3)]
    ids = [d.id for p in posts for d in schedule(p, channels)]
    drain(rounds=3)
    states = [fresh(i).state for i in ids]
    assert states == ["published"] * 9
    assert len(platform.posts) == 9 and platform.duplicates() == 0


def test_5xx_twice_then_success(app, make_post, make_channel, schedule, platform, drain):
    platform.faults = ["500", "503"]
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    drain(rounds=5, until=lambda: fresh(delivery.id).state == "published")
    done = fresh(delivery.id)
    assert done.state == "published"
    assert platform.received[done.idempotency_key] == 3 and platform.created[done.idempotency_key] == 1
    publishes = [(a.outcome, a.code) for a in done.history if a.action == "publish"]
    assert publishes == [("error", "E500"), ("error", "E503"), ("published", None)]
    # A 5xx may hide an accepted post: each retry looked it up first.
    assert [a.outcome for a in done.history if a.action == "lookup"] == ["not_found", "not_found"]


def test_rate_limit_retry_hint_is_honoured(app, make_post, make_channel, schedule, platform):
    platform.faults = ["429:2"]
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    tick(app)
    waiting = fresh(delivery.id)
    assert waiting.state == "scheduled" and waiting.attempts == 1
    assert (waiting.next_attempt_at - waiting.history[0].ended_at).total_seconds() >= 1.9
    hint, key = waiting.next_attempt_at, waiting.idempotency_key
    tick(app)  # before the hint's time (on a machine slow enough for the first round to take 2 s, after it)
    time.sleep(2.1)
    tick(app)
    done = fresh(delivery.id)
    assert done.state == "published"
    publishes = [a for a in done.history if a.action == "publish"]
    assert len(publishes) == 2 and publishes[1].started_at >= hint  # not before the hint
    assert platform.received[key] == 2


def test_transient_errors_capped_then_failed_with_reason(app, make_post, make_channel, schedule, platform, drain):
    platform.faults = ["502"] * 10
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    drain(rounds=8, until=lambda: fresh(delivery.id).state == "failed")
    done = fresh(delivery.id)
    assert done.state == "failed"
    assert done.last_error == "E502: fault 502"
    assert len([a for a in done.history if a.action == "publish"]) == 4  # PUBLISHER_RETRY_MAX_ATTEMPTS here


def test_rejected_fails_at_once(app, make_post, make_channel, schedule, platform):
    platform.faults = ["400"]
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    tick(app)
    done = fresh(delivery.id)
    assert done.state == "failed" and done.last_error == "E400: fault 400"
    assert len(done.history) == 1


def test_duplicate_is_looked_up_and_marked_published(app, make_post, make_channel, schedule, platform):
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    platform._create(delivery.idempotency_key, "already there")
    platform.faults = ["409"]
    tick(app)
    done = fresh(delivery.id)
    assert done.state == "published"
    assert done.remote_id == platform.posts[done.idempotency_key]["id"]
    assert platform.duplicates() == 0


def test_time_out_after_accepting_is_looked_up_not_published_again(app, make_post, make_channel, schedule,
                                                                    platform, drain):
    platform.faults = ["timeout"]
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    drain(rounds=4, until=lambda: fresh(delivery.id).state == "published")
    done = fresh(delivery.id)
    assert done.state == "published"
    assert platform.received[done.idempotency_key] == 1 and platform.created[done.idempotency_key] == 1
    assert [(a.action, a.outcome) for a in done.history] == [("publish", "error"), ("lookup", "found")]


def test_cannot_tell_becomes_unconfirmed_then_retry_looks_it_up(app, make_post, make_channel, schedule, platform,
                                                                 drain, api_as):
    platform.faults = ["timeout"]
    platform.lookup_faults = ["500"]
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    drain(rounds=4, until=lambda: fresh(delivery.id).state == "unconfirmed")
    undecided = fresh(delivery.id)
    assert undecided.state == "unconfirmed"
    assert [(a.action, a.outcome) for a in undecided.history] == [("publish", "error"), ("lookup", "unknown")]
    api = api_as("editor")
    body = api.get(f"/api/v1/deliveries/{delivery.id}").get_json()
    assert body["state"] == "unconfirmed" and [h["outcome"] for h in body["history"]] == ["error", "unknown"]
    answer = api.post(f"/api/v1/deliveries/{delivery.id}/retry")
    assert answer.status_code == 200, answer.get_json()
    drain(rounds=3, until=lambda: fresh(delivery.id).state == "published")
    done = fresh(delivery.id)
    assert done.state == "published" and platform.created[done.idempotency_key] == 1
    assert platform.received[done.idempotency_key] == 1


def test_expired_token_pauses_channel_until_reconnected(app, make_post, make_channel, schedule, platform, drain):
    channel = make_channel()
    platform.faults = ["401"]
    [first] = schedule(make_post(state="approved", title="Bài một"), [channel])
    [later] = schedule(make_post(state="approved", title="Bài hai"), [channel], at=soon(3600))
    tick(app)
    assert fresh(first.id).state == "paused" and fresh(later.id).state == "paused"
    db.session.refresh(channel)
    assert channel.state == "needs_reconnect"
    tick(app)
    assert not platform.posts
    # The channel is reconnected (new tokens): the reconnect hooks resume its deliveries on their own.
    channel.state = "connected"
    for hook in channel_services.RECONNECT_HOOKS:
        hook(channel)
    db.session.commit()
    drain(rounds=2)
    assert fresh(first.id).state == "published"
    assert fresh(later.id).state == "scheduled"  # its time has not come yet


def test_two_workers_racing_each_delivery_published_once(app, make_post, make_channel, schedule, platform, drain):
    channels = [make_channel(timeout=10) for _ in range(3)]
    deliveries = [d for i in range(10) for d in schedule(make_post(state="approved", title=f"Tin {i}"), channels)]
    pairs = [(d.id, d.version) for d in deliveries]
    db.session.commit()
    results: list[dict] = []
    errors: list[BaseException] = []

    def race() -> None:
        with app.app_context():
            try:
                results.append(pipeline.publish_deliveries(list(pairs)))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # Each delivery was claimed by exactly one of the racers.
    assert sum(sum(r.values()) for r in results) == 30, results
    drain(rounds=3)  # a publish that timed out under the load is looked up, then retried
    assert platform.duplicates() == 0 and len(platform.posts) == 30
    assert {fresh(d.id).state for d in deliveries} == {"published"}


def test_redis_flushed_scheduler_requeues_without_doubles(app, settings, make_post, make_channel, schedule,
                                                          platform):
    from publisher.queue import get_queue, redis_connection

    channel = make_channel()
    posts = [make_post(state="approved", title=f"Tin {i}") for i in range(5)]
    ids = [schedule(p, [channel])[0].id for p in posts]
    redis_connection(settings).flushdb()  # the after-commit jobs are gone
    assert jobs.enqueue_due() == 5
    assert jobs.enqueue_due() == 0  # already queued: not queued twice
    redis_connection(settings).flushdb()
    assert get_queue(settings, "publish").count == 0
    assert jobs.enqueue_due() == 5  # rebuilt from the database
    run_worker(app)
    assert [fresh(i).state for i in ids] == ["published"] * 5
    assert platform.duplicates() == 0 and len(platform.posts) == 5


def test_scheduler_remembers_what_it_queued_until_redis_is_emptied(app, settings, make_post, make_channel,
                                                                    schedule, platform):
    from publisher.queue import get_queue, redis_connection

    channel = make_channel()
    for i in range(3):
        schedule(make_post(state="approved", title=f"Tin {i}"), [channel])
    conn = redis_connection(settings)
    conn.flushdb()
    assert jobs.enqueue_due() == 3
    # Without asking Redis about each delivery again: the markers gone, the tick still queues nothing twice.
    conn.delete(*conn.keys("loa:enqueued:*"))
    assert jobs.enqueue_due() == 0
    assert get_queue(settings, "publish").count == 1  # one batch job
    conn.flushdb()  # the epoch key goes with the jobs: everything due is queued again
    assert jobs.enqueue_due() == 3
    run_worker(app)
    assert platform.duplicates() == 0 and len(platform.posts) == 3


def test_same_job_twice_publishes_once(app, make_post, make_channel, schedule, platform):
    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    jobs.publish_delivery(delivery.id, delivery.version)
    jobs.publish_delivery(delivery.id, delivery.version)
    assert fresh(delivery.id).state == "published" and platform.duplicates() == 0


def test_stale_jobs_after_reschedule_cancel_or_edit_do_nothing(app, make_post, make_channel, schedule, platform,
                                                               make_user, settings):
    from publisher.content.services import update_post
    from publisher.scheduler.services import cancel_delivery, reschedule_delivery

    channel = make_channel()
    editor = make_user("editor")
    a, b, c = (schedule(make_post(state="approved", title=f"Tin {i}"), [channel])[0] for i in range(3))
    stale = [(d.id, d.version) for d in (a, b, c)]
    reschedule_delivery(fresh(a.id), editor, soon(3600).isoformat(), settings)
    cancel_delivery(fresh(b.id), editor)
    post_c = fresh(c.id).post
    update_post(post_c, editor, {"title": "Tiêu đề đã sửa"}, post_c.version)
    db.session.commit()
    for pair in stale:
        jobs.publish_delivery(*pair)
    assert not platform.posts
    assert (fresh(a.id).state, fresh(b.id).state, fresh(c.id).state) == ("scheduled", "cancelled", "scheduled")
    tick(app)  # the edited post waits for approval again; the moved one for its new time
    assert not platform.posts


def test_worker_died_mid_publish_recovery_looks_up_first(app, settings, make_post, make_channel, schedule, platform):
    from publisher.channels.services import adapter_for
    from publisher.scheduler.services import build_request

    [delivery] = schedule(make_post(state="approved"), [make_channel()])
    assert pipeline.claim([(delivery.id, delivery.version)], "dead-worker") == [delivery.id]
    row = fresh(delivery.id)
    # The dead worker's publish reached the platform before it died.
    adapter_for(row.channel, settings).publish(build_request(row.post, row.channel, row.idempotency_key, settings))
    tick(app)
    assert fresh(delivery.id).state == "publishing"  # still within its lease
    assert pipeline.recover_stale(settings, now=soon(settings.delivery_lease_seconds + 1)) == [delivery.id]
    tick(app)
    done = fresh(delivery.id)
    assert done.state == "published" and platform.duplicates() == 0
    assert [(a.action, a.outcome) for a in done.history] == [("lookup", "found")]


def test_paused_and_rate_limited_channel(app, make_post, make_channel, schedule, platform):
    channel = make_channel(rate_per_minute=6)  # a burst of one, then one every ten seconds
    posts = [make_post(state="approved", title=f"Tin {i}") for i in range(3)]
    ids = [schedule(p, [channel])[0].id for p in posts]
    tick(app)
    states = sorted(fresh(i).state for i in ids)
    assert states == ["published", "scheduled", "scheduled"]
    waiting = [fresh(i) for i in ids if fresh(i).state == "scheduled"]
    assert all(w.next_attempt_at > soon(5) for w in waiting) and all(w.attempts == 0 for w in waiting)


def test_paused_deliveries_resume_even_without_reconnect_hooks(app, make_post, make_channel, schedule, platform):
    channel = make_channel()
    platform.faults = ["401"]
    [delivery] = schedule(make_post(state="approved"), [channel])
    tick(app)
    assert fresh(delivery.id).state == "paused"
    db.session.refresh(channel)
    channel.state = "connected"  # reconnected by a path that did not call the hooks
    db.session.commit()
    jobs.recover_stale()
    tick(app)
    assert fresh(delivery.id).state == "published"


def test_unknown_channel_kind_fails_with_a_reason(app, make_post, make_channel, schedule, platform):
    channel = make_channel()
    [delivery] = schedule(make_post(state="approved"), [channel])
    channel.kind = "fax"
    db.session.commit()
    tick(app)
    done = fresh(delivery.id)
    assert done.state == "failed" and "fax" in done.last_error
