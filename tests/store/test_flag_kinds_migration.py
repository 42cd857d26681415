"""The migration that lets flags.kind be 'safety_unanswered': SQLite cannot change a CHECK in place,
so it rebuilds the flags table. Every row, id, index and reference must come through it."""

import sqlite3

import pytest

from diary.store import db

VERSION = next(version for version, name, _ in db.migrations()
               if name.endswith("_safety_unanswered.sql"))
AT = "2026-03-10 14:00:00"


def diary_before(path) -> sqlite3.Connection:
    """A database one step before the rebuild, with two flags that other tables point at."""
    conn = db.connect(path, create=True)
    assert db.migrate(conn, target=VERSION - 1) == VERSION - 1
    conn.execute("INSERT INTO users (id, email, name, role, password_hash, time_zone, created_at)"
                 " VALUES (1, 'pat@example.com', 'Pat', 'patient', 'x', 'UTC', ?)", (AT,))
    conn.execute("INSERT INTO infusions (id, patient_id, started_at, length_minutes, ends_at,"
                 " accepts_until, created_at, updated_at) VALUES (1, 1, ?, 40, ?, ?, ?, ?)",
                 (AT, AT, AT, AT, AT))
    conn.execute("INSERT INTO checkins (id, infusion_id, patient_id, at, mood, shared, created_at,"
                 " updated_at, safety) VALUES (5, 1, 1, ?, 1, 1, ?, ?, 'yes')", (AT, AT, AT))
    for flag_id, kind, urgent in ((7, "safety", 1), (9, "low_mood", 1)):
        conn.execute(
            "INSERT INTO flags (id, infusion_id, patient_id, kind, urgent, state, first_checkin_id,"
            " latest_checkin_id, first_at, latest_at, hour, latest_mood, raised_at, updated_at)"
            " VALUES (?, 1, 1, ?, ?, 'open', 5, 5, ?, ?, 2, 1, ?, ?)",
            (flag_id, kind, urgent, AT, AT, AT, AT))
        conn.execute("INSERT INTO flag_events (flag_id, at, event) VALUES (?, ?, 'raised')",
                     (flag_id, AT))
    conn.execute("INSERT INTO outbox (dedupe_key, channel, kind, patient_id, flag_id, created_at,"
                 " due_at, next_attempt_at) VALUES ('k', 'webhook', 'urgent_flag', 1, 9, ?, ?, ?)",
                 (AT, AT, AT))
    return conn


def rows(conn, sql):
    return [tuple(row) for row in conn.execute(sql)]


def test_the_old_table_refuses_the_new_kind(tmp_path):
    conn = diary_before(str(tmp_path / "d.sqlite"))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE flags SET kind = 'safety_unanswered' WHERE id = 7")
    conn.close()


def test_the_rebuild_keeps_every_row_id_index_and_reference(tmp_path):
    conn = diary_before(str(tmp_path / "d.sqlite"))
    flags_before = rows(conn, "SELECT * FROM flags ORDER BY id")
    events_before = rows(conn, "SELECT * FROM flag_events ORDER BY id")
    columns_before = [row[1] for row in conn.execute("PRAGMA table_info(flags)")]
    assert db.migrate(conn, target=VERSION) == VERSION

    assert rows(conn, "SELECT * FROM flags ORDER BY id") == flags_before
    assert [row[1] for row in conn.execute("PRAGMA table_info(flags)")] == columns_before
    assert rows(conn, "SELECT * FROM flag_events ORDER BY id") == events_before
    assert rows(conn, "SELECT flag_id FROM outbox") == [(9,)]
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(flags)")}
    assert {"flags_by_patient", "flags_open_queue"} <= indexes
    assert any(row[2] for row in conn.execute("PRAGMA index_list(flags)"))  # UNIQUE kept
    assert rows(conn, "PRAGMA foreign_key_check") == []
    assert "flags_before" not in " ".join(
        name for (name,) in conn.execute("SELECT name FROM sqlite_temp_master"))

    conn.execute(
        "INSERT INTO flags (infusion_id, patient_id, kind, urgent, state, first_at, latest_at,"
        " hour, raised_at, updated_at) VALUES (1, 1, 'safety_unanswered', 0, 'open', ?, ?, 2, ?, ?)",
        (AT, AT, AT, AT))
    assert conn.execute("SELECT max(id) FROM flags").fetchone()[0] == 10  # ids go on
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE flags SET kind = 'maybe' WHERE id = 7")
    with pytest.raises(sqlite3.IntegrityError):  # references still point at the new table
        conn.execute("DELETE FROM flags WHERE id = 7")
    with pytest.raises(sqlite3.IntegrityError):  # the same flag twice is still refused
        conn.execute(
            "INSERT INTO flags (infusion_id, patient_id, kind, urgent, state, first_at, latest_at,"
            " hour, raised_at, updated_at) VALUES (1, 1, 'safety', 1, 'open', ?, ?, 2, ?, ?)",
            (AT, AT, AT, AT))
    assert db.migrate(conn) == db.latest_version()
    conn.close()


def test_a_rebuild_that_lost_a_row_would_fail_and_change_nothing(tmp_path):
    """Foreign keys are checked when the rebuild commits: had it dropped a flag that an event or
    the outbox points at, the whole step would roll back."""
    conn = diary_before(str(tmp_path / "d.sqlite"))
    before = rows(conn, "SELECT * FROM flags ORDER BY id")
    script = next(sql for version, _, sql in db.migrations() if version == VERSION)
    copy_back = "FROM flags_before_rebuild ORDER BY id"
    assert copy_back in script
    losing = script.replace(copy_back, "FROM flags_before_rebuild WHERE id != 9 ORDER BY id")
    conn.execute("BEGIN EXCLUSIVE")
    for statement in db.statements(losing):
        conn.execute(statement)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("COMMIT")
    conn.execute("ROLLBACK")
    assert db.schema_version(conn) == VERSION - 1
    assert rows(conn, "SELECT * FROM flags ORDER BY id") == before
    assert db.migrate(conn, target=VERSION) == VERSION  # the real one goes through
    conn.close()
