"""Flask-WTF forms for accounts; each field carries its own limits and plain messages."""

import re

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from . import clock, passwords

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


class EmptyForm(FlaskForm):
    """A button that changes something: it carries only the CSRF token."""


class PasswordPairMixin:
    password = PasswordField("Password", validators=[DataRequired("Enter a password."), new_password])
    confirm = PasswordField(
        "Confirm password",
        validators=[DataRequired("Enter the password again."),
                    EqualTo("password", "The two passwords are not the same.")],
    )


class RegisterForm(PasswordPairMixin, FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Enter your name."), Length(max=100, message="Use at most 100 characters.")],
    )
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."),
                    Length(max=254, message="Use at most 254 characters."), email_address],
    )
    time_zone = SelectField("Time zone", validate_choice=False, validators=[time_zone_name])

    def offer_time_zones(self, default: str) -> None:
        if not self.time_zone.data:
            self.time_zone.data = default
        self.time_zone.choices = clock.time_zone_choices(default, self.time_zone.data)


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=passwords.MAX_LENGTH)]
    )
    next = HiddenField()


class ResetPasswordForm(PasswordPairMixin, FlaskForm):
    pass
