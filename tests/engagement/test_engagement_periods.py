from datetime import date

import pytest

from publisher.errors import ValidationFailed
from publisher.reports.services import Period, parse_period, preset_period

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize("name,start,end", [
    ("month", date(2026, 11, 1), date(2026, 11, 30)),
    ("previous_month", date(2026, 10, 1), date(2026, 10, 31)),
    ("quarter", date(2026, 10, 1), date(2026, 12, 31)),
    ("previous_quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ("half", date(2026, 7, 1), date(2026, 12, 31)),
    ("previous_half", date(2026, 1, 1), date(2026, 6, 30)),
    ("year", date(2026, 1, 1), date(2026, 12, 31)),
    ("previous_year", date(2025, 1, 1), date(2025, 12, 31)),
])
def test_presets(name, start, end):
    assert preset_period(name, TODAY) == Period(start, end)


def test_previous_half_in_january_is_last_year():
    assert preset_period("previous_half", date(2027, 1, 5)) == Period(date(2026, 7, 1), date(2026, 12, 31))
    assert preset_period("previous_month", date(2027, 1, 5)) == Period(date(2026, 12, 1), date(2026, 12, 31))


def test_previous_period_has_the_same_length():
    june = Period(date(2026, 6, 1), date(2026, 6, 30))
    assert june.previous() == Period(date(2026, 5, 1), date(2026, 5, 31))  # whole months: the month before
    assert Period(date(2026, 6, 2), date(2026, 6, 30)).previous() == Period(date(2026, 5, 4), date(2026, 6, 1))
    assert Period(date(2026, 3, 1), date(2026, 3, 1)).previous() == Period(date(2026, 2, 28), date(2026, 2, 28))


def test_bad_periods_name_their_fields():
    with pytest.raises(ValidationFailed) as caught:
        parse_period("2026-02-30", "")
    assert set(caught.value.fields) == {"from", "to"}
    with pytest.raises(ValidationFailed):
        preset_period("decade", TODAY)


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
def test_a_series_has_every_bucket_the_period_touches_once(bucket):
    from datetime import timedelta

    from publisher.reports.services import _series

    period = Period(date(2026, 1, 14), date(2026, 12, 3))  # starts on a Wednesday, mid-month
    series = _series(period, bucket, [(date(2026, 2, 5), (1, 2, 3, 4)), (date(2026, 2, 6), (1, 0, 0, 0))])
    starts, day = set(), period.start
    while day <= period.end:  # the bucket of every day of the period
        starts.add({"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}[bucket])
        day += timedelta(days=1)
    assert [point["start"] for point in series] == sorted(starts)
    assert sum(point["views"] for point in series) == 2 and sum(point["shares"] for point in series) == 4
