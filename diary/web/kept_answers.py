"""No answer is ever lost: a check-in or infusion form sent when its session had ended (idle,
absolute, signed out elsewhere), or with a stale form token and no session, is kept for its
browser and its person; after signing in, by any means, they land on the form with every answer
back and a plain message, and press Save themselves. Nothing reaches the diary before that."""

from functools import wraps

from flask import after_this_request, current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..rules import kept_answers as rules
from ..rules.devices import plausible_token
from ..services import kept_answers
from .guards import safe_next


def _cookie_name() -> str:
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    return rules.COOKIE_SECURE if secure else rules.COOKIE_PLAIN


def _browser_token() -> str | None:
    value = request.cookies.get(_cookie_name())
    return value if plausible_token(value) else None


def _give_cookie(token: str) -> None:
    name, secure = _cookie_name(), current_app.config["SESSION_COOKIE_SECURE"]

    @after_this_request
    def _set(response):
        response.set_cookie(name, token, max_age=rules.KEEP_FOR, path="/", secure=secure,
                            httponly=True, samesite="Lax")
        return response


def keeps(kind: str, form_class):
    """Put outside role_required on a form's view: a POST that finds no one signed in keeps its
    answers instead of dropping them on the way to the sign-in page."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.method == "POST" and not current_user.is_authenticated:
                return _keep(kind, form_class)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _keep(kind: str, form_class):
    path = request.path
    back = redirect(url_for("auth.sign_in", next=path))
    if request.headers.get("Sec-Fetch-Site") == "cross-site":  # another site's form: not ours
        return current_app.login_manager.unauthorized()
    from .auth import _known_device
    owner = kept_answers.owner(session.get("_user_id"), _known_device())
    if owner is None:
        kept_answers.not_kept(path, request.remote_addr)
        flash(rules.NOT_KEPT, "info")
        return back
    names = set(form_class(formdata=None, meta={"csrf": False})._fields)
    fields = rules.fields_to_keep(request.form.items(multi=True), names)
    token = kept_answers.keep(browser_token=_browser_token(), user_id=owner, path=path,
                              fields=fields, address=request.remote_addr)
    _give_cookie(token)
    flash(rules.SIGN_IN_TO_SEE[kind], "info")
    return back


def restore(form, kind: str) -> bool:
    """On the form's GET: this browser's kept answers for this person and form, back in it."""
    fields = kept_answers.kept(_browser_token(), current_user.id, request.path)
    if not fields:
        return False
    form.process(formdata=MultiDict([tuple(pair) for pair in fields]))
    flash(rules.NOT_SAVED[kind], "info")
    return True


def saving(save):
    """Run the diary's save; this form's kept answers go in the same transaction."""
    return kept_answers.save_and_forget(save, browser_token=_browser_token(),
                                        user_id=current_user.id, path=request.path)


def landing(next_value: str | None) -> str:
    path = kept_answers.landing(_browser_token(), current_user.id)
    return safe_next(path) or safe_next(next_value) or url_for("pages.home")
