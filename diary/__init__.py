"""A phone-first diary of the 24 hours after a ketamine infusion."""

import os
import secrets
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = dict(
    DATABASE=None,  # set below to instance/diary.sqlite
    BASE_URL="http://127.0.0.1:5000",
    INSECURE_COOKIES=False,
    TRUSTED_PROXIES=0,
    MAX_CONTENT_LENGTH=64 * 1024,
    SESSION_IDLE_MINUTES=30,
    SESSION_ABSOLUTE_HOURS=12,
    PASSWORD_RESET_MINUTES=60,
    SIGNIN_FAILURES_PER_ACCOUNT=5,
    SIGNIN_FAILURES_PER_ADDRESS=20,
    WTF_CSRF_TIME_LIMIT=None,
    DEFAULT_TIME_ZONE="America/New_York",
    CRISIS_EMERGENCY_NUMBER="911",
    CRISIS_LINE_NAME="988 Suicide & Crisis Lifeline",
    CRISIS_LINE_NUMBER="988",
    CRISIS_LINE_CHAT_URL="https://988lifeline.org",
    CRISIS_TEXT_NAME="Crisis Text Line",
    CRISIS_TEXT_NUMBER="741741",
    CRISIS_TEXT_WORD="HOME",
    MIGRATE_ON_START=True,
    CREATE_DATABASE=False,
    TRUSTED_HOSTS=None,
    PROXY_ADDRESSES=["127.0.0.1", "::1"],
    MAIL_SERVER=None,  # no mail server: nothing is queued for e-mail
    MAIL_PORT=None,  # 25; 465 with MAIL_USE_SSL, 587 with MAIL_USE_TLS
    MAIL_USE_TLS=False,
    MAIL_USE_SSL=False,
    MAIL_USERNAME=None,
    MAIL_PASSWORD=None,
    MAIL_DEFAULT_SENDER=None,
    ALERT_WEBHOOK_URL=None,
    ALERT_WEBHOOK_SECRET=None,
    ALERTS_INCLUDE_NAME=False,
    DIGEST_MINUTES=60,
    DEVICE_DAYS=30,  # "Keep me signed in on this phone": days from the phone's last use
)


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def create_app(test_config=None):
    """Build the app: defaults, then the root config.py, then DIARY_* variables, then tests' mapping."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_mapping(DEFAULTS)
    app.config["DATABASE"] = str(Path(app.instance_path) / "diary.sqlite")
    app.config.from_pyfile(str(ROOT / "config.py"), silent=True)
    app.config.from_prefixed_env("DIARY")
    if test_config is not None:
        app.config.from_mapping(test_config)
    _configure(app)

    from .store import db
    path = app.config["DATABASE"]
    if app.config["CREATE_DATABASE"] or app.config["TESTING"] or _creating_database():
        if not db.database_is_current(path):
            db.migrate_database(path)
    else:
        problem = db.problem_with(path)
        if problem:
            raise SystemExit(problem)
        if app.config["MIGRATE_ON_START"] and not db.database_is_current(path):
            db.migrate_database(path)

    from . import web
    web.init_app(app)
    return app


def _creating_database() -> bool:
    """`flask --app diary init-db` is the one command that may create the database file."""
    return "init-db" in sys.argv[1:]


def _configure(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path) / "secret_key")
    secure = not app.config["INSECURE_COOKIES"]
    app.config.update(
        SESSION_COOKIE_NAME="__Host-diary_session" if secure else "diary_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
    )
    if app.config["TRUSTED_HOSTS"] is None and not app.config["TESTING"]:
        host = urlsplit(app.config["BASE_URL"]).hostname
        if host not in LOCAL_HOSTS:
            app.config["TRUSTED_HOSTS"] = [host]


def _instance_secret_key(path: Path) -> str:
    """A key made once per installation and kept private in instance/, never a fixed string."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
