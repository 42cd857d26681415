"""Flask-WTF forms for accounts; each field carries its own limits and plain messages."""

import re

from flask import flash, request
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, EmailField, HiddenField, IntegerField,
                     PasswordField, RadioField, SelectField, StringField, TextAreaField)
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, StopValidation, ValidationError

from ..rules import catalogue, clock, contact, flags, passwords, schedule
from ..rules.errors import FieldError

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _HiddenWithoutId(HiddenInput):
    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", False)
        return super().__call__(field, **kwargs)


class _TokenField(CSRFTokenField):
    """The CSRF token, rendered without an id: a page with several forms has one token in each,
    and ids must be unique on a page (labels and screen readers rely on them)."""

    widget = _HiddenWithoutId()


class _CSRF(_FlaskForm.Meta.csrf_class):
    field_class = _TokenField


class FlaskForm(_FlaskForm):
    """Every form of the app: Flask-WTF's, with a CSRF token that carries no id."""

    class Meta:
        csrf_class = _CSRF


def email_address(form, field):
    field.data = (field.data or "").strip()
    if not EMAIL_PATTERN.match(field.data):
        raise ValidationError("Enter an email address like name@example.com.")


def new_password(form, field):
    message = passwords.problem(field.data or "")
    if message:
        raise ValidationError(message)


def time_zone_name(form, field):
    if not clock.is_time_zone(field.data or ""):
        raise ValidationError("Choose a time zone from the list.")


def one_line_break(text):
    """A line break is one character, as the browser counts it, whether it came as CR LF or LF."""
    return catalogue.plain_line_breaks(text) if isinstance(text, str) else text


PRESS_AGAIN = "That did not work, and nothing was changed. Please press the button again."


class EmptyForm(FlaskForm):
    """A button that changes something: it carries only the CSRF token."""


def pressed(form: FlaskForm | None = None) -> bool:
    """A button press that may go ahead; otherwise the person is asked to press it again."""
    if (form or EmptyForm()).validate_on_submit():
        return True
    flash(PRESS_AGAIN, "info")
    return False


def show_error(form: FlaskForm, error: FieldError) -> None:
    """A rule a service found broken, shown beside its field (or above the form when it has none)."""
    field = form._fields.get(error.field)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors.append(error.message)


class PasswordPairMixin:
    password = PasswordField("Password", validators=[DataRequired("Enter a password."), new_password])
    confirm = PasswordField(
        "Confirm password",
        validators=[DataRequired("Enter the password again."),
                    EqualTo("password", "The two passwords are not the same.")],
    )


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=passwords.MAX_LENGTH)]
    )
    next = HiddenField()
    keep_signed_in = BooleanField("Keep me signed in on this phone")


class ResetPasswordForm(PasswordPairMixin, FlaskForm):
    pass


class ChangePasswordForm(PasswordPairMixin, FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=passwords.MAX_LENGTH)],
    )


class TimeZoneMixin:
    time_zone = SelectField("Time zone", validate_choice=False, validators=[time_zone_name])

    def offer_time_zones(self, default: str) -> None:
        if not self.time_zone.data:
            self.time_zone.data = default
        self.time_zone.choices = clock.time_zone_choices(default, self.time_zone.data)


class LocalTimeField(DateTimeLocalField):
    """A wall-clock time typed on a phone; a value that is not a time gets a plain message."""

    def __init__(self, label, **kwargs):
        super().__init__(label, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
                         **kwargs)

    EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
            if self.data and not self.EARLIEST_YEAR <= self.data.year <= self.LATEST_YEAR:
                raise ValueError("year out of range")
        except ValueError:
            self.data = None
            raise ValueError("Enter a date and a time, like 10/03/2026 09:30. "
                             "Please check the year.") from None

    def pre_validate(self, form):
        if self.data is None and not self.process_errors:
            raise StopValidation("Enter a date and a time.")


class WholeNumberField(IntegerField):
    def __init__(self, label, message: str, **kwargs):
        super().__init__(label, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.message) from None


class ScaleField(RadioField):
    """Radio buttons for a whole-number scale; anything off the scale gets the field's own message."""

    def __init__(self, label, low: int, high: int, message: str, names=None, **kwargs):
        choices = [SelectChoice(str(value), names[value - low] if names else str(value))
                   for value in range(low, high + 1)]
        super().__init__(label, choices=choices, coerce=int, validate_choice=False, **kwargs)
        self.low, self.high, self.message = low, high, message

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = int(valuelist[0])
            except ValueError:
                self.data = None
                self.invalid = True

    def pre_validate(self, form):
        if self.data is None or not self.low <= self.data <= self.high:
            self.data = None
            raise StopValidation(self.message)


class RegisterForm(TimeZoneMixin, PasswordPairMixin, FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Enter your name."), Length(max=100, message="Use at most 100 characters.")],
    )
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."),
                    Length(max=254, message="Use at most 254 characters."), email_address],
    )


class InfusionForm(FlaskForm):
    started_at = LocalTimeField("Infusion started")
    length_minutes = WholeNumberField(
        "Length (minutes)",
        message=f"Enter the length in minutes, from {schedule.MIN_LENGTH_MINUTES} to "
                f"{schedule.MAX_LENGTH_MINUTES}.",
        default=schedule.DEFAULT_LENGTH_MINUTES,
        validators=[NumberRange(schedule.MIN_LENGTH_MINUTES, schedule.MAX_LENGTH_MINUTES,
                                message=f"Enter the length in minutes, from "
                                        f"{schedule.MIN_LENGTH_MINUTES} to "
                                        f"{schedule.MAX_LENGTH_MINUTES}.")],
    )
    note = StringField("Note", filters=[one_line_break],
                       validators=[Length(max=schedule.INFUSION_NOTE_MAX_LENGTH,
                                                  message=schedule.INFUSION_NOTE_TOO_LONG)])


SYMPTOM_PREFIX = "symptom_"


SUBMISSION_KEY = re.compile(r"^[0-9a-f]{32}$")


def submission_key(form, field):
    if field.data and not SUBMISSION_KEY.match(field.data):
        field.data = None


class CheckinFormBase(FlaskForm):
    submission_key = HiddenField(validators=[submission_key])
    mood = ScaleField("Mood", catalogue.MOOD_MIN, catalogue.MOOD_MAX,
                      message=catalogue.MOOD_PROBLEM)
    at = LocalTimeField("Time of check-in")
    note = TextAreaField(
        "Note", filters=[one_line_break],
        validators=[Length(max=catalogue.CHECKIN_NOTE_MAX_LENGTH,
                           message=catalogue.CHECKIN_NOTE_TOO_LONG)],
    )
    shared = BooleanField("Share with my caregivers")
    note_private = BooleanField("Hide this note from my caregivers")
    safety = RadioField(
        flags.SAFETY_QUESTION, validate_choice=False,
        choices=[SelectChoice(value, label) for value, label in flags.SAFETY_LABELS.items()],
    )

    def validate_safety(self, field):
        if field.data not in flags.SAFETY_ANSWERS + ("",):
            raise ValidationError(flags.SAFETY_PROBLEM)

    def symptom_fields(self):
        return [self[SYMPTOM_PREFIX + code] for code in catalogue.CODES]

    def severities(self) -> dict[str, int]:
        return {code: self[SYMPTOM_PREFIX + code].data or 0 for code in catalogue.CODES}

    def unknown_symptoms(self) -> list[str]:
        return sorted(
            key[len(SYMPTOM_PREFIX):] for key in request.form
            if key.startswith(SYMPTOM_PREFIX) and not catalogue.is_symptom(key[len(SYMPTOM_PREFIX):])
        )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        unknown = self.unknown_symptoms()
        if unknown:
            self.form_errors.append(f"Unknown symptom: {', '.join(unknown)}. Nothing was saved.")
            return False
        return valid


def _add_symptom_fields(form_class):
    for symptom in catalogue.SYMPTOMS:
        setattr(form_class, SYMPTOM_PREFIX + symptom.code, ScaleField(
            symptom.label, catalogue.SEVERITY_NONE, catalogue.SEVERITY_VERY_SEVERE,
            names=catalogue.SEVERITY_LABELS, default=catalogue.SEVERITY_NONE,
            message="Choose None, Mild, Moderate, Severe or Very severe.",
        ))
    return form_class


CheckinForm = _add_symptom_fields(type("CheckinForm", (CheckinFormBase,), {}))


class SettingsForm(TimeZoneMixin, FlaskForm):
    share_by_default = BooleanField("Share new check-ins with my caregivers")
    tell_caregivers = BooleanField("Tell my caregivers when my care team is alerted")


class ShareForm(FlaskForm):
    shared = BooleanField("Share with my caregivers")


class AcknowledgeForm(FlaskForm):
    note = TextAreaField(
        "Note (optional)", filters=[one_line_break],
        validators=[Length(max=flags.ACKNOWLEDGE_NOTE_MAX_LENGTH,
                           message=flags.ACKNOWLEDGE_NOTE_TOO_LONG)],
    )
    note_for_patient = BooleanField("Show this note to the patient")
    confirmed = HiddenField()


class ClinicianSettingsForm(FlaskForm):
    phone = StringField("Phone for patients", filters=[lambda text: (text or "").strip()],
                        validators=[Length(max=contact.PHONE_MAX_LENGTH,
                                           message=contact.PHONE_PROBLEM)])
    email_flags = BooleanField("E-mail me about flags")

    def validate_phone(self, field):
        problem = contact.phone_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."),
                    Length(max=254, message="Use at most 254 characters."), email_address],
    )


class ThresholdForm(FlaskForm):
    symptom = SelectField(
        "Symptom", validate_choice=False,
        choices=[SelectChoice(symptom.code, symptom.label) for symptom in catalogue.SYMPTOMS],
    )
    hours = WholeNumberField(
        "Flag after (hours)", message=flags.THRESHOLD_PROBLEM,
        validators=[NumberRange(flags.THRESHOLD_MIN_HOURS, flags.THRESHOLD_MAX_HOURS,
                                message=flags.THRESHOLD_PROBLEM)],
    )

    def validate_symptom(self, field):
        if not catalogue.is_symptom(field.data or ""):
            raise ValidationError("Choose a symptom from the list.")
