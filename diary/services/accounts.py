"""Account rules: creating users, checking sign-ins with throttling, and one-time reset links."""

from dataclasses import dataclass, field
from datetime import timedelta

from ..rules import clock, contact, passwords
from ..rules.errors import FieldError
from ..rules.tokens import new_token, token_hash
from ..store import accounts as store
from ..store import audit
from ..store import devices as device_store
from ..store.db import write
from . import alerts

ROLES = ("patient", "clinician", "caregiver")


class AccountError(FieldError):
    """A problem with an account the user can fix."""


def create_user(*, email: str, name: str, role: str, password: str, time_zone: str,
                conn=None) -> int:
    """Create an account, or raise AccountError naming the field at fault. Nothing is written then."""
    if role not in ROLES:
        raise AccountError("role", f"Role must be one of {', '.join(ROLES)}.")
    if not clock.is_time_zone(time_zone):
        raise AccountError("time_zone", "Choose a time zone from the list.")
    message = passwords.problem(password)
    if message:
        raise AccountError("password", message)
    email = email.strip()
    with write(conn) as tx:
        if store.user_by_email(email) is not None:
            raise AccountError("email", "An account with this email already exists. Sign in instead.")
        user_id = store.insert_user(
            tx, email=email, name=name.strip(), role=role,
            password_hash=passwords.hash_password(password), time_zone=time_zone,
            created_at=clock.to_db(clock.now()),
        )
        audit.record("account_created", "ok", at=clock.db_now(), actor_id=user_id, subject=role, conn=tx)
    return user_id


def register_patient(*, email, name, password, time_zone, address: str, per_address: int) -> int:
    """Self-registration; trying one taken email after another is slowed like failed sign-ins."""
    return create_throttled(
        lambda tx: create_user(email=email, name=name, role="patient", password=password,
                               time_zone=time_zone, conn=tx),
        role="patient", address=address, per_address=per_address,
    )


def create_throttled(create, *, role: str, address: str, per_address: int) -> int:
    """create(tx) makes an account; an email already taken counts against the address.

    Every form that can tell whether an email has an account goes through here, so one
    per-address key slows them all; deciding, creating and counting are one transaction.
    """
    key = f"register:{address}"
    with write() as tx:
        now = clock.now()
        minutes = _wait_minutes(store.throttle(key), now)
        if minutes:
            raise AccountError("email", _too_many_attempts(minutes))
        try:
            return create(tx)
        except AccountError as error:
            if error.field != "email":
                raise
            taken = error
        _count_failure(tx, key, per_address, now)
        audit.record("account_created", "email_taken", at=clock.to_db(now), subject=role,
                     address=address, conn=tx)
    raise taken


def _too_many_attempts(minutes: int) -> str:
    return (f"Too many attempts. Please wait {minutes} minute{'s' if minutes != 1 else ''}"
            " and try again.")


@dataclass
class SignIn:
    user: object | None
    wait_minutes: int = 0


THROTTLE_MEMORY = timedelta(hours=24)


def _delay(failures: int, allowed: int) -> timedelta:
    """Growing delay once the allowance is used: 30 s, 1 min, 2 min ... up to 15 minutes."""
    if failures < allowed:
        return timedelta(0)
    return timedelta(seconds=min(30 * 2 ** (failures - allowed), 15 * 60))


def _wait_minutes(row, now) -> int:
    """Whole minutes (rounded up) before this key may try again; 0 when it may try now."""
    if not row or not row["blocked_until"]:
        return 0
    wait = clock.from_db(row["blocked_until"]) - now
    return max(0, -(-int(wait.total_seconds()) // 60))


def _save_throttle(tx, key: str, failures: int, blocked_until: str | None, now) -> None:
    store.save_throttle(tx, key, failures, blocked_until, at=clock.to_db(now),
                        forget_before=clock.to_db(now - THROTTLE_MEMORY))


def _count_failure(tx, key: str, allowed: int, now) -> str | None:
    """One more failure on this key; returns the time it is now blocked until, if it is."""
    row = store.throttle(key)
    failures = (row["failures"] if row else 0) + 1
    delay = _delay(failures, allowed)
    blocked_until = clock.to_db(now + delay) if delay else None
    _save_throttle(tx, key, failures, blocked_until, now)
    return blocked_until


def _give_back(tx, key: str, blocked_until: str | None, now) -> None:
    """Undo one counted failure; the block it set goes too, unless a later failure replaced it."""
    row = store.throttle(key)
    if row is None:
        return
    kept = None if row["blocked_until"] == blocked_until else row["blocked_until"]
    _save_throttle(tx, key, max(row["failures"] - 1, 0), kept, now)


def _account_key(email: str) -> str:
    return f"email:{email.strip().casefold()}"


@dataclass(frozen=True)
class _Reservation:
    """A sign-in attempt counted as a failure before its password is checked, or refused."""
    wait_minutes: int = 0
    blocked_until: dict = field(default_factory=dict)
    despite_a_block: bool = False


def _reserve(tx, keys: dict[str, int], deciding: list[str], address: str) -> _Reservation:
    """Count the attempt on every key unless a deciding key is blocked, deciding as it counts."""
    now = clock.now()
    waits = {key: _wait_minutes(store.throttle(key), now) for key in keys}
    refusing = next((key for key in deciding if waits[key]), None)
    if refusing:
        audit.record("sign_in", "throttled", at=clock.to_db(now), subject=refusing.split(":")[0],
                     address=address, conn=tx)
        return _Reservation(wait_minutes=waits[refusing])
    counted = {key: _count_failure(tx, key, allowed, now) for key, allowed in keys.items()}
    return _Reservation(blocked_until=counted, despite_a_block=any(waits.values()))


def _sign_in_keys(email: str, address: str, user, known_user_id: int | None, *,
                  per_account: int, per_address: int) -> tuple[dict[str, int], list[str]]:
    """The keys that count an attempt, with their allowances, and the keys that may refuse it.

    A browser where this user signed in before is held back only by its own count, not the
    account's or the address's: guessers are slowed without locking out the person who knows
    the password.
    """
    keys = {_account_key(email): per_account, f"address:{address}": per_address}
    if user is None or user["id"] != known_user_id:
        return keys, list(keys)
    device_key = f"device:{known_user_id}"
    return {**keys, device_key: per_account}, [device_key]


def known_device_mark(user) -> list:
    """What a browser keeps to be known as this user's: it stops working when the password
    changes, so a stolen mark does not outlive the password it was given with."""
    return [user["id"], token_hash(user["password_hash"])[:16]]


def sign_in(email: str, password: str, address: str, *, per_account: int, per_address: int,
            known_device=None) -> SignIn:
    """Check a sign-in; unknown email and wrong password fail alike, and both count as failures.

    The attempt is counted before its password is checked, in the transaction that decides
    whether it may be made, so parallel guesses never check more passwords than the limit.
    known_device: the mark from the browser's device cookie, if it has one.
    """
    user = store.user_by_email(email.strip())
    known_user_id = user["id"] if user and known_device == known_device_mark(user) else None
    keys, deciding = _sign_in_keys(email, address, user, known_user_id, per_account=per_account,
                                   per_address=per_address)
    with write() as tx:
        reservation = _reserve(tx, keys, deciding, address)
    if reservation.wait_minutes:
        return SignIn(None, wait_minutes=reservation.wait_minutes)
    if not passwords.verify(user["password_hash"] if user else None, password):
        with write() as tx:
            audit.record("sign_in", "failed", at=clock.db_now(),
                         actor_id=user["id"] if user else None, address=address, conn=tx)
        return SignIn(None)
    _settle_success(user, address, reservation)
    return SignIn(user)


def _settle_success(user, address: str, reservation: _Reservation) -> None:
    """The account's and the device's counts start again; the address gets this attempt back."""
    now = clock.now()
    with write() as tx:
        for key, blocked_until in reservation.blocked_until.items():
            if key.startswith("address:"):
                _give_back(tx, key, blocked_until, now)
            else:
                store.clear_throttle(tx, key)
        audit.record("sign_in", "ok_known_device" if reservation.despite_a_block else "ok",
                     at=clock.to_db(now), actor_id=user["id"], address=address, conn=tx)


def create_password_reset(email: str, minutes: int) -> str:
    """A one-time token for the reset link; only its hash is kept."""
    user = store.user_by_email(email)
    if user is None:
        raise AccountError("email", f"No account with the email {email}.")
    token = new_token()
    now = clock.now()
    with write() as tx:
        store.end_password_resets_of_user(tx, user["id"], clock.to_db(now))
        store.insert_password_reset(
            tx, token_hash=token_hash(token), user_id=user["id"], created_at=clock.to_db(now),
            expires_at=clock.to_db(now + timedelta(minutes=minutes)),
        )
        audit.record("password_reset_link", "ok", at=clock.db_now(), actor_id=None, patient_id=None,
                     subject=f"user:{user['id']}", conn=tx)
    return token


def usable_password_reset(token: str):
    row = store.password_reset(token_hash(token))
    if row is None or row["used_at"] or clock.from_db(row["expires_at"]) <= clock.now():
        return None
    return row


def reset_password(token: str, password: str, address: str) -> bool:
    """Set a new password through a reset link, and end every session of that user."""
    message = passwords.problem(password)
    if message:
        raise AccountError("password", message)
    row = usable_password_reset(token)
    if row is None:
        return False
    now = clock.to_db(clock.now())
    with write() as tx:
        if not store.use_password_reset(tx, row["token_hash"], now):
            return False
        store.set_password_hash(tx, row["user_id"], passwords.hash_password(password))
        store.end_sessions_of_user(tx, row["user_id"], now)
        device_store.end_devices_of_user(tx, row["user_id"], now, "password_reset")
        store.end_password_resets_of_user(tx, row["user_id"], now)
        store.clear_throttle(tx, _account_key(store.user_by_id(row["user_id"])["email"]))
        audit.record("password_reset", "ok", at=clock.db_now(), actor_id=row["user_id"], address=address, conn=tx)
    return True


def change_password(user_id: int, current: str, new: str, keep_session: str) -> None:
    """A new password for a signed-in user; every other session of theirs ends at once."""
    row = store.user_by_id(user_id)
    if not passwords.verify(row["password_hash"], current):
        with write() as tx:
            audit.record("password_changed", "wrong_current", at=clock.db_now(), actor_id=user_id, conn=tx)
        raise AccountError("current", "That is not your current password.")
    message = passwords.problem(new)
    if message:
        raise AccountError("password", message)
    now = clock.to_db(clock.now())
    with write() as tx:
        store.set_password_hash(tx, user_id, passwords.hash_password(new))
        store.end_sessions_of_user(tx, user_id, now, keep=token_hash(keep_session))
        device_store.end_devices_of_user(tx, user_id, now, "password_changed")
        store.end_password_resets_of_user(tx, user_id, now)
        audit.record("password_changed", "ok", at=clock.db_now(), actor_id=user_id, conn=tx)


def save_settings(user_id: int, time_zone: str, share_by_default: bool,
                  tell_caregivers: bool = False) -> None:
    if not clock.is_time_zone(time_zone):
        raise AccountError("time_zone", "Choose a time zone from the list.")
    with write() as tx:
        store.update_settings(tx, user_id, time_zone=time_zone, share_by_default=share_by_default)
        store.set_tell_caregivers(tx, user_id, tell_caregivers)
        audit.record("settings_changed", "ok", at=clock.db_now(), actor_id=user_id, conn=tx)


def save_clinician_settings(user_id: int, phone: str, email_flags: bool) -> None:
    """The phone patients see for their clinic, and whether flags reach this clinician by e-mail."""
    phone = phone.strip()
    problem = contact.phone_problem(phone)
    if problem:
        raise AccountError("phone", problem)
    with write() as tx:
        store.update_clinician_settings(tx, user_id, phone=phone, email_flags=email_flags)
        audit.record("settings_changed", "ok", at=clock.db_now(), actor_id=user_id, conn=tx)


RESET_EMAIL_EVERY = timedelta(minutes=5)


def email_password_reset(email: str, minutes: int, link_for) -> None:
    """"Forgot your password?": a reset link by e-mail when the address has an account; the
    person asking is told the same either way. One e-mail every 5 minutes at most, so the form
    cannot flood someone's inbox."""
    user = store.user_by_email(email.strip())
    now = clock.now()
    if user is None or store.recent_password_reset(user["id"],
                                                    clock.to_db(now - RESET_EMAIL_EVERY)):
        with write() as tx:
            audit.record("password_reset_email", "not_sent", at=clock.to_db(now),
                         actor_id=user["id"] if user else None, conn=tx)
        return
    token = new_token()
    with write() as tx:
        store.end_password_resets_of_user(tx, user["id"], clock.to_db(now))
        store.insert_password_reset(
            tx, token_hash=token_hash(token), user_id=user["id"], created_at=clock.to_db(now),
            expires_at=clock.to_db(now + timedelta(minutes=minutes)))
        alerts.queue_password_reset(user["id"], token_hash(token), link_for(token), minutes,
                                    conn=tx)
        audit.record("password_reset_email", "queued", at=clock.to_db(now), actor_id=user["id"],
                     conn=tx)


def start_session(user_id: int, previous_token: str | None) -> str:
    """A new server-side session at sign-in; the one it replaces on this device ends with it."""
    token = new_token()
    now = clock.db_now()
    with write() as tx:
        if previous_token:
            store.end_session(tx, token_hash(previous_token), now)
        store.insert_session(tx, session_hash=token_hash(token), user_id=user_id, at=now)
    return token


def end_session(token: str, user_id: int, address: str | None) -> None:
    """Sign-out: the session ends for real, so a copy of the cookie no longer works."""
    now = clock.db_now()
    with write() as tx:
        store.end_session(tx, token_hash(token), now)
        audit.record("sign_out", "ok", at=now, actor_id=user_id, address=address, conn=tx)


@dataclass(frozen=True)
class SessionCheck:
    user: object | None
    timed_out: bool = False


TOUCH_EVERY = timedelta(seconds=60)


def session_user(token: str, idle: timedelta, absolute: timedelta) -> SessionCheck:
    """The user behind a session token while the session is live; it ends at its time-outs."""
    row = store.session_with_user(token_hash(token))
    if row is None or row["ended_at"] is not None:
        return SessionCheck(None)
    now = clock.now()
    last_seen = clock.from_db(row["last_seen_at"])
    if now - last_seen > idle or now - clock.from_db(row["session_created_at"]) > absolute:
        with write() as tx:
            store.end_session(tx, row["session_id"], clock.to_db(now))
        return SessionCheck(None, timed_out=True)
    if now - last_seen >= TOUCH_EVERY:
        with write() as tx:
            store.touch_session(tx, row["session_id"], clock.to_db(now))
    return SessionCheck(row)


def user(user_id: int):
    return store.user_by_id(user_id)


def account_throttle_keys(user_row) -> list[str]:
    """The counts a full sign-in (the right password, or a passkey) starts again."""
    return [_account_key(user_row["email"]), f"device:{user_row['id']}"]
