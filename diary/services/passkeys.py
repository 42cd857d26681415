"""Passkeys for every role: adding one (with the password, so a borrowed session cannot add a
key of its own), listing and removing them, and signing in with one, which counts as a full
sign-in. Every check of a response is the `webauthn` library's (rules/passkeys.py); a response
that fails any of them writes only its audit row."""

from ..rules import clock, passkeys as rules, passwords
from ..rules.errors import FieldError
from ..rules.tokens import token_hash
from ..store import accounts as account_store
from ..store import audit
from ..store import passkeys as store
from ..store.db import write
from .accounts import account_throttle_keys

MAX_LABEL_LENGTH = 80
NOT_ADDED = "That passkey could not be added. Nothing was changed: please try again."
NOT_SIGNED_IN = ("That passkey did not work. Try again, or sign in with your email and "
                 "password.")


class PasskeyError(FieldError):
    """A passkey that could not be added or used; nothing was written but an audit row."""


def passkeys_of(user_id: int):
    return [{"id": row["id"], "label": row["label"],
             "created_at": clock.from_db(row["created_at"]),
             "last_used": clock.from_db(row["last_used_at"]) if row["last_used_at"] else None}
            for row in store.passkeys_of_user(user_id)]


def _check_password(user, password: str, address: str | None) -> None:
    if not passwords.verify(user["password_hash"], password or ""):
        _refused("passkey_added", "wrong_password", user_id=user["id"], address=address)
        raise PasskeyError("password", "That is not your password.")


def registration_options(user, password: str, rp: rules.RelyingParty,
                         address: str | None = None) -> tuple[str, rules.Pending]:
    """Options for navigator.credentials.create(), once the password is right (a session taken
    over with a copied cookie cannot add a key of its own); nothing else is written until the
    answer comes."""
    _check_password(user, password, address)
    existing = store.passkeys_of_user(user["id"])
    handle = existing[0]["user_handle"] if existing else rules.new_user_handle()
    options, challenge = rules.registration_options(
        rp, user_handle=handle, email=user["email"], name=user["name"],
        existing=[row["credential_id"] for row in existing])
    return options, rules.Pending("register", challenge, clock.now(), user["id"], handle)


def sign_in_options(rp: rules.RelyingParty) -> tuple[str, rules.Pending]:
    options, challenge = rules.authentication_options(rp)
    return options, rules.Pending("sign_in", challenge, clock.now())


def _refused(action: str, reason: str, *, user_id=None, address=None) -> None:
    with write() as tx:
        audit.record(action, reason, at=clock.db_now(), actor_id=user_id, address=address,
                     conn=tx)


def _challenge_forget_before() -> str:
    return clock.to_db(clock.now() - 2 * rules.CHALLENGE_TIME)


def add(user_id: int, password: str, response: str, pending: rules.Pending | None,
        rp: rules.RelyingParty, label: str, address: str | None) -> int:
    """Check the password and the authenticator's answer to this browser's challenge, then keep
    the public key. Raises PasskeyError (the password field, or the form) otherwise."""
    _check_password(account_store.user_by_id(user_id), password, address)
    try:
        challenge = rules.check_pending(pending, "register", clock.now(), user_id)
        found = rules.verify_registration(rp, response, challenge)
    except rules.Refused as refused:
        _refused("passkey_refused", refused.reason, user_id=user_id, address=address)
        raise PasskeyError("", NOT_ADDED) from refused
    now = clock.db_now()
    with write() as tx:
        fresh = store.use_challenge(tx, token_hash(pending.challenge), now,
                                    _challenge_forget_before())
        reason = ("replayed" if not fresh
                  else "already_added" if store.credential_taken(found.credential_id) else None)
        if reason is None:
            passkey_id = store.insert_passkey(
                tx, user_id=user_id, credential_id=found.credential_id,
                public_key=found.public_key, sign_count=found.sign_count,
                user_handle=pending.user_handle, transports=found.transports,
                label=(label or "Passkey")[:MAX_LABEL_LENGTH], at=now)
            audit.record("passkey_added", "ok", at=now, actor_id=user_id,
                         subject=f"passkey:{passkey_id}", address=address, conn=tx)
            return passkey_id
    _refused("passkey_refused", reason, user_id=user_id, address=address)
    raise PasskeyError("", NOT_ADDED)


def remove(user_id: int, passkey_id: int, address: str | None) -> bool:
    now = clock.db_now()
    with write() as tx:
        removed = store.delete_passkey(tx, passkey_id, user_id)
        if removed:
            audit.record("passkey_removed", "ok", at=now, actor_id=user_id,
                         subject=f"passkey:{passkey_id}", address=address, conn=tx)
    return removed


def sign_in(response: str, pending: rules.Pending | None, rp: rules.RelyingParty,
            address: str | None):
    """The person a passkey answer proves, or PasskeyError. A full sign-in: the account's
    throttle count (and its known device's) starts again, as after the right password."""
    user_id = None
    try:
        challenge = rules.check_pending(pending, "sign_in", clock.now())
        assertion = rules.read_assertion(response)
        row = store.passkey_by_credential(assertion.credential_id)
        if row is None:
            raise rules.Refused("unknown_passkey")
        user_id = row["id"]
        if assertion.user_handle is not None and assertion.user_handle != row["user_handle"]:
            raise rules.Refused("another_account")
        sign_count = rules.verify_assertion(rp, assertion, challenge,
                                            public_key=row["public_key"],
                                            sign_count=row["sign_count"])
    except rules.Refused as refused:
        _refused("passkey_refused", refused.reason, user_id=user_id, address=address)
        raise PasskeyError("", NOT_SIGNED_IN) from refused
    now = clock.db_now()
    with write() as tx:
        if store.use_challenge(tx, token_hash(pending.challenge), now, _challenge_forget_before()):
            store.record_use(tx, row["passkey_id"], sign_count, now)
            for key in account_throttle_keys(row):
                account_store.clear_throttle(tx, key)
            audit.record("sign_in", "ok_passkey", at=now, actor_id=user_id,
                         subject=f"passkey:{row['passkey_id']}", address=address, conn=tx)
            return account_store.user_by_id(user_id)
    _refused("passkey_refused", "replayed", user_id=user_id, address=address)
    raise PasskeyError("", NOT_SIGNED_IN)
