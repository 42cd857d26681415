"""SQL for infusions, check-ins, their symptoms and revisions.

Reads take the set of rows the caller may see (see diary.access); nothing here decides access.
"""

import json

from .db import get_db

def infusion(infusion_id: int, patient_id: int):
    return get_db().execute(
        "SELECT * FROM live_infusions WHERE id = ? AND patient_id = ?",
        (infusion_id, patient_id),
    ).fetchone()


def infusion_even_deleted(conn, infusion_id: int):
    return conn.execute("SELECT * FROM infusions WHERE id = ?", (infusion_id,)).fetchone()


def infusions_of_patient(patient_id: int, shared_only: bool = False):
    """Live infusions, newest first, with how many check-ins each has (shared ones, if asked)."""
    return get_db().execute(
        "SELECT live_infusions.*, count(live_checkins.id) AS checkin_count FROM live_infusions"
        " LEFT JOIN live_checkins ON live_checkins.infusion_id = live_infusions.id"
        " AND (live_checkins.shared = 1 OR NOT ?)"
        " WHERE live_infusions.patient_id = ?"
        " GROUP BY live_infusions.id HAVING count(live_checkins.id) > 0 OR NOT ?"
        " ORDER BY live_infusions.started_at DESC",
        (shared_only, patient_id, shared_only),
    ).fetchall()


def has_shared_checkin(infusion_id: int) -> bool:
    return get_db().execute(
        "SELECT 1 FROM live_checkins WHERE infusion_id = ? AND shared = 1 LIMIT 1", (infusion_id,)
    ).fetchone() is not None


def overlapping_infusion(patient_id: int, starts: str, accepts_until: str, ignore_id=None):
    return get_db().execute(
        "SELECT id, started_at FROM live_infusions WHERE patient_id = ?"
        " AND started_at <= ? AND accepts_until >= ? AND id IS NOT ? LIMIT 1",
        (patient_id, accepts_until, starts, ignore_id),
    ).fetchone()


def insert_infusion(conn, *, patient_id, started_at, length_minutes, ends_at, accepts_until,
                    note, at) -> int:
    return conn.execute(
        "INSERT INTO infusions (patient_id, started_at, length_minutes, ends_at, accepts_until,"
        " note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (patient_id, started_at, length_minutes, ends_at, accepts_until, note, at, at),
    ).lastrowid


def update_infusion(conn, infusion_id, patient_id, *, started_at, length_minutes, ends_at, accepts_until,
                    note, at) -> None:
    conn.execute(
        "UPDATE infusions SET started_at = ?, length_minutes = ?, ends_at = ?, accepts_until = ?,"
        " note = ?, updated_at = ? WHERE id = ? AND patient_id = ?",
        (started_at, length_minutes, ends_at, accepts_until, note, at, infusion_id, patient_id),
    )


def delete_infusion(conn, infusion_id: int, patient_id: int, at: str) -> None:
    conn.execute("UPDATE infusions SET deleted_at = ? WHERE id = ? AND patient_id = ?",
                 (at, infusion_id, patient_id))
    conn.execute(
        "UPDATE checkins SET deleted_at = ? WHERE infusion_id = ? AND patient_id = ?"
        " AND deleted_at IS NULL",
        (at, infusion_id, patient_id),
    )


def checkins_outside(conn, infusion_id: int, starts: str, accepts_until: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM live_checkins WHERE infusion_id = ? AND (at < ? OR at > ?)",
        (infusion_id, starts, accepts_until),
    ).fetchone()[0]


def checkin(checkin_id: int, patient_id: int):
    return get_db().execute(
        "SELECT * FROM live_checkins WHERE id = ? AND patient_id = ?",
        (checkin_id, patient_id),
    ).fetchone()


def checkins_of_infusion(infusion_id: int, shared_only: bool = False):
    """Live check-ins of one infusion, newest first."""
    return get_db().execute(
        "SELECT * FROM live_checkins WHERE infusion_id = ? AND (shared = 1 OR NOT ?)"
        " ORDER BY at DESC, id DESC",
        (infusion_id, shared_only),
    ).fetchall()


def _by_checkin(rows) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = {}
    for row in rows:
        found.setdefault(row["checkin_id"], {})[row["symptom"]] = row["severity"]
    return found


def symptoms_of_infusion(infusion_id: int) -> dict[int, dict[str, int]]:
    """Every severity of an infusion's live check-ins in one query: {checkin_id: {code: severity}}."""
    return _by_checkin(get_db().execute(
        "SELECT checkin_symptoms.* FROM checkin_symptoms"
        " JOIN live_checkins ON live_checkins.id = checkin_symptoms.checkin_id"
        " WHERE live_checkins.infusion_id = ?",
        (infusion_id,),
    ))


def checkins_of_patient(patient_id: int, shared_only: bool = False):
    return get_db().execute(
        "SELECT * FROM live_checkins WHERE patient_id = ? AND (shared = 1 OR NOT ?)"
        " ORDER BY at DESC, id DESC",
        (patient_id, shared_only),
    ).fetchall()


def symptoms_of_patient(patient_id: int) -> dict[int, dict[str, int]]:
    return _by_checkin(get_db().execute(
        "SELECT checkin_symptoms.* FROM checkin_symptoms"
        " JOIN live_checkins ON live_checkins.id = checkin_symptoms.checkin_id"
        " WHERE live_checkins.patient_id = ?",
        (patient_id,),
    ))


def symptoms_of_checkin(checkin_id: int) -> dict[str, int]:
    return {
        row["symptom"]: row["severity"]
        for row in get_db().execute(
            "SELECT symptom, severity FROM checkin_symptoms WHERE checkin_id = ?", (checkin_id,)
        )
    }


def insert_checkin(conn, *, infusion_id, patient_id, at, mood, note, note_private, shared,
                   safety, submission_key, now) -> int:
    return conn.execute(
        "INSERT INTO checkins (infusion_id, patient_id, at, mood, note, note_private, shared,"
        " safety, submission_key, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (infusion_id, patient_id, at, mood, note, int(note_private), int(shared), safety,
         submission_key, now, now),
    ).lastrowid


def checkin_by_submission(conn, patient_id: int, submission_key: str | None) -> int | None:
    """The check-in this form already saved, deleted or not, so a retry never adds another."""
    if not submission_key:
        return None
    row = conn.execute(
        "SELECT id FROM checkins WHERE patient_id = ? AND submission_key = ?",
        (patient_id, submission_key),
    ).fetchone()
    return row[0] if row else None


def update_checkin(conn, checkin_id, patient_id, *, at, mood, note, note_private, shared, safety,
                   now) -> None:
    conn.execute(
        "UPDATE checkins SET at = ?, mood = ?, note = ?, note_private = ?, shared = ?,"
        " safety = ?, updated_at = ? WHERE id = ? AND patient_id = ?",
        (at, mood, note, int(note_private), int(shared), safety, now, checkin_id, patient_id),
    )


def set_shared(conn, checkin_id: int, patient_id: int, shared: bool, now: str) -> None:
    conn.execute(
        "UPDATE checkins SET shared = ?, updated_at = ? WHERE id = ? AND patient_id = ?",
        (int(shared), now, checkin_id, patient_id),
    )


def delete_checkin(conn, checkin_id: int, patient_id: int, at: str) -> None:
    conn.execute("UPDATE checkins SET deleted_at = ? WHERE id = ? AND patient_id = ?",
                 (at, checkin_id, patient_id))


def save_symptoms(conn, checkin_id: int, severities: dict[str, int]) -> None:
    conn.executemany(
        "INSERT INTO checkin_symptoms (checkin_id, symptom, severity) VALUES (?, ?, ?)"
        " ON CONFLICT (checkin_id, symptom) DO UPDATE SET severity = excluded.severity",
        [(checkin_id, code, severity) for code, severity in severities.items()],
    )


def insert_revision(conn, *, checkin_id, revised_by, action, previous: dict, at) -> None:
    conn.execute(
        "INSERT INTO checkin_revisions (checkin_id, revised_at, revised_by, action, previous)"
        " VALUES (?, ?, ?, ?, ?)",
        (checkin_id, at, revised_by, action, json.dumps(previous, sort_keys=True)),
    )


def revisions_of_infusion(infusion_id: int):
    return get_db().execute(
        "SELECT checkin_revisions.*, users.name AS revised_by_name FROM checkin_revisions"
        " JOIN checkins ON checkins.id = checkin_revisions.checkin_id"
        " JOIN users ON users.id = checkin_revisions.revised_by"
        " WHERE checkins.infusion_id = ? ORDER BY checkin_revisions.revised_at DESC,"
        " checkin_revisions.id DESC",
        (infusion_id,),
    ).fetchall()
