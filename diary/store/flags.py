"""SQL for flags, their history, and patient-specific thresholds."""

from .care_team import PATIENTS_IN_CARE
from .db import get_db

CLINICIAN_OF = f"{PATIENTS_IN_CARE} AND role = 'clinician'"

FLAG_COLUMNS = ("first_checkin_id", "latest_checkin_id", "first_at", "latest_at", "hour",
                "peak_severity", "latest_severity", "latest_mood", "flag_after_hours")


def flags_of_infusion(conn, infusion_id: int):
    return conn.execute("SELECT * FROM flags WHERE infusion_id = ?", (infusion_id,)).fetchall()


def insert_flag(conn, *, infusion_id, patient_id, kind, symptom, urgent, values: dict,
                at) -> int:
    return conn.execute(
        "INSERT INTO flags (infusion_id, patient_id, kind, symptom, urgent, state,"
        " first_checkin_id, latest_checkin_id, first_at, latest_at, hour, peak_severity,"
        " latest_severity, latest_mood, flag_after_hours, raised_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (infusion_id, patient_id, kind, symptom, int(urgent),
         *(values[column] for column in FLAG_COLUMNS), at, at),
    ).lastrowid


def update_flag(conn, flag_id: int, *, state: str, values: dict, at) -> None:
    conn.execute(
        "UPDATE flags SET state = ?, first_checkin_id = ?, latest_checkin_id = ?, first_at = ?,"
        " latest_at = ?, hour = ?, peak_severity = ?, latest_severity = ?, latest_mood = ?,"
        " flag_after_hours = ?, updated_at = ? WHERE id = ?",
        (state, *(values[column] for column in FLAG_COLUMNS), at, flag_id),
    )


def set_state(conn, flag_id: int, state: str, at: str) -> None:
    conn.execute("UPDATE flags SET state = ?, updated_at = ? WHERE id = ?", (state, at, flag_id))


def acknowledge(conn, flag_id: int, *, by, note, note_for_patient: bool, at) -> bool:
    return conn.execute(
        "UPDATE flags SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?,"
        " acknowledged_note = ?, note_for_patient = ?, acknowledged_latest_at = latest_at,"
        " acknowledged_peak_severity = peak_severity, updated_at = ?"
        " WHERE id = ? AND state = 'open'",
        (at, by, note, int(note_for_patient), at, flag_id),
    ).rowcount == 1


def reopen(conn, flag_id: int, *, acknowledged_since: str, at: str) -> bool:
    """Undo an acknowledgement made after `acknowledged_since`; older ones stay as they are."""
    return conn.execute(
        "UPDATE flags SET state = 'open', acknowledged_at = NULL, acknowledged_by = NULL,"
        " acknowledged_note = NULL, note_for_patient = 0, acknowledged_latest_at = NULL,"
        " acknowledged_peak_severity = NULL, updated_at = ?"
        " WHERE id = ? AND state = 'acknowledged' AND acknowledged_at >= ?",
        (at, flag_id, acknowledged_since),
    ).rowcount == 1


def recently_acknowledged(member_id: int, since: str, limit: int):
    """Flags of this clinician's patients acknowledged after `since`, newest first: they may
    still be reopened."""
    return get_db().execute(
        "SELECT flags.*, patients.name AS patient_name, clinicians.name AS acknowledged_by_name"
        " FROM flags JOIN users AS patients ON patients.id = flags.patient_id"
        " LEFT JOIN users AS clinicians ON clinicians.id = flags.acknowledged_by"
        f" WHERE flags.state = 'acknowledged' AND flags.acknowledged_at >= :since"
        f" AND flags.patient_id IN ({CLINICIAN_OF}) ORDER BY flags.acknowledged_at DESC LIMIT :limit",
        {"member": member_id, "since": since, "limit": limit},
    ).fetchall()


def add_event(conn, flag_id: int, event: str, at: str, actor_id=None, note=None) -> None:
    conn.execute(
        "INSERT INTO flag_events (flag_id, at, actor_id, event, note) VALUES (?, ?, ?, ?, ?)",
        (flag_id, at, actor_id, event, note),
    )


def flag(flag_id: int):
    return get_db().execute("SELECT * FROM flags WHERE id = ?", (flag_id,)).fetchone()


def open_flags_page(member_id: int, *, kinds_in_order: str, symptoms_in_order: str,
                    limit: int, offset: int):
    """One page of the clinician's queue: urgent first, then the newest evidence; ties by kind
    and by symptom in the orders given (",kind,kind," strings). Sorted and cut in SQL."""
    return get_db().execute(
        "SELECT flags.*, users.name AS patient_name FROM flags"
        " JOIN users ON users.id = flags.patient_id"
        f" WHERE flags.state = 'open' AND flags.patient_id IN ({CLINICIAN_OF})"
        " ORDER BY flags.urgent DESC, flags.latest_at DESC,"
        " instr(:kinds, ',' || flags.kind || ','), instr(:symptoms, ',' || flags.symptom || ','),"
        " flags.id LIMIT :limit OFFSET :offset",
        {"member": member_id, "kinds": kinds_in_order, "symptoms": symptoms_in_order,
         "limit": limit, "offset": offset},
    ).fetchall()


def open_flag_totals(member_id: int):
    """How many open flags the queue holds, and how many of them are urgent: summed from the
    counts each membership keeps (migration 0008), read from the list's own index."""
    return get_db().execute(
        "SELECT coalesce(sum(open_flags), 0) AS total, coalesce(sum(urgent_flags), 0) AS urgent"
        " FROM care_team WHERE member_id = :member AND role = 'clinician' AND ended_at IS NULL",
        {"member": member_id},
    ).fetchone()


def open_flag(flag_id: int, member_id: int):
    """An open flag of a patient in this clinician's care, with the patient's name."""
    return get_db().execute(
        "SELECT flags.*, users.name AS patient_name FROM flags"
        " JOIN users ON users.id = flags.patient_id"
        f" WHERE flags.id = :flag AND flags.state = 'open' AND flags.patient_id IN ({CLINICIAN_OF})",
        {"member": member_id, "flag": flag_id},
    ).fetchone()


def flags_of_patient(patient_id: int):
    return get_db().execute(
        "SELECT flags.*, users.name AS acknowledged_by_name FROM flags"
        " LEFT JOIN users ON users.id = flags.acknowledged_by"
        " WHERE flags.patient_id = ? ORDER BY flags.latest_at DESC",
        (patient_id,),
    ).fetchall()


def events_of_patient(patient_id: int):
    return get_db().execute(
        "SELECT flag_events.*, users.name AS actor_name FROM flag_events"
        " JOIN flags ON flags.id = flag_events.flag_id"
        " LEFT JOIN users ON users.id = flag_events.actor_id"
        " WHERE flags.patient_id = ? ORDER BY flag_events.at, flag_events.id",
        (patient_id,),
    ).fetchall()


def thresholds_of_patient(patient_id: int, conn=None):
    return (conn or get_db()).execute(
        "SELECT thresholds.*, users.name AS set_by_name FROM thresholds"
        " JOIN users ON users.id = thresholds.set_by WHERE patient_id = ?",
        (patient_id,),
    ).fetchall()


def set_threshold(conn, *, patient_id, symptom, hours, set_by, at) -> None:
    conn.execute(
        "INSERT INTO thresholds (patient_id, symptom, hours, set_by, set_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (patient_id, symptom) DO UPDATE SET hours = excluded.hours,"
        " set_by = excluded.set_by, set_at = excluded.set_at",
        (patient_id, symptom, hours, set_by, at),
    )


def clear_threshold(conn, patient_id: int, symptom: str) -> bool:
    return conn.execute(
        "DELETE FROM thresholds WHERE patient_id = ? AND symptom = ?", (patient_id, symptom)
    ).rowcount == 1
