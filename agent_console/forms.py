"""The console's forms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class PresenceForm(FlaskForm):
    presence = SelectField(choices=[("available", _l("Available")), ("away", _l("Away"))])


class LanguageForm(FlaskForm):
    language = SelectField(choices=[("ar", "العربية"), ("ckb", "کوردی"), ("en", "English")])
