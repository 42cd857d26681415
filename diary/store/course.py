"""SQL for the course of infusions and the records that leave the app.

One statement per list, whatever the number of infusions: a page of infusions with their place in
the course and their check-in counts; the check-ins of a set of infusions with their severities
(as JSON); the flags of a set of infusions; a patient's care-team history and the audit of who
looked at their diary. Nothing here decides access: callers pass what the reader may see
(`shared_only` for a caregiver).
"""

import json

from .db import get_db

VISIBLE_INFUSIONS = """
    SELECT live_infusions.*, count(live_checkins.id) AS checkin_count FROM live_infusions
    LEFT JOIN live_checkins ON live_checkins.infusion_id = live_infusions.id
        AND (live_checkins.shared = 1 OR NOT :shared_only)
    WHERE live_infusions.patient_id = :patient
    GROUP BY live_infusions.id HAVING count(live_checkins.id) > 0 OR NOT :shared_only
"""


def count_infusions(patient_id: int, shared_only: bool) -> int:
    """How many infusions the course holds for this reader."""
    return get_db().execute(
        "SELECT count(*) FROM live_infusions WHERE patient_id = :patient AND (NOT :shared_only"
        " OR EXISTS (SELECT 1 FROM live_checkins WHERE live_checkins.infusion_id ="
        " live_infusions.id AND live_checkins.shared = 1))",
        {"patient": patient_id, "shared_only": shared_only},
    ).fetchone()[0]


def infusions_page(patient_id: int, shared_only: bool, *, limit: int, offset: int):
    """One page of the course, newest first, each with its number in the course (1 = first)."""
    return get_db().execute(
        f"SELECT * FROM (SELECT visible.*, row_number() OVER (ORDER BY started_at, id) AS number"
        f" FROM ({VISIBLE_INFUSIONS}) AS visible) ORDER BY number DESC LIMIT :limit OFFSET :offset",
        {"patient": patient_id, "shared_only": shared_only, "limit": limit, "offset": offset},
    ).fetchall()


def numbered_infusions(patient_id: int, shared_only: bool):
    """Every infusion of the course, oldest first, with its number and check-in count."""
    return get_db().execute(
        f"SELECT visible.*, row_number() OVER (ORDER BY started_at, id) AS number"
        f" FROM ({VISIBLE_INFUSIONS}) AS visible ORDER BY number",
        {"patient": patient_id, "shared_only": shared_only},
    ).fetchall()


def checkins_of_infusions(patient_id: int, infusion_ids, shared_only: bool):
    """The live check-ins of these infusions, oldest first, each with `severities_json`
    ({"code": severity}) read in the same statement."""
    return get_db().execute(
        "SELECT live_checkins.*, (SELECT json_group_object(symptom, severity)"
        " FROM checkin_symptoms WHERE checkin_id = live_checkins.id) AS severities_json"
        " FROM live_checkins WHERE patient_id = :patient"
        " AND infusion_id IN (SELECT value FROM json_each(:ids))"
        " AND (shared = 1 OR NOT :shared_only) ORDER BY at, id",
        {"patient": patient_id, "ids": json.dumps(list(infusion_ids)),
         "shared_only": shared_only},
    ).fetchall()


def severities_of(row) -> dict[str, int]:
    """A check-in's severities from checkins_of_infusions' JSON column."""
    return json.loads(row["severities_json"] or "{}")


def flags_of_infusions(patient_id: int, infusion_ids):
    """The flags of these infusions with who acknowledged them, oldest evidence first."""
    return get_db().execute(
        "SELECT flags.*, users.name AS acknowledged_by_name FROM flags"
        " LEFT JOIN users ON users.id = flags.acknowledged_by"
        " WHERE flags.patient_id = :patient AND flags.infusion_id IN"
        " (SELECT value FROM json_each(:ids)) ORDER BY flags.first_at, flags.id",
        {"patient": patient_id, "ids": json.dumps(list(infusion_ids))},
    ).fetchall()


def care_team_history(patient_id: int):
    """Everyone who has been in the patient's care team, ended memberships included."""
    return get_db().execute(
        "SELECT care_team.role, care_team.since, care_team.ended_at,"
        " members.name, members.email, enders.name AS ended_by_name,"
        " care_team.ended_by = care_team.patient_id AS ended_by_patient"
        " FROM care_team JOIN users AS members ON members.id = care_team.member_id"
        " LEFT JOIN users AS enders ON enders.id = care_team.ended_by"
        " WHERE care_team.patient_id = ? ORDER BY care_team.since, care_team.id",
        (patient_id,),
    ).fetchall()


def views_of_patient(patient_id: int):
    """Every look at this patient's diary by someone else (pages, lists, downloads), oldest first."""
    return get_db().execute(
        "SELECT audit.at, audit.action, audit.subject, users.name, users.role"
        " FROM audit JOIN users ON users.id = audit.actor_id"
        " WHERE audit.patient_id = ? AND audit.actor_id != ? AND audit.action LIKE 'view%'"
        " AND audit.outcome = 'ok' ORDER BY audit.at, audit.id",
        (patient_id, patient_id),
    ).fetchall()
