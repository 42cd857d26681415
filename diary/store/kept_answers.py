"""SQL for answers kept while their person signs in again."""

from .db import get_db


def keep(conn, *, browser_hash, user_id, path, fields, at) -> None:
    conn.execute(
        "INSERT INTO kept_answers (browser_hash, user_id, path, fields, kept_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (browser_hash, user_id, path) DO UPDATE SET fields = excluded.fields,"
        " kept_at = excluded.kept_at",
        (browser_hash, user_id, path, fields, at),
    )


def kept(browser_hash: str, user_id: int, path: str, since: str):
    return get_db().execute(
        "SELECT fields, kept_at FROM kept_answers"
        " WHERE browser_hash = ? AND user_id = ? AND path = ? AND kept_at >= ?",
        (browser_hash, user_id, path, since),
    ).fetchone()


def latest_path(browser_hash: str, user_id: int, since: str) -> str | None:
    row = get_db().execute(
        "SELECT path FROM kept_answers WHERE browser_hash = ? AND user_id = ? AND kept_at >= ?"
        " ORDER BY kept_at DESC, id DESC LIMIT 1",
        (browser_hash, user_id, since),
    ).fetchone()
    return row["path"] if row else None


def forget(conn, browser_hash: str, user_id: int, path: str) -> None:
    conn.execute(
        "DELETE FROM kept_answers WHERE browser_hash = ? AND user_id = ? AND path = ?",
        (browser_hash, user_id, path),
    )


def forget_older(conn, before: str) -> None:
    conn.execute("DELETE FROM kept_answers WHERE kept_at < ?", (before,))


def any_older(before: str) -> bool:
    return get_db().execute(
        "SELECT 1 FROM kept_answers WHERE kept_at < ? LIMIT 1", (before,)
    ).fetchone() is not None


def owner_of_session(session_hash: str) -> int | None:
    """Who a session (live or ended) belonged to: the person whose form this browser sent."""
    row = get_db().execute("SELECT user_id FROM sessions WHERE id = ?", (session_hash,)).fetchone()
    return row["user_id"] if row else None
