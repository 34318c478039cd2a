"""WTForms' own validation messages, routed through Flask-Babel so that they come out in the user's language.

WTForms ships no Vietnamese catalogue; the forms of the editorial UI ask our catalogue instead (``LoaForm``).
The calls below are never run: they only list the messages for ``pybabel extract``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations, gettext, ngettext
from flask_wtf import FlaskForm


class _BabelTranslations:
    """Untranslated lookups only: WTForms fills the placeholders itself."""

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


class LoaForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> _BabelTranslations:
            return _BabelTranslations()


def _listed_for_extraction() -> None:  # pragma: no cover
    gettext("This field is required.")
    gettext("Not a valid choice.")
    gettext("Invalid Choice: could not coerce.")
    gettext("Invalid choice(s): one or more data inputs could not be coerced.")
    gettext("Not a valid integer value.")
    gettext("Invalid field name '%(other_name)s'.")
    gettext("Field must be equal to %(other_name)s.")
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1)
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1)
    gettext("Field must be between %(min)d and %(max)d characters long.")
