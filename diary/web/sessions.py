"""Flask-Login glue over server-side sessions: sign-out and revocation end a session for real.

Flask-Login keeps only our random session token in the signed cookie; every request looks the
token up through the accounts service, which checks the idle and absolute time-outs.
"""

from datetime import timedelta

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from ..services import accounts, devices
from . import kept_answers, phones
from .extensions import login_manager


class User(UserMixin):
    """The signed-in person; get_id() is the session token, so Flask-Login never trusts a user id."""

    def __init__(self, row, token: str):
        self.id = row["id"]
        self.email = row["email"]
        self.name = row["name"]
        self.role = row["role"]
        self.time_zone = row["time_zone"]
        self.share_by_default = bool(row["share_by_default"])
        self.phone = row["phone"]
        self.email_flags = bool(row["email_flags"])
        self.tell_caregivers = bool(row["tell_caregivers"])
        self.token = token

    def get_id(self):
        return self.token

    @property
    def is_patient(self):
        return self.role == "patient"

    @property
    def is_clinician(self):
        return self.role == "clinician"

    @property
    def address(self) -> str | None:
        """Where this request came from, for the audit rows the access module writes."""
        return request.remote_addr

    @property
    def path(self) -> str:
        return request.path


def start(user_row, remember: bool = False) -> User:
    """A fresh session at sign-in: the old cookie's contents are dropped and a new token issued.
    `remember` ("Keep me signed in on this phone") keeps a patient's phone signed in too."""
    previous = current_user.token if current_user.is_authenticated else None
    session.clear()
    old_phone = phones.cookie_token()
    started = devices.start_session(user_row, previous, remember=remember,
                                    browser=request.user_agent.string,
                                    address=request.remote_addr, replacing=old_phone)
    user = User(user_row, started.session_token)
    login_user(user)
    if started.device_token:
        phones.give_cookie(started.device_token)
    elif old_phone:
        phones.drop_cookie()
    return user


def landing(next_value: str | None) -> str:
    """Where a sign-in leads: the form whose answers this browser kept, else `next`, else home."""
    return kept_answers.landing(next_value)


def end(user: User) -> None:
    """"Sign out": the session ends, and so does this phone's "Keep me signed in"."""
    devices.sign_out(user.token, phones.cookie_token(), user.id, request.remote_addr)
    if request.cookies.get(phones.cookie_name()):
        phones.drop_cookie()
    logout_user()
    session.clear()


def _load(token: str):
    config = current_app.config
    found = accounts.session_user(token, timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                                  timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]))
    g.session_timed_out = found.timed_out
    return User(found.user, token) if found.user is not None else None


def _unauthorized():
    """Send the visitor to sign in, saying why when their session just timed out."""
    if g.get("session_timed_out"):
        flash("You were signed out after a while without activity. Please sign in again.", "info")
    else:
        flash("Please sign in to continue.", "info")
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=back))


def init_app(app) -> None:
    login_manager.user_loader(_load)
    login_manager.request_loader(phones.resume)
    login_manager.unauthorized_handler(_unauthorized)
