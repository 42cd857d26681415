"""Answers sent after the session ended: kept a short while, then back in the form."""

from datetime import datetime, timedelta

KEEP_FOR = timedelta(hours=2)

COOKIE_SECURE = "__Host-diary_kept"
COOKIE_PLAIN = "diary_kept"

NOT_SAVED = {
    "check-in": "Your check-in is not saved yet. Check it and press Save check-in.",
    "infusion": "Your infusion is not saved yet. Check it and press Save infusion.",
}
"""Shown on the form when the kept answers are back in it."""

SIGN_IN_TO_SEE = {
    "check-in": "You were signed out, so your check-in is not saved yet. Sign in and your "
                "answers will be back.",
    "infusion": "You were signed out, so your infusion is not saved yet. Sign in and your "
                "answers will be back.",
}
"""Shown on the sign-in page the form was sent to."""

NOT_KEPT = "You were signed out, and your answers could not be kept. Please sign in again."

MAX_FIELDS = 64
MAX_VALUE_LENGTH = 4000


def still_kept(kept_at: datetime, now: datetime) -> bool:
    return timedelta(0) <= now - kept_at <= KEEP_FOR


def forget_before(now: datetime) -> datetime:
    return now - KEEP_FOR


def fields_to_keep(pairs, names) -> list[list[str]]:
    """Only the form's own fields (never its CSRF token), each value cut to a sane length."""
    kept = [[name, value[:MAX_VALUE_LENGTH]] for name, value in pairs
            if name in names and name != "csrf_token" and isinstance(value, str)]
    return kept[:MAX_FIELDS]
