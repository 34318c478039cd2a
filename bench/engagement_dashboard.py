"""Benchmark: the leadership dashboard's queries for one year over 10 million engagement snapshots (PostgreSQL).

Generates 3 channels (website, Facebook, YouTube) and 20,000 posts published on each (60,000 deliveries) with
their snapshots following the collection cadence, the roll-ups the collector keeps (daily and monthly per
delivery; monthly per post and per channel, unit and campaign), and the latest totals, loaded with COPY. Then it
times, over repeated runs, (a) everything the dashboard page asks the database for a year (the report with its
breakdowns and ten top posts, the previous year, the monthly trend, the channels' freshness) and (b) the same
figures written by hand as ONE SQL statement, and prints p50/p95 and the ratio. It also times the API's report, which lists every post (not a target; printed for comparison).

    python bench/engagement_dashboard.py                    # 10,000,000 snapshots (about 5-10 minutes to load)
    python bench/engagement_dashboard.py --rows 1000000     # a smaller run
    python bench/engagement_dashboard.py --reuse            # time again without regenerating

The database comes from BENCH_DATABASE_URL (default: a dedicated ``loa_bench_engagement`` database on
127.0.0.1, created when missing). Everything in it is dropped and rebuilt by the migrations.
Targets: dashboard p95 <= 300 ms and <= 1.0x the hand-tuned query (issue #18). The dashboard, the hand-tuned
statement and the API report take turns run by run over several rounds (``--rounds``, ``--runs`` each); every
round gives each one's p95 and the ratio, printed as the median over the rounds with the min–max spread and the
machine's load beside them, so a busy machine slows both sides of the ratio alike.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import interleaved, load_average, percentile, timed_once  # noqa: E402,F401 (percentile: re-export)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/loa_bench_engagement"
LOCAL = timedelta(hours=7)  # Asia/Ho_Chi_Minh has no daylight saving time
KIND_MEASURES = {"website": (1, 3), "facebook": (1, 2, 3, 4), "youtube": (1, 2, 3)}
MEASURE_COLUMNS = {1: 0, 2: 1, 3: 2, 4: 3}  # measure code -> index in (views, reactions, comments, shares)
COORDINATES = ("channel_id", "post_id", "unit_id", "campaign_id")  # copied into the roll-ups


def cadence_offsets() -> list[timedelta]:
    """Collection moments after publishing: every 15 minutes for a day, hourly for a week, daily to 90 days."""
    offsets = [timedelta(minutes=15 * i) for i in range(1, 97)]
    offsets += [timedelta(hours=h) for h in range(25, 169)]
    offsets += [timedelta(days=d) for d in range(8, 91)]
    return offsets


def ensure_database(url: str) -> None:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    base, _, name = plain.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def copy_rows(cursor, table: str, columns: tuple[str, ...], lines: io.StringIO) -> None:  # type: ignore[no-untyped-def]
    lines.seek(0)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := lines.read(1 << 20):
            copy.write(chunk)


def generate(app, rows: int, posts: int, seed: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from flask_migrate import upgrade
    from sqlalchemy import text

    from publisher.accounts.services import get_root_unit
    from publisher.db import db
    from web import MIGRATIONS_DIR

    rng = random.Random(seed)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(directory=MIGRATIONS_DIR)
    root = get_root_unit()
    db.session.commit()
    now = datetime(2026, 11, 26, tzinfo=UTC)
    raw = db.session.connection().connection.driver_connection
    cur = raw.cursor()
    channel_ids = {}
    for kind, name in (("website", "Trang tin điện tử"), ("facebook", "Trang Facebook"), ("youtube", "Kênh YouTube")):
        cur.execute("INSERT INTO channels (unit_id, kind, name, settings, state, last_error, created_at, updated_at) "
                    "VALUES (%s, %s, %s, '{}', 'connected', '', %s, %s) RETURNING id", (root.id, kind, name, now, now))
        channel_ids[kind] = cur.fetchone()[0]
    campaign_ids = []
    for i in range(50):
        cur.execute("INSERT INTO campaigns (unit_id, name, description, hashtags, goal, created_at, updated_at) "
                    "VALUES (%s, %s, '', '[]', '', %s, %s) RETURNING id", (root.id, f"Chiến dịch {i + 1}", now, now))
        campaign_ids.append(cur.fetchone()[0])

    first_publish = datetime(2025, 6, 1, tzinfo=UTC)
    span = (datetime(2026, 8, 20, tzinfo=UTC) - first_publish).total_seconds()  # every 90-day timeline is complete
    buf = io.StringIO()
    published: list[datetime] = []
    campaigns: dict[int, str] = {}
    for post_id in range(1, posts + 1):
        at = first_publish + timedelta(seconds=rng.random() * span)
        published.append(at)
        campaign = str(rng.choice(campaign_ids)) if rng.random() < 0.4 else "\\N"
        campaigns[post_id] = campaign
        buf.write(f"{post_id}\t{root.id}\t{campaign}\tBài viết số {post_id}\tbai-viet-{post_id}\t\t\t\t\t\t[]\tapproved\t1\t\t"
                  f"{at.isoformat()}\t{at.isoformat()}\n")
    copy_rows(cur, "posts", ("id", "unit_id", "campaign_id", "title", "slug", "summary", "body_html", "byline",
                             "category", "locality", "tags", "state", "version", "review_note", "created_at",
                             "updated_at"), buf)
    cur.execute("SELECT setval('posts_id_seq', %s)", (posts,))

    deliveries: list[tuple[int, int, str, datetime]] = []
    buf = io.StringIO()
    delivery_id = 0
    for post_id, at in enumerate(published, start=1):
        for kind, channel_id in channel_ids.items():
            delivery_id += 1
            deliveries.append((delivery_id, post_id, kind, at))
            buf.write(f"{delivery_id}\t{post_id}\t{channel_id}\t{root.id}\tpublished\t{at.isoformat()}\t1\t1\t1\t"
                      f"bench-{delivery_id}\tremote-{delivery_id}\t{at.isoformat()}\t[]\t{at.isoformat()}\t{at.isoformat()}\n")
    copy_rows(cur, "deliveries", ("id", "post_id", "channel_id", "unit_id", "state", "scheduled_at", "version",
                                  "post_version", "attempts", "idempotency_key", "remote_id", "published_at",
                                  "warnings", "created_at", "updated_at"), buf)
    cur.execute("SELECT setval('deliveries_id_seq', %s)", (delivery_id,))
    raw.commit()

    series_count = sum(len(KIND_MEASURES[kind]) for _d, _p, kind, _a in deliveries)
    per_series = max(1, math.ceil(rows / series_count))
    offsets = cadence_offsets()
    picks = sorted({min(len(offsets) - 1, int(i * len(offsets) / per_series)) for i in range(per_series)})
    if len(picks) < per_series:  # more snapshots than cadence moments: add minutes between them
        extra = per_series - len(picks)
        offsets = sorted(set(offsets) | {timedelta(minutes=15 * i + 7) for i in range(1, extra + 1)})
        picks = list(range(min(per_series, len(offsets))))
    written = 0
    counts = {"snapshots": 0, "daily": 0, "monthly": 0}
    snap, daily, monthly, totals = io.StringIO(), io.StringIO(), io.StringIO(), io.StringIO()

    def flush() -> None:
        for _name, table, columns, stream in (
                ("snapshots", "engagement_snapshots", ("delivery_id", "measure", "collected_at", "value"), snap),
                ("daily", "engagement_daily", ("delivery_id", "day", "views", "reactions", "comments", "shares",
                                               "watch_time", *COORDINATES), daily),
                ("monthly", "engagement_monthly", ("delivery_id", "month", "views", "reactions", "comments", "shares",
                                                   "watch_time", *COORDINATES), monthly),
                ("totals", "engagement_totals", ("delivery_id", "views", "reactions", "comments", "shares",
                                                 "collected_at", "attempted_at", "removed", "measure_states", "channel_id",
                                                 "unit_id"), totals)):
            if stream.tell():
                copy_rows(cur, table, columns, stream)
                stream.seek(0)
                stream.truncate()
        raw.commit()

    started = time.perf_counter()
    for index, (delivery_id, post_id, kind, at) in enumerate(deliveries):
        where = f"{channel_ids[kind]}\t{post_id}\t{root.id}\t{campaigns[post_id]}"  # the roll-ups' copies
        if written >= rows:
            break
        per_day: dict[date, list[int]] = {}
        per_month: dict[date, list[int]] = {}
        finals = [0, 0, 0, 0]
        last_at = at
        for code in KIND_MEASURES[kind]:
            final = int(rng.lognormvariate(6.5 if code == 1 else 3.0, 1.2)) + len(picks)
            tau = rng.uniform(0.5, 3.0)
            previous = 0
            for pick in picks:
                if written >= rows:
                    break
                offset = offsets[pick]
                moment = at + offset
                value = max(previous + 1, int(final * (1 - math.exp(-offset.total_seconds() / 86400 / tau))))
                snap.write(f"{delivery_id}\t{code}\t{moment.isoformat()}\t{value}\n")
                written += 1
                local = (moment + LOCAL).date()
                per_day.setdefault(local, [0, 0, 0, 0])[MEASURE_COLUMNS[code]] += value - previous
                per_month.setdefault(local.replace(day=1), [0, 0, 0, 0])[MEASURE_COLUMNS[code]] += value - previous
                previous = value
                last_at = max(last_at, moment)
            finals[MEASURE_COLUMNS[code]] = previous
        for day, gains in per_day.items():
            daily.write(f"{delivery_id}\t{day.isoformat()}\t{gains[0]}\t{gains[1]}\t{gains[2]}\t{gains[3]}\t0\t{where}\n")
        for month, gains in per_month.items():
            monthly.write(f"{delivery_id}\t{month.isoformat()}\t{gains[0]}\t{gains[1]}\t{gains[2]}\t{gains[3]}\t0\t"
                          f"{where}\n")
        counts["daily"] += len(per_day)
        counts["monthly"] += len(per_month)
        totals.write(f"{delivery_id}\t{finals[0]}\t{finals[1]}\t{finals[2]}\t{finals[3]}\t{last_at.isoformat()}\t"
                     f"{last_at.isoformat()}\tf\t{{}}\t{channel_ids[kind]}\t{root.id}\n")
        if index % 2000 == 1999:
            flush()
            print(f"  {written:,} snapshots written ({time.perf_counter() - started:.0f} s)", flush=True)
    flush()
    from publisher.engagement.services import rebuild_channel_freshness, rebuild_period_rollups

    rebuild_period_rollups()  # the per-post and per-channel monthly roll-ups the collector keeps beside these
    rebuild_channel_freshness()  # the channels' freshness over the totals written above
    db.session.commit()
    counts["snapshots"] = written
    counts["deliveries"] = len(deliveries)
    counts["posts"] = posts
    print("VACUUM ANALYZE …", flush=True)
    raw.autocommit = True
    cur.execute("VACUUM ANALYZE")
    raw.autocommit = False
    return counts


# The same figures as the dashboard's, written by hand against the same schema as ONE statement: the per-channel
# monthly roll-up (channel, unit, campaign, month) grouped once into every breakdown with GROUPING SETS, the ten
# top posts from the per-post monthly roll-up with their titles, the previous year's totals, and the channels'
# freshness (times as epoch seconds, to share the columns). The report is the whole federation's (the root unit
# and everything below it): no condition on units, as the dashboard does.
_GAINS = "sum(views)::bigint, sum(reactions)::bigint, sum(comments)::bigint, sum(shares)::bigint"
_YEAR = "month BETWEEN :start AND :last_month"
HAND_TUNED = f"""
SELECT GROUPING(channel_id, unit_id, campaign_key, month), NULL::int, channel_id, unit_id, nullif(campaign_key, 0),
       month, NULL::text, {_GAINS}
FROM engagement_channel_monthly WHERE {_YEAR}
GROUP BY GROUPING SETS ((channel_id), (unit_id), (campaign_key), (month), ())
UNION ALL
SELECT -2, top.post_id, NULL, NULL, NULL, NULL, p.title, top.views, top.reactions, top.comments, top.shares
FROM (SELECT post_id, {_GAINS.replace("::bigint", "")} FROM engagement_post_monthly WHERE {_YEAR} GROUP BY post_id
      ORDER BY 2 DESC, sum(views) + sum(reactions) + sum(comments) + sum(shares) DESC, post_id LIMIT 10)
     AS top (post_id, views, reactions, comments, shares)
LEFT JOIN posts p ON p.id = top.post_id
UNION ALL
SELECT -1, NULL, NULL, NULL, NULL, NULL, NULL, {_GAINS}
FROM engagement_channel_monthly WHERE month BETWEEN :previous_start AND :previous_last_month
UNION ALL
SELECT -3, NULL, channel_id, NULL, NULL, NULL, NULL, extract(epoch FROM min(collected_at))::bigint,
       extract(epoch FROM max(collected_at))::bigint, count(last_error), count(*) FILTER (WHERE removed)
FROM engagement_totals GROUP BY channel_id
"""


def upgrade_schema() -> None:
    """Data loaded by an older version (``--reuse``): bring its schema, and the roll-ups it adds, up to date."""
    from flask_migrate import upgrade

    from web import MIGRATIONS_DIR

    started = time.perf_counter()
    upgrade(directory=MIGRATIONS_DIR)
    print(f"schema up to date ({time.perf_counter() - started:.1f} s)")


def check_figures(report: dict, period, unit_ids: list[int] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Stop unless the report's totals, and its top post's, equal sums over the per-delivery monthly rows (the
    timings mean nothing if the roll-ups a report reads are incomplete)."""
    from sqlalchemy import text

    from publisher.db import db

    where = "month BETWEEN :start AND :last" + (" AND unit_id = ANY(:units)" if unit_ids is not None else "")
    params = {"start": period.start, "last": period.end.replace(day=1), "units": unit_ids}
    views, reactions, comments, shares = db.session.execute(text(
        f"SELECT coalesce(sum(views), 0), coalesce(sum(reactions), 0), coalesce(sum(comments), 0), "
        f"coalesce(sum(shares), 0) FROM engagement_monthly WHERE {where}"), params).one()
    expected = {"views": views, "reactions": reactions, "comments": comments, "shares": shares}
    if report["totals"] != expected:
        sys.exit(f"the report's totals {report['totals']} differ from the delivery months' {expected}")
    if report["by_post"]:
        top = report["by_post"][0]
        post_views = db.session.scalar(text(f"SELECT sum(views) FROM engagement_monthly WHERE {where} "
                                            "AND post_id = :post"), {**params, "post": top["post_id"]})
        if top["totals"]["views"] != post_views:
            sys.exit(f"the top post's views {top['totals']['views']} differ from its delivery months' {post_views}")
    db.session.rollback()


def timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    """``runs`` timings (ms) of ``fn`` after one warm-up call (for figures that are not ratios)."""
    fn()  # warm up (plans, caches)
    return [timed_once(fn) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="snapshots to generate (default 10,000,000)")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each query set per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (each gives a p95 and a ratio)")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="time the data already in the database")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgresql"):
        sys.exit("BENCH_DATABASE_URL must name a PostgreSQL database")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    ensure_database(url)

    from sqlalchemy import func, select, text

    from publisher.db import db
    from web import create_app

    instance = tempfile.mkdtemp(prefix="loa-bench-")
    app = create_app({"database_url": url, "instance_path": instance, "secret_key": "bench-secret-key-0123456789"})
    with app.app_context():
        if not args.reuse:
            started = time.perf_counter()
            counts = generate(app, args.rows, args.posts, args.seed)
            print(f"generated in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        from publisher.accounts.models import User
        from publisher.accounts.services import create_user, get_root_unit
        if args.reuse:
            upgrade_schema()
        from publisher.engagement.models import (
            EngagementChannelMonthly,
            EngagementDaily,
            EngagementMonthly,
            EngagementPostMonthly,
            EngagementSnapshot,
        )
        from publisher.reports.services import (
            Period,
            dashboard_report,
            engagement_report,
            resolve_scope,
        )

        root = get_root_unit()
        user = db.session.scalar(select(User).where(User.email == "bench@ldld.test")) or \
            create_user("bench@ldld.test", "viewer", root)
        db.session.commit()
        # As in a request, the signed-in user is loaded before the page's own work (by the sign-in layer): keep
        # it loaded, out of the session, so the rollbacks between runs do not make every run read it again. Its
        # unit stays in the session and is read again each run, as a request's first look at it is.
        user.unit  # noqa: B018 (loads it)
        db.session.expunge(user)
        print("database:", url.rsplit("@", 1)[-1])
        for model in (EngagementSnapshot, EngagementDaily, EngagementMonthly, EngagementPostMonthly,
                      EngagementChannelMonthly):
            print(f"  {model.__tablename__}: {db.session.scalar(select(func.count()).select_from(model)):,} rows")
        settings = app.extensions["publisher.settings"]
        period = Period(date(args.year, 1, 1), date(args.year, 12, 31))

        def dashboard() -> None:
            scope = resolve_scope(user, include_sub_units=True)
            dashboard_report(scope, period, settings)  # what the dashboard page runs (a year: monthly trend)
            db.session.rollback()

        def api_report() -> None:
            scope = resolve_scope(user, include_sub_units=True)
            engagement_report(scope, period, settings, with_previous=False)
            db.session.rollback()

        check_figures(dashboard_report(resolve_scope(user, include_sub_units=True), period, settings)[0], period)
        previous = period.previous()
        params = {"start": period.start, "last_month": period.end.replace(day=1),
                  "previous_start": previous.start, "previous_last_month": previous.end.replace(day=1)}

        def hand_tuned() -> None:
            db.session.execute(text("SET LOCAL work_mem = '64MB'"))  # as the report service does
            db.session.execute(text(HAND_TUNED), params).all()
            db.session.rollback()

        print(f"\none year ({period.start} – {period.end}); {args.rounds} rounds of {args.runs} runs each, the "
              "contenders taking turns run by run; p95 per round, median (min–max) over the rounds")
        print(f"before: {load_average()}")

        def progress(n: int, result) -> None:  # type: ignore[no-untyped-def]
            print(f"  round {n + 1}: dashboard p95 {result.p95('dashboard').values[-1]:6.1f} ms, hand-tuned "
                  f"{result.p95('hand-tuned').values[-1]:6.1f} ms, API {result.p95('api').values[-1]:6.1f} ms, ratio "
                  f"{result.ratio('dashboard', 'hand-tuned').values[-1]:.2f}x; load {result.loads[-1]:.2f}",
                  flush=True)

        result = interleaved({"hand-tuned": hand_tuned, "dashboard": dashboard, "api": api_report},
                             rounds=args.rounds, runs=args.runs, report=progress)
        names = {"dashboard": "dashboard (all its queries + Python)", "api": "API report (one aggregate + names)",
                 "hand-tuned": "hand-tuned single SQL statement"}
        for key, name in names.items():
            print(f"  {name:40s} p50 {result.p50(key).format(unit=' ms')}   p95 {result.p95(key).format(unit=' ms')}")
        dash = result.p95("dashboard")
        ratio = result.ratio("dashboard", "hand-tuned")
        print(f"\ndashboard p95 {dash.format(unit=' ms')} (target <= 300 ms: {'met' if dash.median <= 300 else 'NOT met'})"
              f"; ratio to hand-tuned {ratio.format('{:.2f}', 'x')} (target <= 1.0x: "
              f"{'met' if ratio.median <= 1.0 else 'NOT met'}); 1-minute load {result.load().format('{:.1f}')}")
        print(f"after: {load_average()}")

if __name__ == "__main__":
    main()
