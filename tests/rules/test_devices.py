from datetime import datetime, timedelta, timezone

import pytest

from diary.rules.devices import browser_name, expired, last_use, plausible_token
from diary.rules.kept_answers import fields_to_keep, still_kept

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("agent, name", [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", "Chrome on iPhone"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "Firefox on Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "Edge on Windows"),
    ("curl/8.5.0", "A browser"),
    ("", "A browser"),
    (None, "A browser"),
])
def test_browser_names_people_recognise(agent, name):
    assert browser_name(agent) == name


def test_a_phone_expires_days_after_its_last_use_not_its_first():
    signed_in = NOW - timedelta(days=40)
    used = last_use(signed_in, NOW - timedelta(days=3))
    assert used == NOW - timedelta(days=3)
    assert not expired(used, NOW, 30)
    assert expired(last_use(signed_in, None), NOW, 30)
    assert not expired(NOW - timedelta(days=30), NOW, 30)
    assert expired(NOW - timedelta(days=30, seconds=1), NOW, 30)


@pytest.mark.parametrize("value, plausible", [
    ("A" * 43, True), ("", False), (None, False), ("a" * 101, False), ("a.b", False),
    ("é" * 10, False),
])
def test_only_plausible_tokens_are_looked_up(value, plausible):
    assert plausible_token(value) is plausible


def test_kept_answers_last_two_hours():
    assert still_kept(NOW - timedelta(hours=2), NOW)
    assert not still_kept(NOW - timedelta(hours=2, seconds=1), NOW)


def test_only_the_forms_own_fields_are_kept_never_its_token():
    pairs = [("mood", "3"), ("csrf_token", "secret"), ("evil", "x"), ("note", "n" * 5000)]
    kept = fields_to_keep(pairs, {"mood", "note", "csrf_token"})
    assert kept == [["mood", "3"], ["note", "n" * 4000]]
