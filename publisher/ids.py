"""Ids given by people or clients (JSON bodies, query strings, form fields): parsed in one place, so that a number
the id columns cannot hold (PostgreSQL's ``integer`` stops at 2**31 - 1, SQLite's at 2**63 - 1) is a 422 naming
the field, never a database error."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from publisher.db import MAX_ID, is_id
from publisher.errors import ValidationFailed

__all__ = ["MAX_ID", "is_id", "parse_id", "parse_id_list", "parse_id_text"]


def parse_id(value: Any, field: str, *, required: bool = False, message: Any = None) -> int | None:
    """A JSON id: a positive integer within the id columns' range; ``None`` when absent and not required."""
    if value is None and not required:
        return None
    if not is_id(value):
        raise ValidationFailed({field: message or _l("Not a valid id.")})
    return value


def parse_id_text(raw: str | None, field: str) -> int | None:
    """An id from a query string or a form field (text); empty or absent means none."""
    if raw is None or not raw.strip():
        return None
    digits = raw.strip().lstrip("0")
    # Ten digits at most before int(): a longer number names nothing, and Python refuses very long ones.
    if not digits.isascii() or not digits.isdigit() or len(digits) > 10 or not is_id(int(digits)):
        raise ValidationFailed({field: _l("Not a valid id.")})
    return int(digits)


def parse_id_list(value: Any, field: str, *, required: bool = True, allow_empty: bool = False,
                  message: Any = None) -> list[int] | None:
    """A JSON list of ids. ``None`` when absent and not required; an empty list only with ``allow_empty``."""
    if value is None and not required:
        return None
    if not isinstance(value, list) or (not value and not allow_empty) or not all(is_id(i) for i in value):
        raise ValidationFailed({field: message or _l("Expected a list of ids (positive whole numbers).")})
    return value
