"""Issue 8's scale line: a tree of 1 province, 30 district/sector unions and 1,500 grassroots unions, each with 3
channels (website, Facebook, YouTube) and a year of figures; prints the province's roll-up dashboard p95 (with
include_sub_units; target <= 200 ms, issue #18), a district's and a grassroots unit's dashboard p95 (target
<= 300 ms), and the province's figures as one hand-tuned statement (bench/engagement_dashboard.py's) for scale.
The four take turns run by run over several rounds; each round gives a p95 per report, printed as the median
over the rounds with its min–max spread, and the machine's load beside them.

    BENCH_HIERARCHY_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/loa_bench_hierarchy \\
        python bench/hierarchy_dashboard.py [--posts-per-unit 12] [--rounds 5] [--runs 20] [--reuse]

Reports read only the roll-ups and engagement_totals, so the generator writes those directly (what the collector
would have written): every post gains views etc. over its first two weeks, one daily row per delivery and day,
summed into the monthly rows (per delivery, per post, and per channel, unit and campaign). Snapshots are not
generated (no report reads them; bench/engagement_dashboard.py measures a 10-million-snapshot store).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import interleaved, load_average  # noqa: E402
from bench.engagement_dashboard import (  # noqa: E402
    HAND_TUNED,
    check_figures,
    copy_rows,
    ensure_database,
    upgrade_schema,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/loa_bench_hierarchy"
KINDS = ("website", "facebook", "youtube")
DISTRICTS, GRASSROOTS_PER_DISTRICT = 30, 50


def generate(posts_per_unit: int, seed: int, year: int) -> dict[str, int]:
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
    now = datetime(year, 12, 31, tzinfo=UTC)
    raw = db.session.connection().connection.driver_connection
    cur = raw.cursor()
    units = [root.id]
    for d in range(DISTRICTS):
        cur.execute("INSERT INTO units (name, parent_id, path, created_at) VALUES (%s, %s, '', %s) RETURNING id",
                    (f"Công đoàn cấp trên số {d + 1}", root.id, now))
        district = cur.fetchone()[0]
        cur.execute("UPDATE units SET path = %s WHERE id = %s", (f"{root.path}{district}/", district))
        units.append(district)
        for g in range(GRASSROOTS_PER_DISTRICT):
            cur.execute("INSERT INTO units (name, parent_id, path, created_at) VALUES (%s, %s, '', %s) RETURNING id",
                        (f"Công đoàn cơ sở {d + 1}.{g + 1}", district, now))
            unit = cur.fetchone()[0]
            cur.execute("UPDATE units SET path = %s WHERE id = %s", (f"{root.path}{district}/{unit}/", unit))
            units.append(unit)
    channels: dict[int, list[tuple[int, str]]] = {}
    for unit in units:
        for kind in KINDS:
            cur.execute("INSERT INTO channels (unit_id, kind, name, settings, state, last_error, created_at, "
                        "updated_at) VALUES (%s, %s, %s, '{}', 'connected', '', %s, %s) RETURNING id",
                        (unit, kind, f"{kind} {unit}", now, now))
            channels.setdefault(unit, []).append((cur.fetchone()[0], kind))
    campaign_ids = []
    for i in range(40):
        cur.execute("INSERT INTO campaigns (unit_id, name, description, hashtags, goal, created_at, updated_at) "
                    "VALUES (%s, %s, '', '[]', '', %s, %s) RETURNING id", (root.id, f"Chiến dịch {i + 1}", now, now))
        campaign_ids.append(cur.fetchone()[0])
    raw.commit()

    start = datetime(year, 1, 1, tzinfo=UTC)
    posts, deliveries, daily, monthly, totals = (io.StringIO() for _ in range(5))
    post_id = delivery_id = 0
    counts = {"units": len(units), "channels": len(units) * 3, "posts": 0, "deliveries": 0, "daily": 0, "monthly": 0}
    for unit in units:
        for _ in range(posts_per_unit):
            post_id += 1
            at = start + timedelta(seconds=rng.random() * 350 * 86400)
            campaign = str(rng.choice(campaign_ids)) if rng.random() < 0.4 else "\\N"
            posts.write(f"{post_id}\t{unit}\t{campaign}\tBài viết số {post_id}\tbai-viet-{post_id}\t\t\t\t\t\t[]\t"
                        f"approved\t1\t\t{at.isoformat()}\t{at.isoformat()}\n")
            for channel_id, _kind in channels[unit]:
                delivery_id += 1
                deliveries.write(f"{delivery_id}\t{post_id}\t{channel_id}\t{unit}\tpublished\t{at.isoformat()}\t1\t1\t"
                                 f"1\tbench-{delivery_id}\tremote-{delivery_id}\t{at.isoformat()}\t[]\t{at.isoformat()}\t"
                                 f"{at.isoformat()}\n")
                where = f"{channel_id}\t{post_id}\t{unit}\t{campaign}"
                final = [int(rng.lognormvariate(5.5, 1.2)), int(rng.lognormvariate(2.5, 1.2)),
                         int(rng.lognormvariate(1.0, 1.0)), int(rng.lognormvariate(1.0, 1.0))]
                per_month: dict[date, list[int]] = {}
                first = (at + timedelta(hours=7)).date()
                left = list(final)
                for offset in range(14):
                    day = first + timedelta(days=offset)
                    share = 0.5 if offset < 13 else 1.0
                    gains = [int(v * share) for v in left]
                    left = [v - g for v, g in zip(left, gains, strict=True)]
                    if not any(gains):
                        continue
                    daily.write(f"{delivery_id}\t{day.isoformat()}\t{gains[0]}\t{gains[1]}\t{gains[2]}\t{gains[3]}\t0\t"
                                f"{where}\n")
                    counts["daily"] += 1
                    month = per_month.setdefault(day.replace(day=1), [0, 0, 0, 0])
                    for i in range(4):
                        month[i] += gains[i]
                for month_start, gains in per_month.items():
                    monthly.write(f"{delivery_id}\t{month_start.isoformat()}\t{gains[0]}\t{gains[1]}\t{gains[2]}\t"
                                  f"{gains[3]}\t0\t{where}\n")
                    counts["monthly"] += 1
                last = at + timedelta(days=14)
                totals.write(f"{delivery_id}\t{final[0]}\t{final[1]}\t{final[2]}\t{final[3]}\t{last.isoformat()}\t"
                             f"{last.isoformat()}\tf\t{{}}\t{channel_id}\t{unit}\n")
    counts["posts"], counts["deliveries"] = post_id, delivery_id
    coordinates = ("channel_id", "post_id", "unit_id", "campaign_id")
    copy_rows(cur, "posts", ("id", "unit_id", "campaign_id", "title", "slug", "summary", "body_html", "byline",
                             "category", "locality", "tags", "state", "version", "review_note", "created_at",
                             "updated_at"), posts)
    copy_rows(cur, "deliveries", ("id", "post_id", "channel_id", "unit_id", "state", "scheduled_at", "version",
                                  "post_version", "attempts", "idempotency_key", "remote_id", "published_at",
                                  "warnings", "created_at", "updated_at"), deliveries)
    copy_rows(cur, "engagement_daily", ("delivery_id", "day", "views", "reactions", "comments", "shares",
                                        "watch_time", *coordinates), daily)
    copy_rows(cur, "engagement_monthly", ("delivery_id", "month", "views", "reactions", "comments", "shares",
                                          "watch_time", *coordinates), monthly)
    copy_rows(cur, "engagement_totals", ("delivery_id", "views", "reactions", "comments", "shares", "collected_at",
                                         "attempted_at", "removed", "measure_states", "channel_id", "unit_id"), totals)
    cur.execute("SELECT setval('posts_id_seq', %s)", (post_id,))
    cur.execute("SELECT setval('deliveries_id_seq', %s)", (delivery_id,))
    raw.commit()
    from publisher.engagement.services import rebuild_channel_freshness, rebuild_period_rollups

    rebuild_period_rollups()  # the per-post and per-channel monthly roll-ups the collector keeps beside these
    rebuild_channel_freshness()  # the channels' freshness over the totals written above
    db.session.commit()
    raw.autocommit = True
    cur.execute("VACUUM ANALYZE")
    raw.autocommit = False
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts-per-unit", type=int, default=12, help="posts a year per unit (default 12)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each report per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (each gives a p95 per report)")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="time the data already in the database")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    url = os.environ.get("BENCH_HIERARCHY_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgresql"):
        sys.exit("BENCH_HIERARCHY_DATABASE_URL must name a PostgreSQL database")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    ensure_database(url)

    from sqlalchemy import func, select, text

    from publisher.db import db
    from web import create_app

    app = create_app({"database_url": url, "instance_path": tempfile.mkdtemp(prefix="loa-bench-"),
                      "secret_key": "bench-secret-key-0123456789"})
    with app.app_context():
        if not args.reuse:
            started = time.perf_counter()
            counts = generate(args.posts_per_unit, args.seed, args.year)
            print(f"generated in {time.perf_counter() - started:.0f} s: "
                  + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        from publisher.accounts.models import Unit, User
        from publisher.accounts.services import create_user, get_root_unit
        if args.reuse:
            upgrade_schema()
        from publisher.engagement.models import (
            EngagementChannelMonthly,
            EngagementDaily,
            EngagementMonthly,
            EngagementPostMonthly,
        )
        from publisher.reports.services import Period, dashboard_report, resolve_scope

        root = get_root_unit()
        district = db.session.scalar(select(Unit).where(Unit.parent_id == root.id).order_by(Unit.id))
        grassroots = db.session.scalar(select(Unit).where(Unit.parent_id == district.id).order_by(Unit.id.desc()))
        users = {}
        for key, unit in (("province", root), ("district", district), ("grassroots", grassroots)):
            email = f"bench-{key}@ldld.test"
            users[key] = db.session.scalar(select(User).where(User.email == email)) or create_user(email, "viewer",
                                                                                                   unit)
        db.session.commit()
        for user in users.values():  # signed in before the page's work, as in a request (engagement_dashboard.py)
            user.unit  # noqa: B018 (loads it)
            db.session.expunge(user)
        print("database:", url.rsplit("@", 1)[-1])
        print(f"  units: {db.session.scalar(select(func.count()).select_from(Unit)):,}")
        for model in (EngagementDaily, EngagementMonthly, EngagementPostMonthly, EngagementChannelMonthly):
            print(f"  {model.__tablename__}: {db.session.scalar(select(func.count()).select_from(model)):,} rows")
        settings = app.extensions["publisher.settings"]
        period = Period(date(args.year, 1, 1), date(args.year, 12, 31))

        def dashboard(user_key: str, sub_units: bool):  # type: ignore[no-untyped-def]
            def run() -> None:
                scope = resolve_scope(users[user_key], include_sub_units=sub_units)
                dashboard_report(scope, period, settings)  # what the dashboard page runs
                db.session.rollback()
            return run

        for user_key, sub_units in (("province", True), ("district", True), ("grassroots", False)):
            scope = resolve_scope(users[user_key], include_sub_units=sub_units)
            check_figures(dashboard_report(scope, period, settings)[0], period, scope.unit_ids)
        previous = period.previous()
        params = {"start": period.start, "last_month": period.end.replace(day=1),
                  "previous_start": previous.start, "previous_last_month": previous.end.replace(day=1)}

        def hand_tuned() -> None:  # the province's figures (the whole tree: no condition on units) by hand
            db.session.execute(text("SET LOCAL work_mem = '64MB'"))
            db.session.execute(text(HAND_TUNED), params).all()
            db.session.rollback()

        contenders = {"hand-tuned": hand_tuned, "province": dashboard("province", True),
                      "district": dashboard("district", True), "grassroots": dashboard("grassroots", False)}
        print(f"\none year ({period.start} – {period.end}), {args.posts_per_unit} posts per unit; {args.rounds} rounds "
              f"of {args.runs} runs each, the four taking turns run by run; p95 per round, median (min–max) over the "
              "rounds")
        print(f"before: {load_average()}")

        def progress(n: int, result) -> None:  # type: ignore[no-untyped-def]
            print(f"  round {n + 1}: " + ", ".join(f"{k} {result.p95(k).values[-1]:.1f} ms" for k in contenders)
                  + f"; load {result.loads[-1]:.2f}", flush=True)

        result = interleaved(contenders, rounds=args.rounds, runs=args.runs, report=progress)
        names = {"province": ("province roll-up (1,531 units)", 200), "district": ("district roll-up (51 units)", None),
                 "grassroots": ("grassroots unit", 300),
                 "hand-tuned": ("the province's figures, hand-tuned SQL", None)}
        for key, (name, target) in names.items():
            p95 = result.p95(key)
            verdict = f" (target <= {target} ms: {'met' if p95.median <= target else 'NOT met'})" if target else ""
            print(f"  {name:40s} p50 {result.p50(key).format(unit=' ms')}   p95 {p95.format(unit=' ms')}{verdict}")
        print(f"  province roll-up ÷ hand-tuned (p95)      {result.ratio('province', 'hand-tuned').format('{:.2f}', 'x')}")
        print(f"1-minute load during the rounds: {result.load().format('{:.1f}')}; after: {load_average()}")

if __name__ == "__main__":
    main()
