from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

NAME = [DataRequired(_l("A name is required.")), Length(max=200)]


class WebsiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=NAME)


class FacebookForm(FlaskForm):
    name = StringField(_l("Name"), validators=NAME)
    page_id = StringField(_l("Facebook Page id"), validators=[DataRequired(_l("The Page id is required.")),
                                                               Length(max=100)])
    access_token = PasswordField(_l("Page access token"), validators=[
        DataRequired(_l("A Page access token is required.")), Length(max=2000)])


class YoutubeForm(FlaskForm):
    name = StringField(_l("Name"), validators=NAME)
    channel_id = StringField(_l("YouTube channel id"), validators=[DataRequired(_l("The channel id is required.")),
                                                                    Length(max=100)])
    access_token = PasswordField(_l("Access token"), validators=[DataRequired(_l("An access token is required.")),
                                                                 Length(max=4000)])
    refresh_token = PasswordField(_l("Refresh token (optional)"), validators=[Optional(), Length(max=4000)])
    client_id = StringField(_l("OAuth client id (optional)"), validators=[Optional(), Length(max=300)])
    client_secret = PasswordField(_l("OAuth client secret (optional)"), validators=[Optional(), Length(max=300)])


class ZaloForm(FlaskForm):
    name = StringField(_l("Name"), validators=NAME)
    oa_id = StringField(_l("Zalo Official Account id"), validators=[DataRequired(_l("The OA id is required.")),
                                                                     Length(max=100)])
    access_token = PasswordField(_l("Access token"), validators=[DataRequired(_l("An access token is required.")),
                                                                 Length(max=4000)])
    refresh_token = PasswordField(_l("Refresh token"), validators=[DataRequired(_l("A refresh token is required.")),
                                                                   Length(max=4000)])


FORMS = {"website": WebsiteForm, "facebook": FacebookForm, "youtube": YoutubeForm, "zalo": ZaloForm}
SECRET_FIELDS = {"access_token", "refresh_token", "client_secret"}


class ReconnectFacebookForm(FlaskForm):
    access_token = PasswordField(_l("New Page access token"), validators=[
        DataRequired(_l("A Page access token is required.")), Length(max=2000)])


class ReconnectYoutubeForm(FlaskForm):
    access_token = PasswordField(_l("New access token"), validators=[
        DataRequired(_l("An access token is required.")), Length(max=4000)])
    refresh_token = PasswordField(_l("New refresh token (optional)"), validators=[Optional(), Length(max=4000)])


class ReconnectZaloForm(FlaskForm):
    access_token = PasswordField(_l("New access token"), validators=[
        DataRequired(_l("An access token is required.")), Length(max=4000)])
    refresh_token = PasswordField(_l("New refresh token"), validators=[
        DataRequired(_l("A refresh token is required.")), Length(max=4000)])


RECONNECT_FORMS = {"facebook": ReconnectFacebookForm, "youtube": ReconnectYoutubeForm, "zalo": ReconnectZaloForm}
