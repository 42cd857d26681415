"""Error pages: plain words, a reference to quote, crisis help, never a traceback."""

import uuid

from flask import Flask, Response, abort, g, render_template, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from ..rules.errors import FieldError
from ..store.db import StoreBusy


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_what_is_not_a_form() -> None:
    """Forms take only form fields: JSON, other bodies and file uploads (the diary has none) get
    a 415 before any form reads them. Registered before CSRF protection."""
    has_body = bool(request.mimetype or request.content_length)
    if request.method != "GET" and has_body and request.mimetype not in FORM_TYPES:
        abort(415)
    if request.mimetype == "multipart/form-data" and request.files:
        abort(415)


def init_app(app: Flask) -> None:
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
        except Exception as refusal:  # the view refused in its own way (a diary closed, say)
            return app.handle_user_exception(refusal)
        if response.status_code == 200:
            response.status_code = 400
        return response

    @app.errorhandler(FieldError)
    def rule_broken_meanwhile(error):
        """A rule checked again inside the write failed (the diary closed a moment ago, say)."""
        return render_template("errors/error.html", code=409, reference=None,
                               heading="That could not be saved", message=error.message), 409

    @app.errorhandler(StoreBusy)
    def store_busy(error):
        return _error_page(503)

    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        """A Host header that is not the clinic's: no page can be built for it, so plain words."""
        config = app.config
        words = (f"This address is not the diary's. If you are in danger now, call "
                 f"{config['CRISIS_EMERGENCY_NUMBER']} or {config['CRISIS_LINE_NUMBER']}.\n")
        return Response(words, 400, mimetype="text/plain")

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
    415: ("That did not work", "Please go back and use the form on the page."),
    429: ("Too many tries", "Please wait a few minutes and try again."),
    503: ("That could not be saved just now",
          "Many people are saving at once. Nothing was saved: please go back and try again."),
    500: ("Sorry, something went wrong on our side",
          "Nothing you did caused this. Please try again in a moment."),
}


def _error_page(code: int, reference: str | None = None):
    """The page for any error. It never reads the body (the menu's sign-out form is built
    without it) nor the database: a user not loaded before the error is not looked up now, and
    the page shows them no menu."""
    heading, message = ERROR_WORDS.get(code, ("That did not work", "Please go back and try again."))
    if "_login_user" not in g:
        g._login_user = AnonymousUserMixin()
    g.error_page = True
    return render_template(
        "errors/error.html", code=code, heading=heading, message=message, reference=reference
    ), code
