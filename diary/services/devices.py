"""A patient's own phone kept signed in: given at sign-in, used when its session has ended,
listed on Settings, and ended by "Sign this phone out", "Sign out" on it, or a new password.

The cookie holds a random token; only its hash is kept, beside a fingerprint of the password's
hash, so a copied cookie stops working when the password changes, even before the phone is
ended. Clinicians and caregivers are never remembered: shared workstations keep the idle limit.
"""

from dataclasses import dataclass
from datetime import timedelta

from ..rules import clock, devices as rules
from ..rules.tokens import new_token, token_hash
from ..store import accounts as account_store
from ..store import audit
from ..store import devices as store
from ..store.db import write
from .accounts import known_device_mark, start_session as start_plain_session

REMEMBERED_ROLES = ("patient",)
AUDIT_REFUSALS_EVERY = timedelta(hours=1)


def password_mark(user) -> str:
    """The same fingerprint of the password's hash as the known-device mark."""
    return known_device_mark(user)[1]


def can_be_remembered(user) -> bool:
    return user["role"] in REMEMBERED_ROLES


@dataclass(frozen=True)
class Started:
    session_token: str
    device_token: str | None = None


def start_session(user, previous_token: str | None, *, remember: bool, browser: str,
                  address: str | None, replacing: str | None = None) -> Started:
    """A new session at sign-in; with `remember` (patients only), this phone is remembered too,
    in the same transaction. A phone cookie the browser still had (`replacing`) ends: whoever
    signs in now, the browser no longer opens the earlier account by itself."""
    replaced = replacing if replacing and rules.plausible_token(replacing) else None
    if not (remember and can_be_remembered(user)) and replaced is None:
        return Started(start_plain_session(user["id"], previous_token))
    session_token = new_token()
    device_token = new_token() if remember and can_be_remembered(user) else None
    now = clock.db_now()
    with write() as tx:
        if replaced:
            store.end_device_of_token(tx, token_hash(replaced), now, "signed_in_again")
        if previous_token:
            account_store.end_session(tx, token_hash(previous_token), now)
        account_store.insert_session(tx, session_hash=token_hash(session_token),
                                     user_id=user["id"], at=now)
        if device_token is None:
            return Started(session_token)
        device_id = store.insert_device(
            tx, user_id=user["id"], token_hash=token_hash(device_token),
            password_mark=password_mark(user), browser=rules.browser_name(browser), at=now)
        store.link_session(tx, token_hash(session_token), device_id)
        audit.record("phone_remembered", "ok", at=now, actor_id=user["id"],
                     subject=f"phone:{device_id}", address=address, conn=tx)
    return Started(session_token, device_token)


@dataclass(frozen=True)
class Resumed:
    user: object | None
    session_token: str | None = None
    refused: str | None = None


def resume(device_token: str, *, days: int, address: str | None) -> Resumed:
    """A new session from a remembered phone's cookie, or a refusal that writes only its audit
    row: unknown or forged token, a phone signed out (a replayed cookie), a password changed
    since, a phone unused for `days`, or an account that may not be remembered."""
    if not rules.plausible_token(device_token):
        return _refuse("malformed", None, address)
    row = store.device_with_user(token_hash(device_token))
    if row is None:
        return _refuse("unknown", None, address)
    now = clock.now()
    last_used = rules.last_use(clock.from_db(row["last_used_at"]),
                               clock.from_db(row["sessions_last_seen"])
                               if row["sessions_last_seen"] else None)
    reason = (
        "signed_out" if row["ended_at"] is not None
        else "not_a_patient" if not can_be_remembered(row)
        else "password_changed" if row["password_mark"] != password_mark(row)
        else "expired" if rules.expired(last_used, now, days)
        else None
    )
    if reason:
        return _refuse(reason, row["user_id"], address)
    session_token = new_token()
    at = clock.to_db(now)
    with write() as tx:
        account_store.insert_session(tx, session_hash=token_hash(session_token),
                                     user_id=row["user_id"], at=at)
        store.link_session(tx, token_hash(session_token), row["device_id"])
        store.touch_device(tx, row["device_id"], at)
        audit.record("sign_in", "ok_phone", at=at, actor_id=row["user_id"],
                     subject=f"phone:{row['device_id']}", address=address, conn=tx)
    return Resumed(row, session_token)


def _refuse(reason: str, user_id: int | None, address: str | None) -> Resumed:
    """Only an audit row, and at most one an hour per address and reason, so a script sending
    cookie after cookie cannot fill the table."""
    now = clock.now()
    if not store.refusal_recorded_since(reason, address, clock.to_db(now - AUDIT_REFUSALS_EVERY)):
        with write() as tx:
            audit.record("phone_refused", reason, at=clock.to_db(now), actor_id=user_id,
                         address=address, conn=tx)
    return Resumed(None, refused=reason)


@dataclass(frozen=True)
class Phone:
    id: int
    browser: str
    created_at: object
    last_used: object
    this_phone: bool


def phones(user, days: int, current_token: str | None) -> list[Phone]:
    """The phones signed in to this account, for Settings; ones that no longer work are left out."""
    now = clock.now()
    current = token_hash(current_token) if current_token else None
    found = []
    for row in store.devices_of_user(user["id"]):
        last_used = rules.last_use(clock.from_db(row["last_used_at"]),
                                   clock.from_db(row["sessions_last_seen"])
                                   if row["sessions_last_seen"] else None)
        if row["password_mark"] != password_mark(user) or rules.expired(last_used, now, days):
            continue
        found.append(Phone(row["id"], row["browser"], clock.from_db(row["created_at"]),
                           last_used, row["token_hash"] == current))
    return sorted(found, key=lambda phone: phone.last_used, reverse=True)


def sign_out_phone(user_id: int, device_id: int, address: str | None) -> bool:
    """"Sign this phone out": the phone is no longer remembered and its sessions end now."""
    now = clock.db_now()
    with write() as tx:
        ended = store.end_device(tx, device_id, user_id, now, "signed_out_from_settings")
        if ended:
            audit.record("phone_signed_out", "ok", at=now, actor_id=user_id,
                         subject=f"phone:{device_id}", address=address, conn=tx)
    return ended


def is_this_phone(user_id: int, device_id: int, device_token: str | None) -> bool:
    if not device_token or not rules.plausible_token(device_token):
        return False
    return store.device_id_of_token(user_id, token_hash(device_token)) == device_id


def sign_out(session_token: str, device_token: str | None, user_id: int,
             address: str | None) -> None:
    """"Sign out": the session ends for real, and the phone, when remembered, is forgotten."""
    now = clock.db_now()
    device_id = (store.device_id_of_token(user_id, token_hash(device_token))
                 if device_token and rules.plausible_token(device_token) else None)
    with write() as tx:
        account_store.end_session(tx, token_hash(session_token), now)
        if device_id is not None:
            store.end_device(tx, device_id, user_id, now, "signed_out")
        audit.record("sign_out", "ok", at=now, actor_id=user_id, address=address,
                     subject=f"phone:{device_id}" if device_id is not None else None, conn=tx)
