"""One SQLite connection per request, numbered migrations, and write transactions."""

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from flask import current_app, g

BUSY_TIMEOUT_MS = 10_000
WRITE_PATIENCE_SECONDS = 30
"""How long a write waits for its turn in all, across retries, before the person is told."""


class StoreBusy(Exception):
    """The database stayed locked by other writers for too long; nothing was written."""

    field = ""
    message = ("We could not save this just now, because many people are saving at once. "
               "Nothing was saved and your answers are still here: please press the button again.")


def connect(path: str, create: bool = False) -> sqlite3.Connection:
    """Open a connection with the pragmas every connection needs (autocommit; we BEGIN ourselves).

    Only init-db creates a database file: otherwise a missing file is an error, never a new,
    empty diary (a mistyped path, an unmounted volume, a folder moved while running)."""
    mode = "rwc" if create else "rw"
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True,
                           isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = %d" % BUSY_TIMEOUT_MS)
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def problem_with(path: str) -> str | None:
    """Why the server cannot use this database file, in one line; None when it can."""
    file = Path(path)
    if not file.is_file():
        return (f"The database {path} does not exist. Check DIARY_DATABASE, or create it with "
                "`flask --app diary init-db` (make run does this).")
    if not os.access(file, os.R_OK | os.W_OK) or not os.access(file.parent, os.W_OK | os.X_OK):
        return (f"The database {path} is read-only (the file or its folder cannot be written). "
                "The diary needs to write to it: check its permissions or the volume's mount.")
    return None


_kept = threading.local()


def get_db() -> sqlite3.Connection:
    """This request's connection: the thread's own, kept open between its requests.

    Opening and closing a connection per request costs a WAL checkpoint whenever the closing
    one is the last, which is most requests; a kept connection costs nothing between requests."""
    if "db" not in g:
        path = current_app.config["DATABASE"]
        kept = getattr(_kept, "connection", None)
        if kept is None or _kept.path != path:
            if kept is not None:
                kept.close()
            _kept.connection, _kept.path = None, None
            kept = connect(path)
            _kept.connection, _kept.path = kept, path
        g.db = kept
    return g.db


def close_db(_exc=None) -> None:
    """End of a request: nothing may stay open in the kept connection."""
    conn = g.pop("db", None)
    if conn is not None and conn.in_transaction:
        conn.execute("ROLLBACK")


def forget_kept_connection() -> None:
    """Close this thread's kept connection (a test that moves the database file away, say)."""
    kept = getattr(_kept, "connection", None)
    if kept is not None:
        kept.close()
    _kept.connection, _kept.path = None, None


@contextmanager
def write(conn: sqlite3.Connection | None = None):
    """A write transaction taken at once (BEGIN IMMEDIATE), so concurrent writers queue, not fail.

    Inside another write() it joins that transaction.
    """
    conn = conn or get_db()
    if conn.in_transaction:
        yield conn  # joined to the caller's transaction, which commits or rolls back
        return
    _begin_immediate(conn)
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Wait for the write lock, retrying past busy_timeout until WRITE_PATIENCE_SECONDS."""
    deadline = time.monotonic() + WRITE_PATIENCE_SECONDS
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy() from error
            time.sleep(0.05)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every numbered file in diary/store/migrations, in order."""
    found = []
    for item in resources.files("diary.store.migrations").iterdir():
        name = item.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, item.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def latest_version() -> int:
    return len(migrations())


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def statements(script: str) -> list[str]:
    """Split a migration into statements, keeping triggers whole."""
    found, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                found.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in current.splitlines()
    ):
        raise ValueError("migration ends with an incomplete statement")
    return found


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Apply every migration above the file's version, each in its own exclusive transaction.

    The version is read again under the lock, so several processes starting at once apply each
    step exactly once. Migrations only ever add; none drops user data.
    """
    for version, _name, script in migrations():
        if target is not None and version > target:
            break
        conn.execute("BEGIN EXCLUSIVE")
        try:
            if schema_version(conn) >= version:
                conn.execute("ROLLBACK")
                continue
            for statement in statements(script):
                conn.execute(statement)
            conn.execute("PRAGMA user_version = %d" % version)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return schema_version(conn)


def migrate_database(path: str) -> int:
    """Create the database if it is missing, and bring it to the latest schema."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path, create=True)
    try:
        return migrate(conn)
    finally:
        conn.close()


def database_is_current(path: str) -> bool:
    if not Path(path).exists():
        return False
    conn = connect(path)
    try:
        return schema_version(conn) >= latest_version()
    finally:
        conn.close()
