"""A patient's phone kept signed in: its cookie, the request loader that starts a session from
it when the last one ended, and "Phones signed in" on Settings with "Sign this phone out"."""

from datetime import timedelta

from flask import (Blueprint, after_this_request, current_app, flash, redirect, request, session,
                   url_for)
from flask_login import current_user, login_user, logout_user

from ..rules import clock, devices as rules
from ..services import accounts, devices
from .forms import pressed
from .guards import role_required

bp = Blueprint("phones", __name__)


def cookie_name() -> str:
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    return rules.COOKIE_SECURE if secure else rules.COOKIE_PLAIN


def cookie_token() -> str | None:
    value = request.cookies.get(cookie_name())
    return value if rules.plausible_token(value) else None


def _days() -> int:
    return int(current_app.config["DEVICE_DAYS"])


def give_cookie(token: str) -> None:
    """HttpOnly, Secure (over HTTPS), SameSite=Lax: sent when the phone's calendar opens a link,
    never with another site's form. It lasts DEVICE_DAYS, counted again at each use."""
    name, secure, age = cookie_name(), current_app.config["SESSION_COOKIE_SECURE"], _days()

    @after_this_request
    def _set(response):
        response.set_cookie(name, token, max_age=timedelta(days=age), path="/", secure=secure,
                            httponly=True, samesite="Lax")
        return response


def drop_cookie() -> None:
    name, secure = cookie_name(), current_app.config["SESSION_COOKIE_SECURE"]

    @after_this_request
    def _drop(response):
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="Lax")
        return response


def resume(_request):
    """Flask-Login's request loader: no live session, but a remembered phone's cookie. A good one
    starts a new session (no idle time-out for the phone itself); any other is refused, with
    only an audit row, and the cookie is dropped."""
    if request.endpoint == "static" or not request.cookies.get(cookie_name()):
        return None
    from .sessions import User
    result = devices.resume(request.cookies.get(cookie_name()), days=_days(),
                            address=request.remote_addr)
    if result.user is None:
        drop_cookie()
        return None
    user = User(result.user, result.session_token)
    login_user(user)  # keeps the session's form tokens: a form opened before still saves
    give_cookie(request.cookies.get(cookie_name()))
    return user


@bp.route("/phones/<int:device_id>/sign-out", methods=["POST"])
@role_required("patient")
def sign_out_phone(device_id):
    if not pressed():
        return redirect(url_for("patient.settings"))
    this_phone = devices.is_this_phone(current_user.id, device_id, cookie_token())
    if not devices.sign_out_phone(current_user.id, device_id, request.remote_addr):
        flash("That phone was already signed out.", "info")
        return redirect(url_for("patient.settings"))
    if this_phone:
        drop_cookie()
        logout_user()
        session.clear()
        flash("This phone is signed out.", "info")
        return redirect(url_for("auth.sign_in"))
    flash("That phone is signed out.", "success")
    return redirect(url_for("patient.settings"))


@bp.app_context_processor
def phones_signed_in():
    """For Settings: the patient's remembered phones, newest use first."""

    def listing():
        if not (current_user.is_authenticated and current_user.is_patient):
            return []
        zone = current_user.time_zone
        return [{"id": phone.id, "browser": phone.browser, "this_phone": phone.this_phone,
                 "last_used": clock.format_local(phone.last_used, zone),
                 "since": clock.format_local(phone.created_at, zone)}
                for phone in devices.phones(accounts.user(current_user.id), _days(),
                                            cookie_token())]

    return {"phones_signed_in": listing, "device_days": lambda: _days()}
