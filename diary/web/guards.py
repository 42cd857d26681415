"""Small guards shared by views: where a redirect may go, and who may open a page."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required


def safe_next(target: str | None) -> str | None:
    """Accept only a path on this site: no scheme, no host, no '//' or '/\\' tricks."""
    if not target or len(target) > 512:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def role_required(*roles: str):
    """Signed in, with one of these roles; anyone else gets the same 404 as a missing page."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorate
