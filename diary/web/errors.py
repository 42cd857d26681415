"""Error pages: plain words, a reference to quote, crisis help, never a traceback."""

import uuid

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..rules.errors import FieldError


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
