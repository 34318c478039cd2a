"""Report figures in words a leader reads: the change against the previous period ("+12 % so với 6 tháng trước
(1.234 → 1.382)") and how old the figures are (never a time in the future). In the current locale (the PDF and
DOCX force Vietnamese)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_decimal, format_percent, format_timedelta
from flask_babel import gettext as _

from publisher.reports.services import Period


def previous_period_words(period: Period) -> str:
    """What the period is compared with, in words: "the previous 6 months", "the previous year", "the previous
    30 days" (the previous period is as many calendar months, or days, just before)."""
    months = period.months
    if months == 12:
        return _("the previous year")
    if months == 3:
        return _("the previous quarter")
    if months == 1:
        return _("the previous month")
    if months is not None:
        return _("the previous %(num)s months", num=months)
    if period.days == 1:
        return _("the previous day")
    return _("the previous %(num)s days", num=period.days)


def change_percent(current: int, previous: int) -> str:
    """"+12 %", "−3,5 %", "±0 %": whole percents from 10 % up, one decimal below (a leader reads "+0,4 %" as
    "about the same", "+0 %" would hide it)."""
    change = (current - previous) / previous
    if change == 0:
        return "±" + format_percent(0, "#,##0 %")
    pattern = "#,##0 %" if abs(change) >= 0.1 else "#,##0.0 %"
    text = format_percent(abs(change), pattern)
    return ("+" if change > 0 else "−") + text


def compare_words(current: int, previous: int, period: Period) -> str:
    """"+12 % so với 6 tháng trước (1.234 → 1.382)"; "chưa có số liệu kỳ trước" when the previous period has
    nothing to compare with."""
    if not previous:
        return _("no figures for the previous period")
    return _("%(change)s vs. %(previous_period)s (%(before)s → %(now)s)", change=change_percent(current, previous),
             previous_period=previous_period_words(period), before=format_decimal(previous),
             now=format_decimal(current))


def age_words(moment: datetime | None, now: datetime) -> str:
    """How long ago ``moment`` was ("5 phút trước"); a moment at or after ``now`` (a clock a little ahead, a
    collection finishing during this request) is "just now", never a time in the future."""
    if moment is None:
        return _("never")
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return _("just now")
    # Babel reads a positive delta as "in 5 minutes" (the old "sau 1 phút nữa"): the past is negative.
    return format_timedelta(-elapsed, add_direction=True, threshold=0.95)
