from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from publisher.feeds.services import DEFAULT_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES


class SourceForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("A name is required.")), Length(max=200)])
    url = StringField(_l("Feed address (RSS or Atom)"),
                      validators=[DataRequired(_l("The feed's address is required.")), Length(max=2000)])
    fetch_interval_minutes = IntegerField(
        _l("Fetch every (minutes)"), default=DEFAULT_INTERVAL_MINUTES,
        validators=[Optional(), NumberRange(MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES,
                                            _l("Between %(min)s and %(max)s minutes."))])
    active = BooleanField(_l("Active (fetched on schedule)"), default=True)
    auto_draft = BooleanField(_l("Make new items into drafts automatically (they still need approval)"))
    allow_private_address = BooleanField(_l("Allow a private or local network address (intranet feeds only)"))

    def data_for_service(self) -> dict[str, object]:
        return {"name": self.name.data or "", "url": (self.url.data or "").strip(),
                "fetch_interval_minutes": self.fetch_interval_minutes.data or DEFAULT_INTERVAL_MINUTES,
                "active": bool(self.active.data), "auto_draft": bool(self.auto_draft.data),
                "allow_private_address": bool(self.allow_private_address.data)}
