"""Answers sent when the session had ended: kept on the server, tied to the browser that sent
them and to the person whose session it was, for 2 hours, and never in the diary until that
person signs in and presses Save. Kept answers go once saved, or after 2 hours."""

import json

from ..rules import clock, kept_answers as rules
from ..rules.tokens import new_token, token_hash
from ..store import accounts as account_store
from ..store import audit
from ..store import kept_answers as store
from ..store.db import write
from .accounts import known_device_mark


def owner(session_token: str | None, known_device) -> int | None:
    """Whose form this browser sent: the person of its last session (ended now), or else the
    one its signed known-device mark names, while that mark's password is still theirs."""
    if session_token and isinstance(session_token, str) and len(session_token) <= 100:
        user_id = store.owner_of_session(token_hash(session_token))
        if user_id is not None:
            return user_id
    if isinstance(known_device, list) and len(known_device) == 2 and isinstance(
            known_device[0], int):
        user = account_store.user_by_id(known_device[0])
        if user is not None and known_device_mark(user) == known_device:
            return user["id"]
    return None


def keep(*, browser_token: str | None, user_id: int, path: str, fields: list,
         address: str | None) -> str:
    """Keep the answers; returns the browser's token (a new one when it had none)."""
    token = browser_token or new_token()
    now = clock.now()
    with write() as tx:
        store.forget_older(tx, clock.to_db(rules.forget_before(now)))
        store.keep(tx, browser_hash=token_hash(token), user_id=user_id, path=path,
                   fields=json.dumps(fields), at=clock.to_db(now))
        audit.record("answers_kept", "ok", at=clock.to_db(now), actor_id=user_id,
                     patient_id=user_id, subject=path, address=address, conn=tx)
    return token


def not_kept(path: str, address: str | None) -> None:
    """Nobody to keep them for (a browser with no trace of who used it): only the audit row."""
    with write() as tx:
        audit.record("answers_kept", "no_owner", at=clock.db_now(), subject=path,
                     address=address, conn=tx)


def kept(browser_token: str | None, user_id: int, path: str) -> list | None:
    """The answers this browser kept for this person at this form, if under 2 hours old."""
    if not browser_token:
        return None
    row = store.kept(token_hash(browser_token), user_id, path,
                     clock.to_db(rules.forget_before(clock.now())))
    if row is None:
        return None
    try:
        fields = json.loads(row["fields"])
    except ValueError:
        return None
    return [pair for pair in fields if isinstance(pair, list) and len(pair) == 2]


def landing(browser_token: str | None, user_id: int) -> str | None:
    """Where a person lands after signing in: the form whose answers this browser kept for
    them. Answers older than 2 hours are deleted here too, whoever signs in."""
    before = clock.to_db(rules.forget_before(clock.now()))
    if store.any_older(before):
        with write() as tx:
            store.forget_older(tx, before)
    if not browser_token:
        return None
    return store.latest_path(token_hash(browser_token), user_id, before)


def save_and_forget(save, *, browser_token: str | None, user_id: int, path: str):
    """Run the diary's own save (a service call) and forget this form's kept answers in the
    same transaction: saved answers are never offered again, and a failed save keeps them."""
    with write() as tx:
        result = save()
        if browser_token:
            store.forget(tx, token_hash(browser_token), user_id, path)
    return result
