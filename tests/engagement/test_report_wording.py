"""The report's figures in words a leader reads: the change against the previous period, and the figures' age."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale

from publisher.reports.services import Period, preset_period
from tests.engagement.test_engagement_pages import sign_in
from web.reports.wording import age_words, compare_words

HALF = Period(date(2026, 7, 1), date(2026, 12, 31))
NOW = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("current,previous,period,words", [
    (1382, 1234, HALF, "+12 % so với 6 tháng trước (1.234 → 1.382)"),
    (900, 1000, HALF, "−10 % so với 6 tháng trước (1.000 → 900)"),
    (1004, 1000, Period(date(2026, 1, 1), date(2026, 12, 31)), "+0,4 % so với năm trước (1.000 → 1.004)"),
    (50, 50, Period(date(2026, 11, 1), date(2026, 11, 30)), "±0 % so với tháng trước (50 → 50)"),
    (300, 100, Period(date(2026, 10, 1), date(2026, 12, 31)), "+200 % so với quý trước (100 → 300)"),
    (20, 10, Period(date(2026, 6, 3), date(2026, 6, 9)), "+100 % so với 7 ngày trước (10 → 20)"),
    (1234, 0, HALF, "chưa có số liệu kỳ trước"),
    (0, 0, HALF, "chưa có số liệu kỳ trước"),
])
def test_change_in_words(app, current, previous, period, words):
    with app.test_request_context(), force_locale("vi"):
        assert compare_words(current, previous, period) == words


def test_change_in_english(app):
    with app.test_request_context(), force_locale("en"):
        assert compare_words(1382, 1234, HALF) == "+12 % vs. the previous 6 months (1,234 → 1,382)"
        assert compare_words(5, 0, HALF) == "no figures for the previous period"


def test_whole_months_compare_with_as_many_months_before():
    assert HALF.previous() == Period(date(2026, 1, 1), date(2026, 6, 30))
    assert preset_period("year", date(2026, 5, 1)).previous() == Period(date(2025, 1, 1), date(2025, 12, 31))
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period(date(2026, 1, 1), date(2026, 3, 31)).previous() == Period(date(2025, 10, 1), date(2025, 12, 31))
    # days that are not whole months: as many days before
    assert Period(date(2026, 6, 3), date(2026, 6, 9)).previous() == Period(date(2026, 5, 27), date(2026, 6, 2))


@pytest.mark.parametrize("moment,words", [
    (NOW + timedelta(minutes=1), "vừa xong"),  # a clock a little ahead: never "sau 1 phút nữa"
    (NOW + timedelta(hours=3), "vừa xong"),
    (NOW, "vừa xong"),
    (NOW - timedelta(seconds=20), "vừa xong"),
    (NOW - timedelta(minutes=5), "5 phút trước"),
    (NOW - timedelta(days=2), "2 ngày trước"),
    (None, "chưa bao giờ"),
])
def test_figures_age_is_never_in_the_future(app, moment, words):
    with app.test_request_context(), force_locale("vi"):
        assert age_words(moment, NOW) == words


def test_dashboard_cards_read_as_sentences(client, seeded, make_user):
    sign_in(client, make_user("viewer"))
    html = client.get("/admin/reports/?period=custom&from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    # June (200 views) against May (100): the whole month before
    assert "+100 % so với tháng trước (100 → 200)" in html
    assert "chưa có số liệu kỳ trước" in html  # no reactions in May
    assert "so với 0 kỳ trước" not in html and "nữa" not in html
