"""The embedded mode's in-thread RQ scheduler: delayed jobs (RQ's retries) reach the in-process queues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from publisher.queue import get_queue
from publisher.worker import _worker, rq_scheduler, tick_rq_scheduler


def test_a_job_due_from_the_scheduled_registry_is_queued_by_a_tick(app, settings):  # type: ignore[no-untyped-def]
    queue = get_queue(settings, "default")
    due = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), "publisher.audit.entries_for", "posts", 1)
    later = queue.enqueue_at(datetime.now(UTC) + timedelta(hours=1), "publisher.audit.entries_for", "posts", 2)
    assert queue.count == 0 and due.id in queue.scheduled_job_registry

    tick_rq_scheduler(rq_scheduler(_worker(app)))

    assert queue.job_ids == [due.id]
    assert later.id in queue.scheduled_job_registry and due.id not in queue.scheduled_job_registry
