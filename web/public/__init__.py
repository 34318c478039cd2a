"""The public news website at /."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask_babel import format_datetime

bp = Blueprint("public", __name__)


@bp.app_template_filter("newsdate")
def news_date(value: datetime | None) -> str:
    """``Thứ Năm, 26/11/2026, 14:05`` in the organisation's time zone."""
    return format_datetime(value, "EEEE, dd/MM/yyyy, HH:mm") if value else ""


from web.public import views  # noqa: E402,F401
