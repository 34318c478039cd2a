from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from publisher.accounts.models import ROLES
from publisher.accounts.services import MIN_PASSWORD_LENGTH
from web.editorial.wtforms_messages import LoaForm as FlaskForm


def role_choices() -> list[tuple[str, str]]:
    names = {"viewer": _l("Viewer (leadership)"), "editor": _l("Editor"), "approver": _l("Approver"),
             "admin": _l("Administrator")}
    return [(role, names[role]) for role in ROLES]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                   Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=500)])


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200, message=_l("At most %(max)d characters."))])
    locale = SelectField(_l("Language"), choices=[("vi", "Tiếng Việt"), ("en", "English")])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your password."))])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=500, message=_l("Use at least %(min)d characters.")),
    ])
    confirm = PasswordField(_l("New password again"), validators=[
        EqualTo("new_password", message=_l("The two new passwords differ.")),
    ])


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("A name is required.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    goal = TextAreaField(_l("Goal"), validators=[Optional(), Length(max=5000)])
    starts_on = StringField(_l("Starts on"))
    ends_on = StringField(_l("Ends on"))
    hashtags = StringField(_l("Hashtags"), description=_l("Separated by spaces or commas, without #."))


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("A name is required.")), Length(max=200)])
    parent_id = SelectField(_l("Parent unit"), coerce=int, validate_choice=False)


class UserCreateForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail address.")),
                                                   Length(max=320)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=role_choices)
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=False)
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=500, message=_l("Use at least %(min)d characters.")),
    ])


class UserEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=role_choices)
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=False)
    active = SelectField(_l("Status"), choices=[("1", _l("Active")), ("0", _l("Deactivated"))])
