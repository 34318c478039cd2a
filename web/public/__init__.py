"""The public news website at /."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask_babel import format_datetime

from web import current_settings

bp = Blueprint("public", __name__)


@bp.app_template_filter("newsdate")
def news_date(value: datetime | None) -> str:
    """``Thứ Năm, 26/11/2026, 14:05`` in the organisation's time zone."""
    return format_datetime(value, "EEEE, dd/MM/yyyy, HH:mm") if value else ""


@bp.app_template_filter("isotime")
def iso_time(value: datetime | None) -> str:
    """A ``<time datetime>`` value to the second, in the organisation's time zone (``2026-11-26T14:05:00+07:00``):
    HTML allows at most three fraction digits, Python writes six."""
    if value is None:
        return ""
    return value.astimezone(current_settings().zone).replace(microsecond=0).isoformat()


from web.public import views  # noqa: E402,F401
