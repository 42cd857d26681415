"""Server-side sessions behind Flask-Login: sign-out and revocation end a session for real.

Flask-Login keeps only our random session token in the signed cookie; every request looks the
token up here and checks the idle and absolute time-outs.
"""

import secrets
from datetime import timedelta

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from . import clock
from .accounts import token_hash
from .db import write
from .extensions import login_manager
from .store import accounts as store

TOUCH_EVERY = timedelta(seconds=60)


class User(UserMixin):
    """The signed-in person; get_id() is the session token, so Flask-Login never trusts a user id."""

    def __init__(self, row, token: str):
        self.id = row["id"]
        self.email = row["email"]
        self.name = row["name"]
        self.role = row["role"]
        self.time_zone = row["time_zone"]
        self.share_by_default = bool(row["share_by_default"])
        self.token = token

    def get_id(self):
        return self.token

    @property
    def is_patient(self):
        return self.role == "patient"

    @property
    def is_clinician(self):
        return self.role == "clinician"


def start(user_row) -> User:
    """A fresh session at sign-in: the old cookie's contents are dropped and a new token issued."""
    previous = current_user.token if current_user.is_authenticated else None
    session.clear()
    token = secrets.token_urlsafe(32)
    with write() as tx:
        if previous:
            store.end_session(tx, token_hash(previous), clock.to_db(clock.now()))
        store.insert_session(tx, session_hash=token_hash(token), user_id=user_row["id"],
                             at=clock.to_db(clock.now()))
    user = User(user_row, token)
    login_user(user)
    return user


def end(user: User) -> None:
    with write() as tx:
        store.end_session(tx, token_hash(user.token), clock.to_db(clock.now()))
    logout_user()
    session.clear()


def _load(token: str):
    row = store.session_with_user(token_hash(token))
    if row is None or row["ended_at"] is not None:
        return None
    now = clock.now()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    last_seen = clock.from_db(row["last_seen_at"])
    if now - last_seen > idle or now - clock.from_db(row["session_created_at"]) > absolute:
        with write() as tx:
            store.end_session(tx, row["session_id"], clock.to_db(now))
        g.session_timed_out = True
        return None
    if now - last_seen >= TOUCH_EVERY:
        with write() as tx:
            store.touch_session(tx, row["session_id"], clock.to_db(now))
    return User(row, token)


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
    login_manager.unauthorized_handler(_unauthorized)
