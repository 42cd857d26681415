"""Everything Flask: blueprints, forms, sessions, error pages, headers, the command line.

The only layer that sees the request, Flask-Login or templates; it reads a form, calls the access
module or one service, and renders or redirects.
"""

from flask import Flask
from werkzeug.routing import IntegerConverter

from ..store import db


class RowIdConverter(IntegerConverter):
    """<int:...> in URLs, capped at SQLite's largest row id so a huge number is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    from . import (auth, care_team, caregiver, clinician, cli, errors, extensions, headers, pages,
                   patient, reader, sessions)
    app.teardown_appcontext(db.close_db)
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    sessions.init_app(app)
    app.url_map.converters["int"] = RowIdConverter
    for blueprint in (pages.bp, auth.bp, patient.bp, clinician.bp, caregiver.bp, reader.bp,
                      care_team.bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    headers.init_app(app)
    cli.init_app(app)
