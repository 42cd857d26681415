"""SQL for remembered phones and the sessions they begin."""

from .db import get_db


def insert_device(conn, *, user_id, token_hash, password_mark, browser, at) -> int:
    cursor = conn.execute(
        "INSERT INTO devices (user_id, token_hash, password_mark, browser, created_at,"
        " last_used_at) VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, token_hash, password_mark, browser, at, at),
    )
    return cursor.lastrowid


def device_with_user(token_hash: str):
    """The phone behind a cookie, its person, and when any of its sessions was last used."""
    return get_db().execute(
        "SELECT devices.id AS device_id, devices.user_id, devices.password_mark,"
        " devices.last_used_at, devices.ended_at,"
        " (SELECT max(last_seen_at) FROM sessions WHERE sessions.device_id = devices.id)"
        "   AS sessions_last_seen,"
        " users.*"
        " FROM devices JOIN users ON users.id = devices.user_id WHERE devices.token_hash = ?",
        (token_hash,),
    ).fetchone()


def devices_of_user(user_id: int):
    """The phones still signed in (not ended), newest use first; the caller drops expired ones."""
    return get_db().execute(
        "SELECT devices.id, devices.token_hash, devices.browser, devices.created_at,"
        " devices.password_mark, devices.last_used_at,"
        " (SELECT max(last_seen_at) FROM sessions WHERE sessions.device_id = devices.id)"
        "   AS sessions_last_seen"
        " FROM devices WHERE devices.user_id = ? AND devices.ended_at IS NULL"
        " ORDER BY devices.last_used_at DESC, devices.id DESC",
        (user_id,),
    ).fetchall()


def link_session(conn, session_hash: str, device_id: int) -> None:
    conn.execute("UPDATE sessions SET device_id = ? WHERE id = ?", (device_id, session_hash))


def touch_device(conn, device_id: int, at: str) -> None:
    conn.execute("UPDATE devices SET last_used_at = ? WHERE id = ?", (at, device_id))


def end_device(conn, device_id: int, user_id: int, at: str, why: str) -> bool:
    """End one phone of this user and every session it began; False when there was none."""
    cursor = conn.execute(
        "UPDATE devices SET ended_at = ?, ended_why = ?"
        " WHERE id = ? AND user_id = ? AND ended_at IS NULL",
        (at, why, device_id, user_id),
    )
    conn.execute(
        "UPDATE sessions SET ended_at = ? WHERE device_id = ? AND ended_at IS NULL",
        (at, device_id),
    )
    return cursor.rowcount == 1


def end_device_of_token(conn, token_hash: str, at: str, why: str) -> None:
    """The phone this browser's cookie names, whoever's it is, and the sessions it began."""
    row = conn.execute("SELECT id, user_id FROM devices WHERE token_hash = ? AND ended_at IS NULL",
                       (token_hash,)).fetchone()
    if row is not None:
        end_device(conn, row["id"], row["user_id"], at, why)


def device_id_of_token(user_id: int, token_hash: str) -> int | None:
    row = get_db().execute(
        "SELECT id FROM devices WHERE token_hash = ? AND user_id = ? AND ended_at IS NULL",
        (token_hash, user_id),
    ).fetchone()
    return row["id"] if row else None


def end_devices_of_user(conn, user_id: int, at: str, why: str) -> None:
    """Every phone of this user stops being remembered (a password change or reset)."""
    conn.execute(
        "UPDATE devices SET ended_at = ?, ended_why = ? WHERE user_id = ? AND ended_at IS NULL",
        (at, why, user_id),
    )


def refusal_recorded_since(outcome: str, address: str | None, since: str) -> bool:
    """Whether a refused phone cookie from this address was audited after `since`."""
    return get_db().execute(
        "SELECT 1 FROM audit WHERE action = 'phone_refused' AND outcome = ? AND address IS ?"
        " AND at > ? LIMIT 1",
        (outcome, address, since),
    ).fetchone() is not None
