"""Static files under fingerprinted URLs (?v=<content hash>), cached by phones for a year: a
returning phone downloads nothing but the page, and a changed file gets a new URL."""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, request

A_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=64)
def _digest(path: str, modified: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def version_of(filename: str) -> str | None:
    path = Path(current_app.static_folder) / filename
    try:
        return _digest(str(path), path.stat().st_mtime)
    except OSError:
        return None


def init_app(app: Flask) -> None:
    @app.url_defaults
    def fingerprint(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_fingerprinted(response):
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == version_of(filename):
                response.cache_control.public = True
                response.cache_control.max_age = A_YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
