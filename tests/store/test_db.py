"""The database layer: migrations, pragmas, and init-db keeping data."""

import sqlite3

import pytest

from diary.store import db

from tests.helpers import query


def test_migrations_are_numbered_without_gaps():
    versions = [version for version, _, _ in db.migrations()]
    assert versions == list(range(1, len(versions) + 1))
    assert db.latest_version() == len(versions) >= 1


def test_migrate_from_empty_file(tmp_path):
    path = str(tmp_path / "new.sqlite")
    assert db.migrate_database(path) == db.latest_version()
    conn = sqlite3.connect(path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert {"users", "sessions", "audit", "signin_throttle", "password_resets"} <= tables


@pytest.mark.parametrize("start", range(1, db.latest_version() + 1))
def test_migrate_from_each_earlier_version(tmp_path, start):
    path = str(tmp_path / "old.sqlite")
    conn = db.connect(path, create=True)
    assert db.migrate(conn, target=start) == start
    conn.execute(
        "INSERT INTO users (email, name, role, password_hash, time_zone, created_at)"
        " VALUES ('kept@example.com', 'Kept', 'patient', 'x', 'UTC', '2026-01-01 00:00:00')"
    )
    assert db.migrate(conn) == db.latest_version()
    assert conn.execute("SELECT name FROM users").fetchone()[0] == "Kept"
    conn.close()


def test_migrating_twice_changes_nothing(tmp_path):
    path = str(tmp_path / "twice.sqlite")
    db.migrate_database(path)
    assert db.migrate_database(path) == db.latest_version()


def test_pragmas_in_force(app):
    with app.app_context():
        conn = db.get_db()
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert conn.row_factory is sqlite3.Row


def test_write_rolls_back_on_error(app):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with db.write() as tx:
                tx.execute(
                    "INSERT INTO users (email, name, role, password_hash, time_zone, created_at)"
                    " VALUES ('gone@example.com', 'Gone', 'patient', 'x', 'UTC', 'now')"
                )
                raise RuntimeError("boom")
    assert query(app, "SELECT count(*) FROM users")[0][0] == 0


def test_init_db_keeps_existing_rows(app, runner, users):
    users.create("patient", email="stay@example.com")
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert f"schema version {db.latest_version()}" in result.output
    assert query(app, "SELECT email FROM users")[0][0] == "stay@example.com"


def test_audit_rows_cannot_be_changed_or_deleted(app, users):
    users.create("patient")
    conn = db.connect(app.config["DATABASE"])
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE audit SET outcome = 'forged'")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("DELETE FROM audit")
    conn.close()


def test_statements_keep_triggers_whole():
    script = "CREATE TABLE t (a);\nCREATE TRIGGER x BEFORE DELETE ON t\nBEGIN\n SELECT 1;\nEND;\n"
    assert len(db.statements(script)) == 2


def test_secret_key_is_generated_once_and_private(tmp_path, monkeypatch):
    from diary import _instance_secret_key
    path = tmp_path / "secret_key"
    first = _instance_secret_key(path)
    assert len(first) == 64
    assert _instance_secret_key(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
