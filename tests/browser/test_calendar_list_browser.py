"""The calendar's list view in a real browser: reached as the toolbar's first link from the keyboard, a table that
fits a 390 px phone, no serious or critical axe-core violation, no console error (the page's CSP included); and a
failed delivery's page says why in Loa's words with the channel's own answer folded away."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from datetime import datetime

import pytest

from publisher.channels.base import kinds
from publisher.channels.models import Channel
from publisher.db import db
from publisher.scheduler.models import Delivery, DeliveryAttempt
from tests.browser.test_admin_quality import AXE_SOURCE, _vnu_jar
from tests.conftest import sign_in_session

pytestmark = pytest.mark.usefixtures("close_connections")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def month(app, root_unit, make_user, make_post, settings):  # type: ignore[no-untyped-def]
    """An editor and, in May 2099, one delivery on a channel of every registered kind, one of them failed."""
    editor = make_user("editor")
    made = []
    for n, kind in enumerate(kinds()):
        channel = Channel(unit_id=root_unit.id, kind=kind, name=f"Kênh {n + 1}", settings={}, state="connected",
                          last_error="")
        db.session.add(channel)
        db.session.flush()
        post = make_post(author=editor, state="approved", title=f"Bài số {n + 1}")
        row = Delivery(post_id=post.id, channel_id=channel.id, unit_id=post.unit_id, scheduled_at=datetime(
            2099, 5, 3 + n, 7, 30, tzinfo=settings.zone), idempotency_key=uuid.uuid4().hex,
            state="failed" if n == 0 else "scheduled",
            last_error="E400: the title is too long" if n == 0 else None, last_error_code="E400" if n == 0 else None)
        db.session.add(row)
        db.session.flush()
        if n == 0:
            db.session.add(DeliveryAttempt(delivery_id=row.id, outcome="rejected", code="E400",
                                           message="the title is too long"))
        made.append(row)
    db.session.commit()
    return editor, made


def no_horizontal_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.browser
def test_the_list_view_from_the_keyboard_on_a_phone(browser_page, month):  # type: ignore[no-untyped-def]
    editor, deliveries = month
    w = browser_page()
    w.page.set_viewport_size(PHONE)
    w.sign_in(editor.email)
    page = w.page
    w.goto("/admin/calendar?date=2099-05-01")
    page.locator(".ec-event").first.wait_for()  # the drag calendar is up (its scripts ran)
    why = page.locator(".ec-event .ev[title]")  # the failed one says why, in Loa's words
    assert why.count() == 1 and why.get_attribute("title").startswith("Kênh từ chối nội dung bài")
    assert page.evaluate("[...document.querySelectorAll('.ec-event')].every(e => !/background/.test("
                         "e.getAttribute('style') || ''))")  # colours come from the kinds' stylesheet
    link = page.locator("form.calendar-tools a").first
    assert link.get_attribute("id") == "calendar-list-link"
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**view=list**")
    table = page.locator("table.delivery-list")
    assert table.locator("tbody tr").count() == len(deliveries)
    assert table.locator("th").all_inner_texts()[:5] == ["Thời gian", "Kênh", "Bài viết", "Trạng thái", "Thao tác"]
    first = table.locator("tbody tr").first
    assert "07:30" in first.inner_text() and "Thất bại" in first.inner_text()
    assert "Kênh từ chối nội dung bài" in first.inner_text()
    no_horizontal_scroll(page)
    w.screenshot("calendar-list-phone")
    first.locator(f"a[href='/admin/posts/{deliveries[0].post_id}']").click()
    page.wait_for_url(f"**/admin/posts/{deliveries[0].post_id}")


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
def test_the_list_view_passes_axe(browser_page, month, width):  # type: ignore[no-untyped-def]
    editor, _deliveries = month
    w = browser_page(bypass_csp=True)  # for axe's script only; the test above watches the CSP
    w.page.set_viewport_size({"width": width, "height": 900})
    w.sign_in(editor.email)
    w.goto("/admin/calendar?view=list&date=2099-05-01")
    w.page.evaluate(AXE_SOURCE)
    result = w.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [f"{v['id']}: {v['help']} ({', '.join(str(n['target'][0]) for n in v['nodes'][:3])})"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(serious)


@pytest.mark.browser
def test_a_failed_delivery_says_why_and_folds_the_channels_answer(browser_page, month):  # type: ignore[no-untyped-def]
    editor, deliveries = month
    w = browser_page()
    w.sign_in(editor.email)
    page = w.page
    w.goto(f"/admin/deliveries/{deliveries[0].id}")
    sentence = page.locator(".delivery-problem .problem-sentence")
    assert sentence.inner_text().startswith("Kênh từ chối nội dung bài")
    answer = page.locator(".delivery-problem details.platform-answer")
    assert answer.locator("summary").inner_text() == "Nguyên văn trả lời của kênh"
    assert not answer.locator("p").is_visible()  # folded
    answer.locator("summary").click()
    assert answer.locator("p").is_visible() and "the title is too long" in answer.locator("p").inner_text()


def test_the_list_view_is_valid_html(app, month, tmp_path):  # type: ignore[no-untyped-def]
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java on this machine for the Nu HTML Checker")
    editor, _deliveries = month
    client = app.test_client()
    sign_in_session(client, editor)
    files = []
    for n, path in enumerate(("/admin/calendar?view=list&date=2099-05-01", "/admin/calendar?view=list&date=2099-07-01",
                              f"/admin/deliveries/{_deliveries[0].id}", f"/admin/posts/{_deliveries[0].post_id}")):
        response = client.get(path)
        assert response.status_code == 200, path
        files.append(tmp_path / f"{n}.html")
        files[-1].write_text(response.get_data(as_text=True), encoding="utf-8")
    run = subprocess.run([java, "-Xss4m", "-jar", str(_vnu_jar()), "--format", "json", "--errors-only",
                          *map(str, files)], capture_output=True, text=True, timeout=300)
    report = json.loads(run.stderr or '{"messages": []}')
    errors = [f"{m.get('url')}:{m.get('lastLine')}: {m['message']}" for m in report["messages"]
              if m.get("type") in ("error", "non-document-error")]
    assert not errors, "\n".join(errors)
