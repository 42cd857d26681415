"""SQL for users, server-side sessions, sign-in throttling and password resets."""

from .db import get_db


def user_by_email(email: str):
    return get_db().execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()


def user_by_id(user_id: int):
    return get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def insert_user(conn, *, email, name, role, password_hash, time_zone, created_at) -> int:
    cursor = conn.execute(
        "INSERT INTO users (email, name, role, password_hash, time_zone, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (email, name, role, password_hash, time_zone, created_at),
    )
    return cursor.lastrowid


def set_password_hash(conn, user_id: int, password_hash: str) -> None:
    conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


def update_settings(conn, user_id: int, *, time_zone: str, share_by_default: bool) -> None:
    conn.execute(
        "UPDATE users SET time_zone = ?, share_by_default = ? WHERE id = ?",
        (time_zone, int(share_by_default), user_id),
    )


def update_clinician_settings(conn, user_id: int, *, phone: str, email_flags: bool) -> None:
    conn.execute("UPDATE users SET phone = ?, email_flags = ? WHERE id = ?",
                 (phone, int(email_flags), user_id))


def set_tell_caregivers(conn, user_id: int, on: bool) -> None:
    conn.execute("UPDATE users SET tell_caregivers = ? WHERE id = ?", (int(on), user_id))


def recent_password_reset(user_id: int, since: str) -> bool:
    return get_db().execute(
        "SELECT 1 FROM password_resets WHERE user_id = ? AND created_at > ? LIMIT 1",
        (user_id, since),
    ).fetchone() is not None


def insert_session(conn, *, session_hash, user_id, at) -> None:
    conn.execute(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
        (session_hash, user_id, at, at),
    )


def session_with_user(session_hash: str):
    return get_db().execute(
        "SELECT sessions.id AS session_id, sessions.created_at AS session_created_at,"
        " sessions.last_seen_at, sessions.ended_at, users.*"
        " FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.id = ?",
        (session_hash,),
    ).fetchone()


def touch_session(conn, session_hash: str, at: str) -> None:
    conn.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (at, session_hash))


def end_session(conn, session_hash: str, at: str) -> None:
    conn.execute(
        "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (at, session_hash)
    )


def end_sessions_of_user(conn, user_id: int, at: str, keep: str | None = None) -> None:
    conn.execute(
        "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL AND id IS NOT ?",
        (at, user_id, keep),
    )


def throttle(key: str):
    return get_db().execute(
        "SELECT failures, blocked_until FROM signin_throttle WHERE key = ?", (key,)
    ).fetchone()


def save_throttle(conn, key: str, failures: int, blocked_until: str | None, *, at: str,
                  forget_before: str) -> None:
    """Keep this key's count; forget keys quiet since forget_before that are not blocked at `at`."""
    conn.execute(
        "INSERT INTO signin_throttle (key, failures, blocked_until, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,"
        " blocked_until = excluded.blocked_until, updated_at = excluded.updated_at",
        (key, failures, blocked_until, at),
    )
    conn.execute(
        "DELETE FROM signin_throttle WHERE updated_at < ?"
        " AND (blocked_until IS NULL OR blocked_until < ?)",
        (forget_before, at),
    )


def clear_throttle(conn, key: str) -> None:
    conn.execute("DELETE FROM signin_throttle WHERE key = ?", (key,))


def insert_password_reset(conn, *, token_hash, user_id, created_at, expires_at) -> None:
    conn.execute(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?)",
        (token_hash, user_id, created_at, expires_at),
    )


def password_reset(token_hash: str):
    return get_db().execute(
        "SELECT * FROM password_resets WHERE token_hash = ?", (token_hash,)
    ).fetchone()


def use_password_reset(conn, token_hash: str, at: str) -> bool:
    cursor = conn.execute(
        "UPDATE password_resets SET used_at = ?"
        " WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        (at, token_hash, at),
    )
    return cursor.rowcount == 1


def end_password_resets_of_user(conn, user_id: int, at: str) -> None:
    """Every link of this user still open at `at` expires then."""
    conn.execute(
        "UPDATE password_resets SET expires_at = ?"
        " WHERE user_id = ? AND used_at IS NULL AND expires_at > ?",
        (at, user_id, at),
    )
