"""p95 of the leadership's report pages on the demo data (SQLite): the dashboard, the campaign report, the PDF
and the DOCX report (target: each ≤ 500 ms), with the machine's load printed beside them.

    python bench/reports_pages.py [--rounds 3] [--runs 10] [--screenshots docs/screenshots]

Builds a throw-away instance (SQLite, embedded Redis stand-in) with what `publisher run --demo` creates (users,
the website, the sandbox Facebook Page and YouTube channel, the campaign and its posts), publishes the demo posts
on every channel and gives each a year of daily figures (views, reactions, comments, shares; watch time on
YouTube), as the collector would have stored them, then times each page through the app in-process (Flask's test
client: the app's own time, no network). One warm-up request per page first (matplotlib's font cache, Jinja's
templates). With ``--screenshots DIR`` it also serves the instance on 127.0.0.1 and saves the dashboard (headless
Chromium) and the PDF's first text page (pdftoppm) as PNG files.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import interleaved, load_average  # noqa: E402

PAGES = {
    "dashboard (six months)": "/admin/reports/?period=half",
    "dashboard (year)": "/admin/reports/?period=year",
    "campaign report": "/admin/reports/campaigns/{campaign_id}",
    "PDF report (six months)": "/admin/reports/export.pdf?period=half",
    "DOCX report (six months)": "/admin/reports/export.docx?period=half",
}
TODAY = date(2026, 12, 2)


def prepare(instance: Path):  # type: ignore[no-untyped-def]
    """The demo instance with a year of figures; returns (app, campaign id, sandboxes)."""
    os.environ.update({"PUBLISHER_INSTANCE_PATH": str(instance),
                       "PUBLISHER_DATABASE_URL": f"sqlite:///{instance / 'bench.db'}",
                       "PUBLISHER_SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    from flask_migrate import upgrade
    from sqlalchemy import select

    from publisher.channels.models import Channel
    from publisher.channels.sandbox import start_sandboxes
    from publisher.content.models import Campaign, Post
    from publisher.db import db
    from publisher.demo import set_up_demo
    from publisher.engagement.models import EngagementDaily, EngagementMonthly, EngagementTotals
    from publisher.engagement.services import rebuild_channel_freshness, rebuild_period_rollups
    from publisher.scheduler.models import Delivery
    from web import MIGRATIONS_DIR, create_app

    sandboxes = start_sandboxes()
    app = create_app({**sandboxes.settings_overrides(), "WTF_CSRF_ENABLED": False})
    settings = app.extensions["publisher.settings"]
    rng = random.Random(15)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        set_up_demo(settings, sandboxes.demo_channels())
        db.session.commit()
        campaign = db.session.scalars(select(Campaign)).first()
        posts = db.session.scalars(select(Post)).all()
        channels = db.session.scalars(select(Channel)).all()
        start = date(TODAY.year - 1, TODAY.month, 1)
        for post in posts:
            for channel in channels:
                published = datetime(start.year, start.month, 1, 3, 0, tzinfo=UTC) + timedelta(days=rng.randrange(60))
                delivery = Delivery(post_id=post.id, channel_id=channel.id, unit_id=channel.unit_id, state="published",
                                    scheduled_at=published, published_at=published, remote_id=f"bench-{post.id}-{channel.id}",
                                    idempotency_key=f"bench-{post.id}-{channel.id}")
                db.session.add(delivery)
                db.session.flush()
                where = {"delivery_id": delivery.id, "channel_id": channel.id, "post_id": post.id,
                         "unit_id": channel.unit_id, "campaign_id": post.campaign_id}
                months: dict[date, dict[str, int]] = {}
                totals = dict.fromkeys(("views", "reactions", "comments", "shares", "watch_time"), 0)
                day = published.date()
                scale = {"facebook": 400, "youtube": 150, "website": 120}.get(channel.kind, 100)
                while day <= TODAY:
                    age = (day - published.date()).days
                    views = int(rng.expovariate(1.0) * scale / (1 + age / 20))
                    gains = {"views": views, "reactions": views // rng.randint(8, 20), "comments": views // 60,
                             "shares": views // 90 if channel.kind == "facebook" else 0,
                             "watch_time": views * 2 if channel.kind == "youtube" else 0}
                    db.session.add(EngagementDaily(day=day, **where, **gains))
                    month = months.setdefault(day.replace(day=1), dict.fromkeys(gains, 0))
                    for key, value in gains.items():
                        month[key] += value
                        totals[key] += value
                    day += timedelta(days=1)
                for month_start, gains in months.items():
                    db.session.add(EngagementMonthly(month=month_start, **where, **gains))
                db.session.add(EngagementTotals(delivery_id=delivery.id, channel_id=channel.id, unit_id=channel.unit_id,
                                                collected_at=datetime.now(UTC) - timedelta(minutes=rng.randrange(90)),
                                                measure_states={}, **totals))
        rebuild_period_rollups()
        rebuild_channel_freshness()  # the channels' freshness over the totals written above
        db.session.commit()
        return app, campaign.id, sandboxes


def measure(app, campaign_id: int, runs: int, rounds: int):  # type: ignore[no-untyped-def]
    """The pages take turns request by request (``runs`` each per round, ``rounds`` rounds): a change in the
    machine's load touches every page alike."""
    client = app.test_client()
    response = client.post("/admin/login", data={"email": "admin@demo.loa", "password": "loa-demo-2026"})
    assert response.status_code == 302, "sign-in failed"

    def page(url: str):  # type: ignore[no-untyped-def]
        def get() -> None:
            status = client.get(url).status_code
            assert status == 200, (url, status)
        return get

    return interleaved({name: page(path.format(campaign_id=campaign_id)) for name, path in PAGES.items()},
                       rounds=rounds, runs=runs)


def screenshots(app, out: Path) -> None:  # type: ignore[no-untyped-def]
    """The dashboard in headless Chromium and the PDF's first page after the cover, as PNG files in ``out``."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    out.mkdir(parents=True, exist_ok=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            page.goto(f"{base}/admin/login")
            page.fill("input[name=email]", "admin@demo.loa")
            page.fill("input[name=password]", "loa-demo-2026")
            page.click("button[type=submit]")
            page.goto(f"{base}/admin/reports/?period=half")
            page.wait_for_function("document.querySelectorAll('canvas[data-chart]').length > 0 && "
                                   "[...document.querySelectorAll('canvas[data-chart]')].every(c => c.width > 0)")
            page.locator("canvas[data-chart=trend]").first.hover()
            page.screenshot(path=str(out / "reports-dashboard.png"), full_page=True)
            pdf = page.request.get(f"{base}/admin/reports/export.pdf?period=half").body()
            browser.close()
    finally:
        server.shutdown()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-f", "2", "-l", "2", "-r", "70", "-png", "-singlefile", str(path),
                        str(out / "reports-pdf-page")], check=True)
    print(f"screenshots: {out / 'reports-dashboard.png'}, {out / 'reports-pdf-page.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="requests per page per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (each gives a p50 and a p95 per page)")
    parser.add_argument("--screenshots", type=Path, help="also save the dashboard and a PDF page here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loa-bench-reports-") as folder:
        app, campaign_id, sandboxes = prepare(Path(folder))
        try:
            print(f"before: {load_average()}; {args.rounds} rounds of {args.runs} requests per page, the pages "
                  "taking turns, SQLite, in-process; median (min–max) over the rounds")
            result = measure(app, campaign_id, args.runs, args.rounds)
            print(f"{'page':<28} {'p50 ms':>18} {'p95 ms':>18}  target ≤ 500 ms p95")
            for name in PAGES:
                p50, p95 = result.p50(name), result.p95(name)
                print(f"{name:<28} {p50.format('{:.0f}'):>18} {p95.format('{:.0f}'):>18}  "
                      f"{'met' if p95.median <= 500 else 'NOT met'}")
            print(f"1-minute load during the rounds: {result.load().format('{:.1f}')}; after: {load_average()}")
            if args.screenshots:
                screenshots(app, args.screenshots)
        finally:
            sandboxes.stop()


if __name__ == "__main__":
    main()
