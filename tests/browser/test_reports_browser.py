"""The report page in Chromium: the Chart.js charts draw under the admin pages' strict CSP (no console error),
one per measure, and hovering a chart shows its value."""

from __future__ import annotations

import pytest

from tests.engagement.conftest import (  # noqa: F401  (fixtures: the engagement tests' seeded figures)
    app_config,
    make_channel,
    make_delivery,
    metrics_server,
    seeded,
    testchannel,
)

pytestmark = pytest.mark.browser


def test_report_charts_draw_and_show_values(browser_page, seeded, make_user):  # noqa: F811
    viewer = make_user("viewer")
    page = browser_page()
    page.sign_in(viewer.email)
    page.goto("/admin/reports/?period=custom&from=2026-06-01&to=2026-06-30")
    p = page.page
    p.wait_for_function("[...document.querySelectorAll('canvas[data-chart]')].every(c => c.width > 0)")
    assert p.locator('canvas[data-chart="trend"]').count() == 4
    assert p.locator('canvas[data-chart="channels"]').count() == 1
    assert p.evaluate("Object.keys(Chart.instances).length") >= 5
    # hover over the 10th of June on the views chart: its tooltip carries that day's views
    views = p.locator('canvas[data-chart="trend"][data-measure="views"]')
    views.scroll_into_view_if_needed()
    box = views.bounding_box()
    label = p.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('canvas[data-measure="views"]'));
        const meta = chart.getDatasetMeta(0);
        const point = meta.data[9];
        return {x: point.x, y: point.y};
    }""")
    p.mouse.move(box["x"] + 2, box["y"] + 2)
    p.mouse.move(box["x"] + label["x"], box["y"] + label["y"], steps=3)
    p.wait_for_timeout(300)  # Chart.js handles pointer events on the next animation frame
    tooltip = p.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('canvas[data-measure="views"]'));
        return chart.tooltip.opacity > 0 ? chart.tooltip.body.map(b => b.lines.join(' ')).join(' ') : '';
    }""")
    assert "Lượt xem: 180" in tooltip
    page.screenshot("reports-dashboard")
