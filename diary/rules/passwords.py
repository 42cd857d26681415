"""The password policy (NIST 800-63B): length, no common passwords, no composition rules."""

from functools import lru_cache
from importlib import resources

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 256

# Checked against when an email is unknown, so a wrong email costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("diary.rules").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def problem(password: str) -> str | None:
    """Why this password cannot be used, in words for the user; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"That password is too short: use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.casefold()
    if folded in common_passwords() or len(set(folded)) <= 2:
        return "This password is too common and easy to guess. Please choose another."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)
