"""Benchmark of the publishing pipeline: N deliveries due at the same moment, published by 1, 2 and 4 worker
processes against a sandbox platform on 127.0.0.1 with 0 ms and 200 ms latency; and, in the same run, the
throughput of RQ no-op jobs on the same Redis with the same workers (the ceiling).

Needs a real Redis and a scratch database (its tables are dropped and created):

    PUBLISHER_REDIS_URL=redis://127.0.0.1:6379/7 \\
    PUBLISHER_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_pipeline \\
    python bench/pipeline.py [--deliveries 10000] [--workers 1,2,4] [--latency 0,0.2]

Prints a table: workers x latency -> publishes/s, ratio to the no-op ceiling, lateness p50/p99, duplicates, losses.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BOOT = "from tests.scheduler.testchannel import register_testchannel; register_testchannel(); "


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def start_workers(n: int, env: dict[str, str]) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", BOOT + "from web.cli import main; main()", "worker"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(20)
        except subprocess.TimeoutExpired:
            w.kill()


def wait_for_workers(conn, n: int) -> None:  # type: ignore[no-untyped-def]
    from rq import Worker

    deadline = time.time() + 60
    while len(Worker.all(connection=conn)) < n and time.time() < deadline:
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=10000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--latency", default="0,0.2")
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--batch", type=int, default=50, help="deliveries per publish job (PUBLISH_BATCH_SIZE)")
    parser.add_argument("--within-capacity", type=int, default=200,
                        help="also run this many deliveries (fewer than the workers clear in 2 s) for the lateness "
                             "target; 0 to skip")
    args = parser.parse_args()
    db_url = os.environ.get("PUBLISHER_DATABASE_URL", "")
    redis_url = os.environ.get("PUBLISHER_REDIS_URL", "")
    if not redis_url or not db_url or not any(word in db_url for word in ("bench", "test")):
        sys.exit("set PUBLISHER_REDIS_URL and a scratch PUBLISHER_DATABASE_URL (its name must contain 'bench' or "
                 "'test': its tables are dropped)")

    from sqlalchemy import func, insert, select, text

    from publisher.accounts.services import create_user, get_root_unit
    from publisher.channels.models import Channel
    from publisher.content.models import Post
    from publisher.db import db, utcnow
    from publisher.queue import get_queue, redis_connection
    from publisher.scheduler.models import Delivery
    from publisher.scheduler.periodic import start_scheduler_thread
    from publisher.scheduler.services import new_idempotency_key
    from tests.scheduler.testchannel import FakePlatform, register_testchannel
    from web import create_app

    register_testchannel()
    instance = tempfile.mkdtemp(prefix="loa-bench-")
    secret = "bench-secret-key-0123456789abcdef"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")},
           "PUBLISHER_DATABASE_URL": db_url, "PUBLISHER_REDIS_URL": redis_url, "PUBLISHER_SECRET_KEY": secret,
           "PUBLISHER_INSTANCE_PATH": instance, "PUBLISHER_SCHEDULER_INTERVAL_SECONDS": "0.25",
           "PUBLISHER_PUBLISH_BATCH_SIZE": str(args.batch), "PYTHONPATH": str(ROOT)}
    app = create_app({"database_url": db_url, "redis_url": redis_url, "secret_key": secret,
                      "instance_path": Path(instance), "scheduler_interval_seconds": 0.25,
                      "publish_batch_size": args.batch})
    conn = redis_connection(app.extensions["publisher.settings"])
    rows = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        root = get_root_unit()
        author = create_user("bench@loa.test", "editor", root, password="bench-password-123", name="Bench")
        db.session.commit()
        per_channel = max(1, args.deliveries // args.channels)
        posts = []
        for i in range(per_channel):
            post = Post(unit_id=root.id, author_id=author.id, title=f"Bench {i}", slug=f"bench-{i}",
                        state="approved", version=1, tags=[])
            db.session.add(post)
            posts.append(post)
        db.session.commit()
        post_ids = [p.id for p in posts]

        for n_workers in [int(x) for x in args.workers.split(",")]:
            # The ceiling: RQ no-op jobs with the same workers on the same Redis.
            conn.flushdb()
            queue = get_queue(app.extensions["publisher.settings"], "publish")
            workers = start_workers(n_workers, env)
            wait_for_workers(conn, n_workers)
            started = time.time()
            with conn.pipeline() as pipe:
                for _ in range(args.deliveries):
                    queue.enqueue("publisher.scheduler.jobs.noop", pipeline=pipe)
                pipe.execute()
            while (queue.count or queue.started_job_registry.count) and time.time() - started < args.timeout:
                time.sleep(0.02)
            ceiling = args.deliveries / (time.time() - started)
            stop_workers(workers)

            for latency, size in [(float(x), n) for x in args.latency.split(",")
                                  for n in (args.deliveries, args.within_capacity) if n]:
                platform = FakePlatform().start()
                platform.latency = latency
                conn.flushdb()
                db.session.execute(Delivery.__table__.delete())
                db.session.execute(Channel.__table__.delete())
                db.session.commit()
                channel_ids = []
                for c in range(args.channels):
                    channel = Channel(unit_id=root.id, kind="testchannel", name=f"bench {c}", state="connected",
                                      settings={"base_url": platform.url, "rate_per_minute": 10**7, "timeout": 30},
                                      last_error="")
                    db.session.add(channel)
                    db.session.flush()
                    channel_ids.append(channel.id)
                db.session.commit()
                # Whole seconds, as schedules are (the editorial UI schedules to the minute).
                due = (utcnow() + timedelta(seconds=8)).replace(microsecond=0)
                values = [{"post_id": pid, "channel_id": cid, "unit_id": root.id, "state": "scheduled",
                           "scheduled_at": due, "version": 1, "post_version": 1, "attempts": 0,
                           "idempotency_key": new_idempotency_key(), "warnings": [], "needs_lookup": False,
                           "created_at": utcnow(), "updated_at": utcnow()}
                          for pid in post_ids for cid in channel_ids][:size]
                db.session.execute(insert(Delivery), values)
                db.session.commit()
                if db.engine.dialect.name == "postgresql":
                    # Each run deletes and reloads the table: without this the planner works from the previous
                    # run's statistics and dead rows (in production autovacuum keeps them current).
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn_pg:
                        conn_pg.execute(text("VACUUM ANALYZE deliveries"))
                        conn_pg.execute(text("VACUUM ANALYZE delivery_attempts"))
                total = len(values)
                workers = start_workers(n_workers, env)
                wait_for_workers(conn, n_workers)
                stop = start_scheduler_thread(app)
                deadline = time.time() + args.timeout
                while time.time() < deadline:
                    done = db.session.scalar(select(func.count()).select_from(Delivery)
                                             .where(Delivery.state.in_(("published", "failed", "unconfirmed"))))
                    db.session.rollback()
                    if done >= total:
                        break
                    time.sleep(0.25)
                stop.set()
                stop_workers(workers)
                published = db.session.execute(select(Delivery.scheduled_at, Delivery.published_at)
                                               .where(Delivery.state == "published")).all()
                db.session.rollback()
                lateness = [(p - s).total_seconds() for s, p in published]
                last = max((p for _s, p in published), default=due)
                rate = len(published) / max((last - due).total_seconds(), 1e-3)
                rows.append((n_workers, latency, total, rate, rate / ceiling, ceiling, percentile(lateness, 50),
                             percentile(lateness, 99), platform.duplicates(), total - len(platform.created)))
                platform.stop()
                print(f"workers={n_workers} latency={latency * 1000:.0f}ms deliveries={total}: {rate:.0f}/s (ceiling "
                      f"{ceiling:.0f}/s, p50 {rows[-1][6]:.2f}s, p99 {rows[-1][7]:.2f}s, duplicates {rows[-1][8]}, "
                      f"lost {rows[-1][9]})", flush=True)
    threading.Event().wait(0.1)
    print()
    print(f"deliveries due at the same moment, {args.channels} channels, {args.batch} per job; the ceiling is RQ "
          f"no-op jobs on SimpleWorker processes, as many as the publishing workers")
    print(f"{'workers':>7} {'latency':>8} {'due':>6} {'publish/s':>10} {'ceiling/s':>10} {'ratio':>6} {'p50 s':>7} "
          f"{'p99 s':>7} {'dupl':>5} {'lost':>5}")
    for n, lat, total, rate, ratio, ceiling, p50, p99, dup, lost in rows:
        print(f"{n:>7} {lat * 1000:>6.0f}ms {total:>6} {rate:>10.0f} {ceiling:>10.0f} {ratio:>6.2f} {p50:>7.2f} "
              f"{p99:>7.2f} {dup:>5} {lost:>5}")


if __name__ == "__main__":
    main()
