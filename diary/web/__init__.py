"""Everything Flask: blueprints, forms, sessions, error pages, headers, the command line.

The only layer that sees the request, Flask-Login or templates; it reads a form, calls the access
module or one service, and renders or redirects.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from ..store import db


class RowIdConverter(IntegerConverter):
    """<int:...> in URLs, capped at SQLite's largest row id so a huge number is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class ForwardedOnlyFromProxies:
    """X-Forwarded-* believed only from the proxies' own addresses; a client reaching the app
    directly cannot rotate its address for the sign-in throttle by sending the header."""

    def __init__(self, app, hops: int, proxies):
        self.direct = app
        self.through_proxy = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.proxies = frozenset(proxies)

    def __call__(self, environ, start_response):
        if environ.get("REMOTE_ADDR") in self.proxies:
            return self.through_proxy(environ, start_response)
        for header in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST"):
            environ.pop(header, None)
        return self.direct(environ, start_response)


def init_app(app: Flask) -> None:
    from . import (assets, auth, care_team, caregiver, clinician, cli, errors, extensions,
                   headers, pages, patient, reader, sessions)
    app.teardown_appcontext(db.close_db)
    app.before_request(errors.refuse_what_is_not_a_form)
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    sessions.init_app(app)
    app.url_map.converters["int"] = RowIdConverter
    for blueprint in (pages.bp, auth.bp, patient.bp, clinician.bp, caregiver.bp, reader.bp,
                      care_team.bp):
        app.register_blueprint(blueprint)
    from . import passkeys, phones; app.register_blueprint(passkeys.bp); app.register_blueprint(phones.bp)  # noqa: E702
    from . import course, exports; app.register_blueprint(course.bp); app.register_blueprint(exports.bp)  # noqa: E702
    errors.init_app(app)
    headers.init_app(app)
    assets.init_app(app)
    cli.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ForwardedOnlyFromProxies(app.wsgi_app, int(app.config["TRUSTED_PROXIES"]),
                                                app.config["PROXY_ADDRESSES"])
