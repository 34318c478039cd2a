"""Benchmark of the publishing pipeline: N deliveries due at the same moment, published by 1, 2 and 4 worker
processes against a sandbox platform on 127.0.0.1 with 0 ms and 200 ms latency; and, in the same run, the
throughput of RQ no-op jobs on the same Redis with the same workers (the ceiling).

Needs a real Redis and a scratch database (its tables are dropped and created):

    PUBLISHER_REDIS_URL=redis://127.0.0.1:6379/7 \\
    PUBLISHER_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_pipeline \\
    python bench/pipeline.py [--deliveries 10000] [--workers 1,2,4] [--latency 0,0.2]

Prints a table: workers x latency -> publishes/s, ratio to the no-op ceiling, lateness p50/p99, duplicates, losses,
and the machine's load beside them. Each row is several rounds measured interleaved (ceiling, Loa, ceiling, Loa…,
ceiling: each round's ceiling is the mean of the no-op runs just before and after it)
with the same worker processes, started and warm before anything is due; median and min–max are printed, so a
busy machine shows as spread rather than as a different answer. Lateness runs from the due second to the platform's
acceptance.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BOOT = "from tests.scheduler.testchannel import register_testchannel; register_testchannel(); "


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def machine_load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} cores"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return "-"
    return (fmt + "–" + fmt).format(min(values), max(values))


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


def wait_until_ready(conn, queue, n: int, timeout: float = 120) -> float:  # type: ignore[no-untyped-def]
    """Until ``n`` workers are registered and have each run jobs (a warm-up round of no-ops): started and ready,
    before anything is due. Returns the seconds it took."""
    from rq import Worker

    started = time.time()
    deadline = started + timeout
    while len(Worker.all(connection=conn)) < n:
        if time.time() > deadline:
            raise SystemExit(f"only {len(Worker.all(connection=conn))} of {n} workers started in {timeout:.0f} s")
        time.sleep(0.1)
    drain_noops(queue, 20 * n, deadline)
    return time.time() - started


def drain_noops(queue, count: int, deadline: float) -> float:  # type: ignore[no-untyped-def]
    """Queue ``count`` no-op jobs at once and wait until they are all done; returns jobs per second."""
    with queue.connection.pipeline() as pipe:
        for _ in range(count):
            queue.enqueue("publisher.scheduler.jobs.noop", pipeline=pipe, result_ttl=0)
        started = time.time()
        pipe.execute()
    while (queue.count or queue.started_job_registry.count) and time.time() < deadline:
        time.sleep(0.01)
    return count / (time.time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=10000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--latency", default="0,0.2")
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved ceiling/Loa rounds per row")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--batch", type=int, default=50, help="deliveries per publish job (PUBLISH_BATCH_SIZE)")
    parser.add_argument("--claim-threads", type=int, default=0,
                        help="claim threads per worker (PUBLISHER_WORKER_CLAIM_THREADS; 0: the setting's default)")
    parser.add_argument("--latency-deliveries", type=int, default=2000,
                        help="deliveries due at once in the rows with platform latency (their measure is publishes/s "
                             "per worker, not the ratio)")
    parser.add_argument("--ceiling-jobs", type=int, default=2000,
                        help="no-op jobs per ceiling round (measured before each round of the 0 ms, --deliveries rows)")
    parser.add_argument("--within-capacity", type=int, default=200,
                        help="also run this many deliveries (fewer than the workers clear in 1 s) for the lateness "
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
    if args.claim_threads:
        env["PUBLISHER_WORKER_CLAIM_THREADS"] = str(args.claim_threads)
    app = create_app({"database_url": db_url, "redis_url": redis_url, "secret_key": secret,
                      "instance_path": Path(instance), "scheduler_interval_seconds": 0.25,
                      "publish_batch_size": args.batch})
    settings = app.extensions["publisher.settings"]
    conn = redis_connection(settings)
    print(f"bench/pipeline.py {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine_load()}", flush=True)

    def publish_round(root, post_ids: list[int], latency: float, size: int, deadline: float) -> dict:  # type: ignore[no-untyped-def]
        """``size`` deliveries due at one whole second, to fresh channels of a fresh platform, published by the
        running workers; lateness from the due second to the platform's acceptance."""
        platform = FakePlatform().start()
        platform.latency = latency
        try:
            db.session.execute(Delivery.__table__.delete())
            db.session.execute(Channel.__table__.delete())
            channel_ids = []
            for c in range(args.channels):
                channel = Channel(unit_id=root.id, kind="testchannel", name=f"bench {c}", state="connected",
                                  settings={"base_url": platform.url, "rate_per_minute": 10**7, "timeout": 30},
                                  last_error="")
                db.session.add(channel)
                db.session.flush()
                channel_ids.append(channel.id)
            db.session.commit()
            # Loaded an hour ahead, then moved to the due second: a woken or polling worker never claims them early.
            values = [{"post_id": pid, "channel_id": cid, "unit_id": root.id, "state": "scheduled",
                       "scheduled_at": utcnow() + timedelta(hours=1), "version": 1, "post_version": 1, "attempts": 0,
                       "idempotency_key": new_idempotency_key(), "warnings": [], "needs_lookup": False,
                       "created_at": utcnow(), "updated_at": utcnow()}
                      for pid in post_ids for cid in channel_ids][:size]
            db.session.execute(insert(Delivery), values)
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                # Each round deletes and reloads the table: without this the planner works from the previous
                # round's statistics and dead rows (in production autovacuum keeps them current).
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn_pg:
                    conn_pg.execute(text("VACUUM ANALYZE deliveries"))
                    conn_pg.execute(text("VACUUM ANALYZE delivery_attempts"))
            # Due at the next whole second at least 2 s away (schedules are whole minutes in the UI), with the
            # workers already running and warm and the scheduler started before that second.
            due = (utcnow() + timedelta(seconds=3)).replace(microsecond=0)
            db.session.execute(Delivery.__table__.update().values(scheduled_at=due))
            db.session.commit()
            stop = start_scheduler_thread(app)
            try:
                while len(platform.published_at) < size and time.time() < deadline:
                    time.sleep(0.05)
            finally:
                stop.set()
            # Every outcome written before the next round deletes the rows (else the delete waits on, or
            # deadlocks with, a worker still writing the last outcomes).
            while db.session.scalar(select(func.count()).select_from(Delivery).where(
                    Delivery.state == "publishing")) and time.time() < deadline:
                db.session.rollback()
                time.sleep(0.05)
            db.session.rollback()
            accepted = sorted(platform.published_at.values())
            lateness = [t - due.timestamp() for t in accepted]
            elapsed = (accepted[-1] - due.timestamp()) if accepted else float("nan")
            return {"rate": len(accepted) / max(elapsed, 1e-3), "p50": percentile(lateness, 50),
                    "p99": percentile(lateness, 99), "duplicates": platform.duplicates(),
                    "lost": size - len(platform.created)}
        finally:
            platform.stop()

    rows = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        root = get_root_unit()
        author = create_user("bench@loa.test", "editor", root, password="bench-password-123", name="Bench")
        db.session.commit()
        per_channel = max(1, args.deliveries // args.channels)
        posts = [Post(unit_id=root.id, author_id=author.id, title=f"Bench {i}", slug=f"bench-{i}", state="approved",
                      version=1, tags=[]) for i in range(per_channel)]
        db.session.add_all(posts)
        db.session.commit()
        post_ids = [p.id for p in posts]
        queue = get_queue(settings, "publish")

        for n_workers in [int(x) for x in args.workers.split(",")]:
            conn.flushdb()
            workers = start_workers(n_workers, env)
            try:
                ready = wait_until_ready(conn, queue, n_workers)
                print(f"{n_workers} worker(s) started and ready in {ready:.1f} s", flush=True)
                for latency, size in [(float(x), n) for x in args.latency.split(",")
                                      for n in ((args.latency_deliveries if float(x) else args.deliveries),
                                                args.within_capacity) if n]:
                    measures_ratio = size == args.deliveries and not latency
                    noops, results, loads = [], [], []
                    for _ in range(args.rounds):  # interleaved: ceiling, Loa, ceiling, Loa…, ceiling
                        deadline = time.time() + args.timeout
                        if measures_ratio:
                            noops.append(drain_noops(queue, args.ceiling_jobs, deadline))
                        results.append(publish_round(root, post_ids, latency, size, deadline))
                        loads.append(os.getloadavg()[0])
                    if measures_ratio:
                        noops.append(drain_noops(queue, args.ceiling_jobs, time.time() + args.timeout))
                    # Each round's ceiling is the mean of the no-op runs just before and just after it, so a load
                    # that changes during the round moves both sides of its ratio.
                    ceilings = [(a + b) / 2 for a, b in zip(noops, noops[1:], strict=False)]
                    ratios = [r["rate"] / c for r, c in zip(results, ceilings, strict=True)] if ceilings else []
                    row = {"workers": n_workers, "latency": latency, "due": size,
                           "rate": [r["rate"] for r in results], "ceiling": ceilings, "ratio": ratios,
                           "per_worker": [r["rate"] / n_workers for r in results],
                           "p50": [r["p50"] for r in results], "p99": [r["p99"] for r in results],
                           "duplicates": sum(r["duplicates"] for r in results),
                           "lost": sum(r["lost"] for r in results), "load": loads}
                    rows.append(row)
                    print(f"workers={n_workers} latency={latency * 1000:.0f}ms due={size}: "
                          f"{median(row['rate']):.0f}/s ({spread(row['rate'], '{:.0f}')}), per worker "
                          f"{median(row['per_worker']):.0f}/s, ceiling "
                          f"{median(ceilings):.0f}/s ({spread(ceilings, '{:.0f}')}), ratio {median(ratios):.2f} "
                          f"({spread(ratios)}), lateness p99 {median(row['p99']):.2f}s ({spread(row['p99'])}), "
                          f"duplicates {row['duplicates']}, lost {row['lost']}, load {spread(loads)}", flush=True)
            finally:
                stop_workers(workers)

    print()
    print(f"{args.rounds} interleaved rounds per row (median, then min–max); deliveries due at one whole second, "
          f"{args.channels} channels, {args.batch} per claim; ceiling = RQ no-op jobs ({args.ceiling_jobs} a round) on "
          f"the same worker processes, the mean of the runs just before and after each round of the 0 ms rows; "
          f"{machine_load()} at the end")
    print("| workers | latency | due | publishes/s | per worker | ceiling/s | ratio | lateness p50 | lateness p99 | "
          "duplicates | lost | load (1 min) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        ratio = f"{median(r['ratio']):.2f} ({spread(r['ratio'])})" if r["ratio"] else ""
        ceiling = f"{median(r['ceiling']):.0f} ({spread(r['ceiling'], '{:.0f}')})" if r["ceiling"] else ""
        print(f"| {r['workers']} | {r['latency'] * 1000:.0f} ms | {r['due']:,} | {median(r['rate']):.0f} "
              f"({spread(r['rate'], '{:.0f}')}) | {median(r['per_worker']):.0f} | {ceiling} | {ratio} | "
              f"{median(r['p50']):.2f} s | "
              f"{median(r['p99']):.2f} s ({spread(r['p99'])}) | {r['duplicates']} | {r['lost']} | "
              f"{spread(r['load'])} |")


if __name__ == "__main__":
    main()
