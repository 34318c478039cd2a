"""The dashboard's charts (Chart.js in the browser, drawn from the page's JSON block) and watch time for videos."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from publisher.db import db
from tests.engagement.conftest import TEST_CONFIG
from tests.engagement.test_engagement_pages import sign_in

JUNE = "period=custom&from=2026-06-01&to=2026-06-30"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "engagement-watch.toml"
    path.write_text(TEST_CONFIG.replace('shares = ["shares"]', 'shares = ["shares"]\nwatch_time = ["minutes"]'),
                    encoding="utf-8")
    return {**app_config, "engagement_config": path}


def _charts(html: str) -> dict[str, Any]:
    block = re.search(r'<script type="application/json" id="report-charts">(.*?)</script>', html, re.S)
    assert block, "the charts' JSON block"
    return json.loads(block.group(1))


def test_one_chart_per_measure_by_day_with_channel_colours(client, seeded, make_user, root_unit):
    sign_in(client, make_user("viewer"))
    html = client.get(f"/admin/reports/?{JUNE}&unit_id={root_unit.id}&include_sub_units=true").get_data(as_text=True)
    charts = _charts(html)
    assert charts["bucket"] == "day" and len(charts["labels"]) == 30
    keys = [m["key"] for m in charts["measures"]]
    assert keys[:4] == ["views", "reactions", "comments", "shares"]
    assert sum(next(m for m in charts["measures"] if m["key"] == "views")["values"]) == 207
    assert len(re.findall(r'<canvas data-chart="trend"', html)) == len(keys)  # one chart each, own axis
    assert dict(zip(charts["channels"]["names"], charts["channels"]["values"], strict=True))["Trang Facebook"] == 190
    assert charts["units"]["names"][0] == "Liên đoàn Lao động tỉnh"
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in html
    assert client.get("/static/vendor/chartjs/chart.umd.min.js").status_code == 200


@pytest.mark.parametrize("query,bucket", [("period=previous_half", "week"), ("period=year", "month")])
def test_trend_by_week_or_month_as_fits_the_period(client, seeded, make_user, query, bucket):
    sign_in(client, make_user("viewer"))
    assert _charts(client.get(f"/admin/reports/?{query}").get_data(as_text=True))["bucket"] == bucket


def test_watch_time_shown_for_videos_beside_the_totals(client, seeded, make_user, metrics_server, make_token):
    from publisher.engagement.services import collect_engagement

    d3 = seeded["deliveries"][2]  # the "YouTube" channel's video
    metrics_server.figures[d3.remote_id] = {"values": {"post_media_view": 12, "reactions": 2, "minutes": 95}}
    collect_engagement(datetime(2026, 6, 20, 3, 0, tzinfo=UTC), every_published=True)
    db.session.commit()
    viewer = make_user("viewer")
    sign_in(client, viewer)
    html = client.get(f"/admin/reports/?{JUNE}").get_data(as_text=True)
    assert 'data-measure="watch_time">95<' in html
    assert "Thời lượng xem (phút)" in html
    assert sum(next(m for m in _charts(html)["measures"] if m["key"] == "watch_time")["values"]) == 95
    # the API's totals keep their shape
    body = client.get("/api/v1/reports/engagement?from=2026-06-01&to=2026-06-30",
                      headers={"Authorization": f"Bearer {make_token(viewer)}"}).get_json()
    assert set(body["totals"]) == {"views", "reactions", "comments", "shares"}
