"""Small helpers shared by the editorial views."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user
from flask_wtf import FlaskForm

from publisher.errors import ValidationFailed


def require(minimum: str) -> None:
    """A clear 403 page for a role below ``minimum`` (unit scope is checked by the services)."""
    if not current_user.has_role(minimum):
        abort(403)


def add_field_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Put a service's field problems next to the form's fields (unknown keys go to the form as a whole)."""
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        target = list(field.errors) if field is not None else list(form.form_errors)
        target.extend(str(m) for m in messages)
        if field is not None:
            field.errors = target
        else:
            form.form_errors = target


def field_errors(exc: ValidationFailed) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in exc.fields.items()}


def int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    value = str(value).strip()
    return int(value) if value.isdigit() else None
