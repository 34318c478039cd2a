"""The channel forms, drawn from each kind's description (its connect fields): no kind is named here."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from publisher.channels.base import descriptions

NAME = [DataRequired(_l("A name is required.")), Length(max=200)]


def _field(spec: Any, label: Any) -> Any:
    validators = ([DataRequired(spec.required_message or _l("This field is required."))] if spec.required
                  else [Optional()]) + [Length(max=spec.max_length)]
    return (PasswordField if spec.secret else StringField)(label, validators=validators)


def connect_form(kind: str) -> type[FlaskForm] | None:
    """The form connecting a channel of ``kind``: a name and the kind's connect fields; None for an unknown kind."""
    description = descriptions().get(kind)
    if description is None:
        return None
    fields = {"name": StringField(_l("Name"), validators=NAME)}
    fields.update({spec.name: _field(spec, spec.label) for spec in description.connect_fields})
    return type(f"Connect{kind.title()}Form", (FlaskForm,), fields)


def reconnect_form(kind: str) -> type[FlaskForm] | None:
    """The form giving a channel of ``kind`` new credentials; None when the kind has nothing to type again."""
    description = descriptions().get(kind)
    specs = [spec for spec in (description.connect_fields if description else ()) if spec.reconnect]
    if not specs:
        return None
    fields = {spec.name: _field(spec, spec.reconnect_label or spec.label) for spec in specs}
    return type(f"Reconnect{kind.title()}Form", (FlaskForm,), fields)
