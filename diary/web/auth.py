"""Registration, sign-in, sign-out and password reset."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadData, URLSafeSerializer

from ..services import accounts, alerts
from . import sessions
from .forms import (ChangePasswordForm, EmptyForm, ForgotPasswordForm, RegisterForm,
                    ResetPasswordForm, SignInForm,
                    show_error)
from .guards import safe_next

bp = Blueprint("auth", __name__)

DEVICE_COOKIE_AGE = timedelta(days=365)


def _home():
    return redirect(url_for("pages.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return _home()
    form = RegisterForm()
    form.offer_time_zones(current_app.config["DEFAULT_TIME_ZONE"])
    if form.validate_on_submit() and register_with(form, accounts.register_patient,
                                                     "Your account is ready."):
        return _home()
    return render_template("auth/register.html", form=form)


def register_with(form, create, welcome: str) -> bool:
    """A new account from a registration form, made by `create` (which counts taken emails
    against the address's throttle), then signed in; False with the reason beside its field."""
    try:
        user_id = create(email=form.email.data, name=form.name.data, password=form.password.data,
                         time_zone=form.time_zone.data, address=request.remote_addr or "unknown",
                         per_address=current_app.config["SIGNIN_FAILURES_PER_ADDRESS"])
    except accounts.AccountError as error:
        show_error(form, error)
        return False
    sessions.start(accounts.user(user_id))
    flash(welcome, "success")
    return True


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(sessions.landing(form.next.data))
    wait_minutes = 0
    if form.validate_on_submit():
        config = current_app.config
        result = accounts.sign_in(
            form.email.data, form.password.data, request.remote_addr or "unknown",
            per_account=config["SIGNIN_FAILURES_PER_ACCOUNT"],
            per_address=config["SIGNIN_FAILURES_PER_ADDRESS"], known_device=_known_device(),
        )
        if result.user is not None:
            sessions.start(result.user, remember=form.keep_signed_in.data)
            response = redirect(sessions.landing(form.next.data))
            _remember_device(response, result.user)
            return response
        wait_minutes = result.wait_minutes
        if not wait_minutes:
            form.password.errors.append("Wrong email or password.")
    status = 429 if wait_minutes else (400 if form.errors else 200)
    return render_template("auth/sign_in.html", form=form, wait_minutes=wait_minutes,
                           mail_on=alerts.mail_configured()), status


def _device_cookie_name() -> str:
    """__Host- keeps the cookie to this exact site over HTTPS, where the browser allows it."""
    return "__Host-diary_device" if current_app.config["SESSION_COOKIE_SECURE"] else "diary_device"


def _device_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _known_device():
    """The mark of who signed in on this browser before, when its cookie is one this app signed."""
    value = request.cookies.get(_device_cookie_name())
    if not value:
        return None
    try:
        return _device_signer().loads(value)
    except BadData:
        return None


def _remember_device(response, user) -> None:
    """A long-lived mark of this browser, so a later lockout does not keep this user out."""
    response.set_cookie(
        _device_cookie_name(), _device_signer().dumps(accounts.known_device_mark(user)),
        max_age=DEVICE_COOKIE_AGE,
        path="/", secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
        samesite="Lax",
    )


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """"Forgot your password?": a link by e-mail, with the same answer whether or not the
    address has an account. Without a mail server the clinic makes links instead."""
    if not alerts.mail_configured():
        return render_template("auth/forgot.html", form=None), 404
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.email_password_reset(
            form.email.data, current_app.config["PASSWORD_RESET_MINUTES"],
            lambda token: url_for("auth.reset_password", token=token, _external=True))
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    form = EmptyForm()
    if current_user.is_authenticated and form.validate_on_submit():
        sessions.end(current_user._get_current_object())
        flash("You are signed out.", "info")
        return redirect(url_for("auth.sign_in"))
    if g.get("csrf_failed") and current_user.is_authenticated:
        return render_template("auth/sign_out.html", form=form)
    return redirect(url_for("auth.sign_in"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    if len(token) > 100 or accounts.usable_password_reset(token) is None:
        return render_template("auth/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            done = accounts.reset_password(token, form.password.data, request.remote_addr or "unknown")
        except accounts.AccountError as error:
            show_error(form, error)
        else:
            if not done:
                abort(404)
            flash("Your password is changed. Please sign in with it.", "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user.id, form.current.data, form.password.data,
                                     keep_session=current_user.token)
        except accounts.AccountError as error:
            show_error(form, error)
        else:
            flash("Your password is changed. Any other device you were signed in on is signed "
                  "out.", "success")
            return redirect(url_for("pages.home"))
    return render_template("auth/change_password.html", form=form)


@bp.app_context_processor
def sign_out_form():
    """The menu's sign-out button: a token only, never built from the request's body."""
    return {"sign_out_form": lambda: EmptyForm(formdata=None)}
