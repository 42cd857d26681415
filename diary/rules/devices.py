"""Remembered phones: how long one stays signed in, and the words that name it on Settings."""

import re
from datetime import datetime, timedelta

COOKIE_SECURE = "__Host-diary_phone"
COOKIE_PLAIN = "diary_phone"
"""Its own cookie, apart from the session's; `__Host-` keeps it to this exact site over HTTPS."""

MAX_BROWSER_LENGTH = 60
MAX_TOKEN_LENGTH = 100

_SYSTEMS = (
    ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "Chromebook"),
    ("Windows", "Windows"), ("Macintosh", "Mac"), ("Linux", "Linux"),
)
_BROWSERS = (
    ("EdgiOS/", "Edge"), ("EdgA/", "Edge"), ("Edg/", "Edge"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("FxiOS/", "Firefox"), ("Firefox/", "Firefox"), ("OPR/", "Opera"), ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"), ("Safari/", "Safari"),
)


def browser_name(user_agent: str | None) -> str:
    """"Safari on iPhone", "Chrome on Android": enough for a person to tell their phones apart."""
    agent = (user_agent or "")[:512]
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    if browser and system:
        label = f"{browser} on {system}"
    elif browser or system:
        label = f"{browser or 'A browser'}{' on ' + system if system else ''}"
    else:
        label = "A browser"
    return re.sub(r"\s+", " ", label)[:MAX_BROWSER_LENGTH]


def last_use(device_last_used: datetime, sessions_last_seen: datetime | None) -> datetime:
    """A phone is used whenever its sessions are, not only when it starts one."""
    if sessions_last_seen is None:
        return device_last_used
    return max(device_last_used, sessions_last_seen)


def expired(last_used: datetime, now: datetime, days: int) -> bool:
    """DEVICE_DAYS from the phone's last use, with no idle time-out before that."""
    return now - last_used > timedelta(days=days)


def plausible_token(value: str | None) -> bool:
    """A cookie value worth looking up: new_token() makes 43 URL-safe characters."""
    return (bool(value) and len(value) <= MAX_TOKEN_LENGTH
            and re.fullmatch(r"[A-Za-z0-9_-]+", value) is not None)
