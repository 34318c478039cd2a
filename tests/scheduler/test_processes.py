"""Real processes against real Redis and PostgreSQL: a worker SIGKILLed mid-publish, two processes racing.

Skipped unless PUBLISHER_REDIS_URL and a PostgreSQL PUBLISHER_DATABASE_URL are set (CI sets both)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publisher.db import db
from publisher.scheduler import jobs, pipeline
from tests.conftest import DATABASE_URL, REDIS_URL, process_env
from tests.scheduler.conftest import fresh, soon

pytestmark = pytest.mark.skipif(not (REDIS_URL and DATABASE_URL and DATABASE_URL.startswith("postgres")),
                                reason="needs PUBLISHER_REDIS_URL and a PostgreSQL PUBLISHER_DATABASE_URL")

ROOT = Path(__file__).resolve().parents[2]
BOOT = "from tests.scheduler.testchannel import register_testchannel; register_testchannel(); "


def _env(app_config: dict) -> dict[str, str]:
    return process_env(app_config)


def _worker(app_config: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BOOT + "from web.cli import main; main()", "worker", "--burst"],
                            cwd=ROOT, env=_env(app_config), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_worker_sigkilled_mid_publish_then_restarted_exactly_one_remote_post(app, app_config, settings, make_post,
                                                                             make_channel, schedule, platform):
    platform.faults = ["hang"]  # the platform accepts the post and then never answers
    [delivery] = schedule(make_post(state="approved"), [make_channel(timeout=30)])
    key = delivery.idempotency_key
    first = _worker(app_config)
    try:
        deadline = time.time() + 30
        while platform.received[key] == 0 and time.time() < deadline:
            time.sleep(0.05)
        assert platform.received[key] == 1, "the worker never reached the platform"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert fresh(delivery.id).state == "publishing"
    # The scheduler's recovery, once the lease ran out, and the scheduler's next tick.
    assert pipeline.recover_stale(settings, now=soon(settings.delivery_lease_seconds + 1)) == [delivery.id]
    db.session.commit()
    jobs.enqueue_due()
    second = _worker(app_config)
    _out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err.decode()[-2000:]
    done = fresh(delivery.id)
    assert done.state == "published", [(a.action, a.outcome, a.message) for a in done.history]
    assert platform.created[key] == 1 and platform.received[key] == 1 and len(platform.posts) == 1
    assert [(a.action, a.outcome) for a in done.history] == [("publish", "abandoned"), ("lookup", "found")]


RACER = BOOT + """
import json, sys
from web import create_app
from publisher.scheduler.pipeline import publish_deliveries
app = create_app()
with app.app_context():
    print(json.dumps(publish_deliveries([tuple(p) for p in json.loads(sys.argv[1])])))
"""


def test_two_processes_racing_for_the_same_deliveries(app, app_config, make_post, make_channel, schedule, platform):
    channels = [make_channel(timeout=10) for _ in range(2)]
    deliveries = [d for i in range(20) for d in schedule(make_post(state="approved", title=f"Tin {i}"), channels)]
    pairs = json.dumps([[d.id, d.version] for d in deliveries])
    racers = [subprocess.Popen([sys.executable, "-c", RACER, pairs], cwd=ROOT, env=_env(app_config),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err.decode()[-2000:]
        outcomes.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert sum(sum(o.values()) for o in outcomes) == 40, outcomes
    assert platform.duplicates() == 0
    assert sum(o.get("published", 0) for o in outcomes) == len(platform.posts)
