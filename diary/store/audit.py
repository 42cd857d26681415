"""The append-only audit trail: who did what to whose record, when, and how it ended."""

import json

from .db import get_db


def record(action: str, outcome: str, *, at: str, actor_id=None, patient_id=None, subject=None,
           address=None, conn=None) -> None:
    """Add one row; inside a caller's transaction it commits or rolls back with it."""
    (conn or get_db()).execute(
        "INSERT INTO audit (at, actor_id, action, patient_id, subject, outcome, address)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, actor_id, action, patient_id, subject, outcome, address),
    )


def record_views(actor_id: int, patient_ids, subject: str, address, at: str) -> None:
    """One 'view_list' row per patient shown on a list page, in one statement."""
    get_db().execute(
        "INSERT INTO audit (at, actor_id, action, patient_id, subject, outcome, address)"
        " SELECT DISTINCT ?, ?, 'view_list', value, ?, 'ok', ? FROM json_each(?)",
        (at, actor_id, subject, address,
         json.dumps(sorted(set(patient_ids)))),
    )


def for_patient_views(patient_id: int, limit: int = 200):
    """Who other than the patient looked at this patient's diary, newest first."""
    return get_db().execute(
        "SELECT audit.at, audit.action, audit.outcome, audit.actor_id, users.name, users.role"
        " FROM audit JOIN users ON users.id = audit.actor_id"
        " WHERE audit.patient_id = ? AND audit.actor_id != ? AND audit.action LIKE 'view%'"
        " ORDER BY audit.at DESC, audit.id DESC LIMIT ?",
        (patient_id, patient_id, limit),
    ).fetchall()


def recorded_since(action: str, outcome: str, address: str | None, since: str) -> bool:
    """Whether an anonymous row of this kind came from this address after `since`."""
    return get_db().execute(
        "SELECT 1 FROM audit WHERE action = ? AND outcome = ? AND address IS ? AND at > ?"
        " AND actor_id IS NULL LIMIT 1",
        (action, outcome, address, since),
    ).fetchone() is not None


def viewed_since(actor_id: int, patient_id: int, since: str) -> bool:
    """Whether this person opened this patient's diary (not only a list) after `since`."""
    return get_db().execute(
        "SELECT 1 FROM audit WHERE actor_id = ? AND patient_id = ? AND action = 'view_diary'"
        " AND outcome = 'ok' AND at >= ? LIMIT 1",
        (actor_id, patient_id, since),
    ).fetchone() is not None
