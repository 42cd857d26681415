"""SQL for invitations and care-team memberships."""

import json

from .db import get_db

PATIENTS_IN_CARE = ("SELECT patient_id FROM care_team WHERE member_id = :member"
                    " AND ended_at IS NULL")
"""The patients whose care team this member (:member) is in today."""


def insert_invitation(conn, *, token_hash, kind, created_by, patient_id, created_at,
                      expires_at) -> int:
    return conn.execute(
        "INSERT INTO invitations (token_hash, kind, created_by, patient_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (token_hash, kind, created_by, patient_id, created_at, expires_at),
    ).lastrowid


def invitation_by_token(token_hash: str):
    return get_db().execute(
        "SELECT invitations.*, users.name AS created_by_name FROM invitations"
        " JOIN users ON users.id = invitations.created_by WHERE token_hash = ?",
        (token_hash,),
    ).fetchone()


def invitation_of_creator(invitation_id: int, created_by: int):
    return get_db().execute(
        "SELECT * FROM invitations WHERE id = ? AND created_by = ?", (invitation_id, created_by)
    ).fetchone()


def pending_invitations(created_by: int, now: str):
    return get_db().execute(
        "SELECT * FROM invitations WHERE created_by = ? AND accepted_at IS NULL"
        " AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC",
        (created_by, now),
    ).fetchall()


def mark_invitation_accepted(conn, invitation_id: int, member_id: int, at: str) -> bool:
    return conn.execute(
        "UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?"
        " AND accepted_at IS NULL AND revoked_at IS NULL",
        (at, member_id, invitation_id),
    ).rowcount == 1


def revoke_invitation(conn, invitation_id: int, at: str) -> bool:
    return conn.execute(
        "UPDATE invitations SET revoked_at = ? WHERE id = ? AND accepted_at IS NULL"
        " AND revoked_at IS NULL",
        (at, invitation_id),
    ).rowcount == 1


def active_membership(patient_id: int, member_id: int):
    return get_db().execute(
        "SELECT * FROM care_team WHERE patient_id = ? AND member_id = ? AND ended_at IS NULL",
        (patient_id, member_id),
    ).fetchone()


def membership_of_patient(membership_id: int, patient_id: int):
    return get_db().execute(
        "SELECT * FROM care_team WHERE id = ? AND patient_id = ? AND ended_at IS NULL",
        (membership_id, patient_id),
    ).fetchone()


def insert_membership(conn, *, patient_id, member_id, role, invitation_id, since) -> int:
    return conn.execute(
        "INSERT INTO care_team (patient_id, member_id, role, invitation_id, since)"
        " VALUES (?, ?, ?, ?, ?)",
        (patient_id, member_id, role, invitation_id, since),
    ).lastrowid


def end_membership(conn, membership_id: int, ended_by: int, at: str) -> bool:
    return conn.execute(
        "UPDATE care_team SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL",
        (at, ended_by, membership_id),
    ).rowcount == 1


def members_of_patient(patient_id: int):
    return get_db().execute(
        "SELECT care_team.id, care_team.role, care_team.since, users.name, users.email"
        " FROM care_team JOIN users ON users.id = care_team.member_id"
        " WHERE care_team.patient_id = ? AND care_team.ended_at IS NULL"
        " ORDER BY care_team.role, users.name",
        (patient_id,),
    ).fetchall()


REFRESH_CARE_LISTS = """
UPDATE care_team SET
    urgent_flags = CASE role WHEN 'clinician' THEN (SELECT count(*) FROM flags
        WHERE flags.patient_id = care_team.patient_id AND state = 'open' AND urgent = 1) ELSE 0 END,
    open_flags = CASE role WHEN 'clinician' THEN (SELECT count(*) FROM flags
        WHERE flags.patient_id = care_team.patient_id AND state = 'open') ELSE 0 END,
    last_checkin_at = (SELECT max(at) FROM live_checkins
        WHERE live_checkins.patient_id = care_team.patient_id
        AND (shared = 1 OR care_team.role = 'clinician')),
    checkin_count = (SELECT count(*) FROM live_checkins
        WHERE live_checkins.patient_id = care_team.patient_id
        AND (shared = 1 OR care_team.role = 'clinician'))
WHERE patient_id = ? AND ended_at IS NULL
"""
"""What each member's list sorts by, as that member may see it (see migration 0008)."""


def refresh_care_lists(conn, patient_id: int) -> None:
    """Bring this patient's place in every list they are on up to date; call inside the write
    that changed their check-ins, sharing, flags or care team."""
    conn.execute(REFRESH_CARE_LISTS, (patient_id,))


CARE_LIST = """
    SELECT users.id, users.name, users.time_zone, care_team.since, care_team.urgent_flags,
           care_team.open_flags, care_team.last_checkin_at AS last_at, care_team.checkin_count
    FROM care_team JOIN users ON users.id = care_team.patient_id
    WHERE care_team.member_id = :member AND care_team.ended_at IS NULL
"""


def _like(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _named_like(search: str) -> str:
    return " AND users.name LIKE :search ESCAPE '\\'" if search else ""


def patients_in_care_page(member_id: int, *, search: str, limit: int, offset: int):
    """One page of the member's patients: urgent flags first, then most flags, then the latest
    check-in. Read in the order of an index (care_team_list), so a page costs the same in any
    clinic."""
    return get_db().execute(
        f"{CARE_LIST}{_named_like(search)} ORDER BY care_team.urgent_flags DESC,"
        " care_team.open_flags DESC, care_team.last_checkin_at DESC, care_team.patient_id"
        " LIMIT :limit OFFSET :offset",
        {"member": member_id, "search": _like(search), "limit": limit, "offset": offset},
    ).fetchall()


def patients_in_care_totals(member_id: int, *, search: str):
    """How many patients the list has (with this search), and how many have urgent flags."""
    named = (" AND patient_id IN (SELECT id FROM users WHERE name LIKE :search ESCAPE '\\')"
             if search else "")
    return get_db().execute(
        "SELECT count(*) AS patients, coalesce(sum(urgent_flags > 0), 0) AS urgent FROM care_team"
        f" WHERE member_id = :member AND ended_at IS NULL{named}",
        {"member": member_id, "search": _like(search)},
    ).fetchone()


def latest_infusions_of(patient_ids, shared_only: bool):
    """The newest live infusion of each of these patients, in one query.

    For a caregiver (shared_only) it is left out until it has a shared check-in.
    """
    return get_db().execute(
        "SELECT * FROM (SELECT live_infusions.*, row_number() OVER (PARTITION BY patient_id"
        " ORDER BY started_at DESC) AS newest FROM live_infusions"
        " WHERE patient_id IN (SELECT value FROM json_each(:ids))) AS latest"
        " WHERE newest = 1 AND (NOT :shared_only OR EXISTS (SELECT 1 FROM live_checkins"
        " WHERE live_checkins.infusion_id = latest.id AND live_checkins.shared = 1))",
        {"ids": json.dumps(list(patient_ids)), "shared_only": shared_only},
    ).fetchall()


def checkin_times_of(infusion_ids, shared_only: bool):
    """The check-in times of these infusions, for counting missed check-ins."""
    return get_db().execute(
        "SELECT infusion_id, at FROM live_checkins WHERE (shared = 1 OR NOT :shared_only)"
        " AND infusion_id IN (SELECT value FROM json_each(:ids))",
        {"ids": json.dumps(list(infusion_ids)), "shared_only": shared_only},
    ).fetchall()


def clinic_contacts(patient_id: int):
    """The clinicians in this patient's care team, with the phone they give patients."""
    return get_db().execute(
        "SELECT users.name, users.phone FROM care_team JOIN users ON users.id = care_team.member_id"
        " WHERE care_team.patient_id = ? AND care_team.role = 'clinician'"
        " AND care_team.ended_at IS NULL ORDER BY users.name",
        (patient_id,),
    ).fetchall()


def latest_shared_checkins_of(patient_ids):
    """Each patient's newest shared check-in (mood, time, and its infusion's end), in one query."""
    return get_db().execute(
        "SELECT patient_id, at, mood, ends_at FROM (SELECT live_checkins.patient_id,"
        " live_checkins.at, live_checkins.mood, live_infusions.ends_at, row_number() OVER"
        " (PARTITION BY live_checkins.patient_id ORDER BY live_checkins.at DESC,"
        " live_checkins.id DESC) AS newest FROM live_checkins"
        " JOIN live_infusions ON live_infusions.id = live_checkins.infusion_id"
        " WHERE live_checkins.shared = 1"
        " AND live_checkins.patient_id IN (SELECT value FROM json_each(:ids))) WHERE newest = 1",
        {"ids": json.dumps(list(patient_ids))},
    ).fetchall()


def has_caregiver(patient_id: int) -> bool:
    return get_db().execute(
        "SELECT 1 FROM care_team WHERE patient_id = ? AND role = 'caregiver' AND ended_at IS NULL"
        " LIMIT 1", (patient_id,)
    ).fetchone() is not None


def has_clinician(patient_id: int) -> bool:
    return get_db().execute(
        "SELECT 1 FROM care_team WHERE patient_id = ? AND role = 'clinician' AND ended_at IS NULL"
        " LIMIT 1", (patient_id,)
    ).fetchone() is not None
