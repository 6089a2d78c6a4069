"""The console's forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

# Arabic-Indic and Extended Arabic-Indic (Kurdish) digits, read as ASCII
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class ConsoleForm(FlaskForm):
    """Every console form: no field may hold a NUL byte, which PostgreSQL cannot store (a field
    error and a 4xx, never a 500)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and "\x00" in field.data:
                field.errors = [*field.errors, _l("This text holds a character that cannot be stored.")]
                valid = False
        return valid


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms' choice objects."""
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(ConsoleForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class LanguageForm(ConsoleForm):
    language = SelectField(choices=options([("ar", "العربية"), ("ckb", "کوردی"), ("en", "English")]))


class ActionForm(ConsoleForm):
    """A button that changes something: only the CSRF token."""


class SearchForm(ConsoleForm):
    """One form, two ways: `by` says whether the number and date or the phone were given.

    The values are checked by the domain's own checks (the IVR's), not by WTForms, so the
    console refuses exactly what the IVR refuses and says why.
    """

    by = HiddenField(default="transaction")
    number = StringField(_l("Transaction number"))
    date = StringField(_l("Date of the letter"))
    phone = StringField(_l("Phone number"))


LANGUAGE_CHOICES = [("ar", "العربية"), ("ckb", "کوردی"), ("en", "English")]


DUE_FORMAT = "%d/%m/%Y %H:%M"  # as the console writes dates: day/month/year, 24-hour clock


class DayMonthYearTimeField(StringField):
    """A date and time typed as dd/mm/yyyy hh:mm (Western or Arabic-Indic digits), not a
    native picker, whose order follows the browser's locale rather than the console's."""

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw:
            return
        text = " ".join(self.raw.translate(DIGITS).replace("-", "/").replace(".", "/").split())
        try:
            self.data = datetime.strptime(text, DUE_FORMAT)
        except ValueError:
            raise ValidationError(
                _l("Write the date and time as day/month/year hours:minutes, e.g. 25/12/2026 14:30.")
            ) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime(DUE_FORMAT) if self.data else ""


class CallbackForm(ConsoleForm):
    phone = StringField(_l("Phone number"), validators=[DataRequired(), Length(max=64)])
    language = SelectField(_l("Language of the call"), choices=options(LANGUAGE_CHOICES))
    # Asked, never assumed: an empty date is not "as soon as possible" by default.
    when = RadioField(
        _l("When"),
        choices=options([("soon", _l("As soon as possible")), ("at", _l("At a set time"))]),
        validators=[InputRequired(_l("Choose when to call back: as soon as possible, or at a set time."))],
    )
    due_at = DayMonthYearTimeField(_l("Call back at"))
    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])

    def validate_due_at(self, field):
        if self.when.data == "at" and field.data is None and not field.errors:
            raise ValidationError(_l("Write the date and time of the callback."))

    def due(self) -> datetime | None:
        """The local time asked for; None for "as soon as possible"."""
        return self.due_at.data if self.when.data == "at" else None


class CloseCallbackForm(ConsoleForm):
    status = SelectField(choices=options([("done", _l("Done")), ("cancelled", _l("Cancelled"))]))
    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])


class UserForm(ConsoleForm):
    """An admin creates a user; the rules themselves live in domain.staff.users.create_user."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Length(max=120)])
    role = SelectField(
        _l("Role"),
        choices=options(
            [
                ("agent", _l("agent")),
                ("officer", _l("officer")),
                ("supervisor", _l("supervisor")),
                ("admin", _l("admin")),
            ]
        ),
    )
    language = SelectField(_l("Console language"), choices=options(LANGUAGE_CHOICES))
    endpoint_kind = SelectField(
        _l("Phone reached by"),
        choices=options(
            [
                ("client", _l("Browser (Twilio Client)")),
                ("sip", _l("SIP")),
                ("phone", _l("Phone")),
            ]
        ),
    )
    endpoint = StringField(_l("Endpoint"), validators=[Length(max=200)])
    # An officer's entity (choices set by the view); ignored for the call centre's staff.
    entity_id = SelectField(_l("Entity (officers)"), choices=[], validate_choice=False)
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)])


class CallNotesForm(ConsoleForm):
    """The agent's notes and disposition on a call; the second button also wraps the call up."""

    notes = TextAreaField(_l("Notes"), validators=[Length(max=4000)])
    disposition = SelectField(_l("Disposition"), choices=[], validate_choice=True)
    save = SubmitField(_l("Save"))
    wrap_up = SubmitField(_l("Save and wrap up"))
    # A callback's call (call.callback_id): wrapping it up closes the request as done, unless unticked.
    close_callback = BooleanField(_l("Mark the callback request done"), default=True)


class ComplaintCodeForm(ConsoleForm):
    code = StringField(_l("Complaint code"), validators=[DataRequired(), Length(max=64)])


class ComplaintActionForm(ConsoleForm):
    """One form for every action on a complaint; the URL names the action, the handling
    use case checks the text (empty, too long) and says why in the page's language."""

    body = TextAreaField(_l("Text"), validators=[Length(max=20000)])
    officer = SelectField(_l("Officer"), choices=[], validate_choice=False)
    entity = SelectField(_l("Entity"), choices=[], validate_choice=False)


class ComplaintIntakeForm(ConsoleForm):
    """A complaint an agent takes on a call. The values are checked by the domain's
    `filing.problems()` (as the public form's are), not by WTForms; choices are set by the view."""

    kind = SelectField(_l("The complaint is about"), choices=[], validate_choice=False)
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    entity = SelectField(_l("Entity concerned"), choices=[], validate_choice=False)
    governorate = SelectField(_l("Governorate"), choices=[], validate_choice=False)
    description = TextAreaField(_l("What happened"), validators=[Length(max=20000)])
    name = StringField(_l("Caller's name"), validators=[Length(max=400)])
    phone = StringField(_l("Mobile number"), validators=[Length(max=64)])
    email = StringField(_l("E-mail (optional)"), validators=[Length(max=400)])
    national_id = StringField(_l("National ID (optional)"), validators=[Length(max=64)])
    declared_adult = BooleanField(_l("The caller says they are 18 or older"))
    declared_citizen = BooleanField(_l("The caller says they are an Iraqi citizen or resident"))
    hide_identity = BooleanField(_l("Hide the caller's identity from the entity"))
    language = SelectField(_l("Caller's language"), choices=options(LANGUAGE_CHOICES))
    verification = SelectField(
        _l("Verification"),
        choices=options(
            [
                ("sms", _l("Send a code by SMS; the caller reads it back")),
                ("phone_unverified", _l("Taken by phone, not verified")),
            ]
        ),
    )
    otp = StringField(_l("Code the caller read back"), validators=[Length(max=32)])
    send_code = SubmitField(_l("Send the code"))
    file = SubmitField(_l("File the complaint"))
