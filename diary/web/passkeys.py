"""Passkeys for every role: "Add a passkey" (Settings, or /passkeys), the list with Remove, and
"Sign in with a passkey" on the sign-in page, which needs no email or password.

The browser side is static/passkeys.js: it asks for options (a JSON answer to a form POST),
lets the phone make or use the passkey, and sends the result back in an ordinary form."""

from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect,
                   render_template, request, session, url_for)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from ..rules import clock, devices as device_rules, passkeys as rules, passwords
from ..services import accounts, passkeys
from . import sessions
from .forms import EmptyForm, SignInForm, pressed, show_error
from .guards import safe_next

bp = Blueprint("passkeys", __name__)

PENDING = "passkey_pending"
"""The challenge given to this browser, in its signed session cookie until it is answered."""


class AddPasskeyForm(FlaskForm):
    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password."), Length(max=passwords.MAX_LENGTH)])
    response = HiddenField()


class PasskeySignInForm(FlaskForm):
    response = HiddenField()
    next = HiddenField()
    keep_signed_in = BooleanField()


def _rp() -> rules.RelyingParty:
    return rules.relying_party(current_app.config["BASE_URL"])


def _pending() -> rules.Pending | None:
    return rules.Pending.from_dict(session.pop(PENDING, None))


def _refused_json():
    return jsonify({"error": "Please reload the page and try again."}), 400


def _back() -> str:
    return url_for("patient.settings") if current_user.is_patient else url_for("passkeys.manage")


@bp.route("/passkeys")
@login_required
def manage():
    return render_template("auth/passkeys.html", add_form=AddPasskeyForm())


@bp.route("/passkeys/options", methods=["POST"])
@login_required
def registration_options():
    """Asked by the script with the password typed; when refused, the script sends the form
    itself, and the page answers with the problem beside its field."""
    form = AddPasskeyForm()
    if not form.validate_on_submit():
        return _refused_json()
    try:
        options, pending = passkeys.registration_options(
            accounts.user(current_user.id), form.password.data, _rp(), request.remote_addr)
    except passkeys.PasskeyError:
        return _refused_json()
    session[PENDING] = pending.as_dict()
    return Response(options, mimetype="application/json")


@bp.route("/passkeys/add", methods=["POST"])
@login_required
def add():
    form = AddPasskeyForm()
    if form.validate_on_submit():
        try:
            passkeys.add(current_user.id, form.password.data, form.response.data or "",
                         _pending(), _rp(), device_rules.browser_name(request.user_agent.string),
                         request.remote_addr)
        except passkeys.PasskeyError as error:
            show_error(form, error)
        else:
            flash('Passkey added. Next time, press "Sign in with a passkey".', "success")
            return redirect(_back())
    return render_template("auth/passkeys.html", add_form=form), 400


@bp.route("/passkeys/<int:passkey_id>/remove", methods=["POST"])
@login_required
def remove(passkey_id):
    if pressed():
        if not passkeys.remove(current_user.id, passkey_id, request.remote_addr):
            abort(404)
        flash("Passkey removed. It no longer signs you in.", "success")
    return redirect(_back())


@bp.route("/passkeys/sign-in/options", methods=["POST"])
def sign_in_options():
    if not EmptyForm().validate_on_submit():
        return _refused_json()
    options, pending = passkeys.sign_in_options(_rp())
    session[PENDING] = pending.as_dict()
    return Response(options, mimetype="application/json")


@bp.route("/passkeys/sign-in", methods=["POST"])
def sign_in():
    form = PasskeySignInForm()
    problem = passkeys.NOT_SIGNED_IN
    if form.validate_on_submit():
        try:
            user = passkeys.sign_in(form.response.data or "", _pending(), _rp(),
                                    request.remote_addr)
        except passkeys.PasskeyError as error:
            problem = error.message
        else:
            sessions.start(user, remember=form.keep_signed_in.data)
            response = redirect(sessions.landing(form.next.data))
            from .auth import _remember_device
            _remember_device(response, user)
            return response
    page_form = SignInForm(formdata=None)
    page_form.next.data = safe_next(form.next.data) or ""
    return render_template("auth/sign_in.html", form=page_form, wait_minutes=0,
                           passkey_problem=problem), 400


@bp.app_context_processor
def passkey_values():
    def listing():
        if not current_user.is_authenticated:
            return []
        zone = current_user.time_zone
        return [{"id": key["id"], "label": key["label"],
                 "added": clock.format_local(key["created_at"], zone),
                 "last_used": clock.format_local(key["last_used"], zone) if key["last_used"]
                 else None}
                for key in passkeys.passkeys_of(current_user.id)]

    def work_here() -> bool:
        """Passkeys are bound to BASE_URL's host; opened at another address they cannot work."""
        return urlsplit("//" + request.host).hostname == _rp().id

    return {"my_passkeys": listing, "passkeys_work_here": work_here,
            "passkeys_address": lambda: _rp().origin, "new_passkey_form": AddPasskeyForm}
