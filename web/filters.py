"""Jinja filters: dates, times and numbers in the user's locale and the organisation's time zone."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale

from publisher import labels


# Babel takes ~0.1 ms per number or date; a report page shows a thousand of them (the reports dashboard spent a third
# of its time here: bench/admin_pages.py). Both are pure functions of (value, format, locale), so they are cached.
@lru_cache(maxsize=8192)
def _decimal(value: int | float, locale: str) -> str:
    return babel_numbers.format_decimal(value, locale=locale)


@lru_cache(maxsize=4096)
def _plain_date(value: date, fmt: str, locale: str) -> str:
    return babel_dates.format_date(value, fmt, locale=locale)

# The one mapping from codes to words (publisher.labels), for every template.
LABEL_GLOBALS = ("post_state_label", "role_label", "kind_label", "action_label", "object_label", "field_label",
                 "value_label", "audit_details", "attempt_action_label", "attempt_outcome_label", "rendition_label",
                 "channel_state_label", "webhook_event_label")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["get_locale"] = lambda: str(get_locale() or "vi")
    for name in LABEL_GLOBALS:
        app.jinja_env.globals[name] = app.jinja_env.filters[name] = getattr(labels, name)

    @app.template_filter("facebook_permission")
    def _facebook_permission(scope: str) -> str:
        """A Facebook permission by what Loa uses it for (the adapter's list), not by its code."""
        from publisher.channels.facebook_connect import PERMISSION_USES

        use = PERMISSION_USES.get(scope)
        return str(use) if use is not None else labels.field_label(scope)

    @app.template_global("zone_name")
    def _zone_name() -> str:
        """The organisation's time zone as people name it ("Giờ Đông Dương"), not its tz code."""
        from babel.dates import get_timezone_name

        from web import current_settings

        return get_timezone_name(current_settings().zone, locale=str(get_locale() or "vi"))

    @app.template_filter("datetime")
    def _datetime(value: datetime | None, fmt: str = "short") -> str:
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("datetime_input")
    def _datetime_input(value: datetime | None) -> str:
        """A UTC time as the value of an ``<input type="datetime-local">``: the organisation's local time."""
        from web import current_settings

        return value.astimezone(current_settings().zone).strftime("%Y-%m-%dT%H:%M") if value else ""

    @app.template_filter("date")
    def _date(value: date | datetime | None, fmt: str = "medium") -> str:
        if not value:
            return ""
        if not isinstance(value, datetime):  # a datetime is first moved to the organisation's zone by Flask-Babel
            return _plain_date(value, fmt, str(get_locale() or "vi"))
        return format_date(value, fmt)

    @app.template_filter("number")
    def _number(value: int | float | None) -> str:
        return _decimal(value or 0, str(get_locale() or "vi"))
