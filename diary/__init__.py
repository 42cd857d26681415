"""A phone-first diary of the 24 hours after a ketamine infusion."""

import os
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from .errors import FieldError

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
)


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

    from . import db
    db.init_app(app)
    if app.config["MIGRATE_ON_START"] and not db.database_is_current(app.config["DATABASE"]):
        db.migrate_database(app.config["DATABASE"])

    _register_extensions(app)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_security_headers(app)
    _register_cli(app)
    return app


def _configure(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path) / "secret_key")
    secure = not app.config["INSECURE_COOKIES"]
    app.config.update(
        SESSION_COOKIE_NAME="diary_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
    )
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _instance_secret_key(path: Path) -> str:
    """A key made once per installation and kept private in instance/, never a fixed string."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def _register_extensions(app: Flask) -> None:
    from .extensions import csrf, login_manager
    csrf.init_app(app)
    login_manager.init_app(app)
    from . import sessions
    sessions.init_app(app)


class RowIdConverter(IntegerConverter):
    """<int:...> in URLs, capped at SQLite's largest row id so a huge number is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter
    from . import auth, caregiver, clinician, pages, patient, reader, team
    for blueprint in (pages.bp, auth.bp, patient.bp, clinician.bp, caregiver.bp, reader.bp,
                      team.bp):
        app.register_blueprint(blueprint)


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        """Show the same form again with the answers kept, instead of a bare 400 page."""
        g.csrf_failed = True
        view = app.view_functions.get(request.endpoint)
        if view is None:
            return _error_page(400)
        try:
            response = app.make_response(view(**(request.view_args or {})))
        except HTTPException as refusal:
            return _error_page(refusal.code or 400)
        if response.status_code == 200:
            response.status_code = 400
        return response

    @app.errorhandler(FieldError)
    def rule_broken_meanwhile(error):
        """A rule checked again inside the write failed (the diary closed a moment ago, say)."""
        return render_template("errors/error.html", code=409, reference=None,
                               heading="That could not be saved", message=error.message), 409

    @app.errorhandler(HTTPException)
    def http_error(error):
        return _error_page(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        reference = uuid.uuid4().hex[:10]
        app.logger.exception("Unhandled error, reference %s", reference)
        return _error_page(500, reference)


ERROR_WORDS = {
    400: ("Something in that request was not right", "Please go back and try again."),
    404: ("Page not found",
          "We could not find that page. It may have been removed, or the link may be wrong."),
    405: ("That did not work", "Please go back and use the buttons on the page."),
    413: ("That was too much to send", "Please shorten what you wrote and try again."),
    429: ("Too many tries", "Please wait a few minutes and try again."),
    500: ("Sorry, something went wrong on our side",
          "Nothing you did caused this. Please try again in a moment."),
}


def _error_page(code: int, reference: str | None = None):
    heading, message = ERROR_WORDS.get(code, ("That did not work", "Please go back and try again."))
    return render_template(
        "errors/error.html", code=code, heading=heading, message=message, reference=reference
    ), code


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response


def _register_cli(app: Flask) -> None:
    from . import commands
    commands.init_app(app)
