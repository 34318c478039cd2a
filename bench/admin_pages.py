"""p50 / p95 of every editorial page (every GET route under /admin/, found in the app's URL map, ids filled in from
the demo data) on SQLite, signed in as the demo admin (target: each ≤ 300 ms p95), with the machine's load.

    python bench/admin_pages.py [--runs 20] [--figures] [--only SUBSTRING] [--profile PATH]

Builds a throw-away instance (SQLite, embedded Redis stand-in) with what `publisher run --demo` creates (users,
the website, the sandbox Facebook Page and YouTube channel, the campaign and its posts); ``--figures`` adds what
bench/reports_pages.py adds (every demo post published on every channel with a year of daily figures). Times each
page through the app in-process (Flask's test client: the app's own time, no network), one warm-up request first.
Routes that are not pages are left out and named (OAuth hand-offs, chart images, file exports: the reports bench
times the exports). ``--profile PATH`` (with ``--only``) writes a pyinstrument HTML profile of one request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Not pages: hand-offs to Facebook and Google, images and downloads (timed by bench/reports_pages.py), sign-in.
LEFT_OUT = {"channels_ui.facebook_callback", "channels_ui.facebook_connect", "channels_ui.facebook_pages",
            "youtube_oauth.callback", "youtube_oauth.connect", "reports.chart", "reports.export", "editorial.login"}
KINDS = ("website", "facebook", "youtube")


def prepare_demo(instance: Path):  # type: ignore[no-untyped-def]
    os.environ.update({"PUBLISHER_INSTANCE_PATH": str(instance),
                       "PUBLISHER_DATABASE_URL": f"sqlite:///{instance / 'bench.db'}",
                       "PUBLISHER_SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    from flask_migrate import upgrade

    from publisher.channels.sandbox import start_sandboxes
    from publisher.db import db
    from publisher.demo import set_up_demo
    from web import MIGRATIONS_DIR, create_app

    sandboxes = start_sandboxes()
    app = create_app({**sandboxes.settings_overrides(), "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        set_up_demo(app.extensions["publisher.settings"], sandboxes.demo_channels())
        db.session.commit()
    return app, sandboxes


def first_ids(app) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    """The first row of each kind an /admin/ route takes an id of."""
    from sqlalchemy import func, select

    from publisher.accounts.models import User
    from publisher.channels.models import Channel
    from publisher.content.models import Campaign, Post
    from publisher.db import db
    from publisher.feeds.models import Source as FeedSource
    from publisher.hierarchy.models import Kit as CampaignKit
    from publisher.scheduler.models import Delivery

    models = {"post_id": Post, "campaign_id": Campaign, "channel_id": Channel, "delivery_id": Delivery,
              "kit_id": CampaignKit, "source_id": FeedSource, "user_id": User}
    with app.app_context():
        return {name: db.session.scalar(select(func.min(model.id))) for name, model in models.items()}


def pages(app) -> tuple[dict[str, str], list[str]]:  # type: ignore[no-untyped-def]
    """{name: path} of every GET page under /admin/, and the routes left out (with why)."""
    ids = first_ids(app)
    found: dict[str, str] = {}
    left_out: list[str] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/admin") or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in LEFT_OUT:
            left_out.append(f"{rule.rule} (not a page)")
            continue
        if "kind" in rule.arguments:
            for kind in KINDS:
                found[rule.rule.replace("<kind>", kind)] = rule.rule.replace("<kind>", kind)
            continue
        values = {arg: ids.get(arg) for arg in rule.arguments}
        missing = [arg for arg, value in values.items() if value is None]
        if missing:
            left_out.append(f"{rule.rule} (no {', '.join(missing)} in the demo data)")
            continue
        with app.test_request_context():
            from flask import url_for

            found[rule.rule] = url_for(rule.endpoint, **values)
    return found, left_out


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def signed_in(app) -> Any:  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post("/admin/login", data={"email": "admin@demo.loa", "password": "loa-demo-2026"})
    assert response.status_code == 302, "sign-in failed"
    return client


def measure(app, found: dict[str, str], runs: int) -> list[tuple[str, int, float, float]]:  # type: ignore[no-untyped-def]
    client = signed_in(app)
    results = []
    for name, url in found.items():
        status = client.get(url).status_code  # warm-up
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            status = client.get(url).status_code
            samples.append((time.perf_counter() - started) * 1000)
        results.append((name, status, statistics.median(samples), p95(samples)))
    return results


def profile(app, url: str, out: Path) -> None:  # type: ignore[no-untyped-def]
    from pyinstrument import Profiler

    client = signed_in(app)
    client.get(url)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    client.get(url)
    profiler.stop()
    out.write_text(profiler.output_html(), encoding="utf-8")
    print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--figures", action="store_true", help="add a year of figures (as bench/reports_pages.py)")
    parser.add_argument("--only", help="only the pages whose route contains this")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of the first --only page here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loa-bench-admin-") as folder:
        if args.figures:
            from reports_pages import prepare

            app, _campaign_id, sandboxes = prepare(Path(folder))
        else:
            app, sandboxes = prepare_demo(Path(folder))
        try:
            found, left_out = pages(app)
            if args.only:
                found = {k: v for k, v in found.items() if args.only in k}
            if args.profile:
                profile(app, next(iter(found.values())), args.profile)
                return
            load_before = os.getloadavg()
            results = measure(app, found, args.runs)
            load_after = os.getloadavg()
            print(f"machine: {os.cpu_count()} cores, load average before {load_before[0]:.2f} / after "
                  f"{load_after[0]:.2f} (1 min), {args.runs} runs per page, SQLite, in-process"
                  + (", a year of figures" if args.figures else ", the demo data"))
            print("| page | status | p50 ms | p95 ms | ≤ 300 ms p95 |\n| --- | --- | ---: | ---: | --- |")
            for name, status, median, high in results:
                print(f"| `{name}` | {status} | {median:.0f} | {high:.0f} | {'yes' if high <= 300 else 'NO'} |")
            for line in left_out:
                print(f"left out: {line}")
        finally:
            sandboxes.stop()


if __name__ == "__main__":
    main()
