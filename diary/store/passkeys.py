"""SQL for passkeys and the challenges already answered."""

from .db import get_db


def insert_passkey(conn, *, user_id, credential_id, public_key, sign_count, user_handle,
                   transports, label, at) -> int:
    cursor = conn.execute(
        "INSERT INTO passkeys (user_id, credential_id, public_key, sign_count, user_handle,"
        " transports, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, credential_id, public_key, sign_count, user_handle, transports, label, at),
    )
    return cursor.lastrowid


def passkey_by_credential(credential_id: str):
    return get_db().execute(
        "SELECT passkeys.id AS passkey_id, passkeys.public_key, passkeys.sign_count,"
        " passkeys.user_handle, users.*"
        " FROM passkeys JOIN users ON users.id = passkeys.user_id"
        " WHERE passkeys.credential_id = ?",
        (credential_id,),
    ).fetchone()


def passkeys_of_user(user_id: int):
    return get_db().execute(
        "SELECT id, credential_id, label, created_at, last_used_at, user_handle FROM passkeys"
        " WHERE user_id = ? ORDER BY created_at, id",
        (user_id,),
    ).fetchall()


def credential_taken(credential_id: str) -> bool:
    return get_db().execute(
        "SELECT 1 FROM passkeys WHERE credential_id = ?", (credential_id,)
    ).fetchone() is not None


def record_use(conn, passkey_id: int, sign_count: int, at: str) -> None:
    conn.execute("UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE id = ?",
                 (sign_count, at, passkey_id))


def delete_passkey(conn, passkey_id: int, user_id: int) -> bool:
    cursor = conn.execute("DELETE FROM passkeys WHERE id = ? AND user_id = ?",
                          (passkey_id, user_id))
    return cursor.rowcount == 1


def use_challenge(conn, challenge_hash: str, at: str, forget_before: str) -> bool:
    """Mark a challenge answered; False when it already was (a replay). Old marks go: their
    challenges are refused as too old anyway."""
    conn.execute("DELETE FROM passkey_challenges_used WHERE used_at < ?", (forget_before,))
    cursor = conn.execute(
        "INSERT INTO passkey_challenges_used (challenge_hash, used_at) VALUES (?, ?)"
        " ON CONFLICT (challenge_hash) DO NOTHING",
        (challenge_hash, at),
    )
    return cursor.rowcount == 1
