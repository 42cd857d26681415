"""SQL for invitations and care-team memberships."""

from .db import get_db

PATIENTS_IN_CARE = ("SELECT patient_id FROM care_team WHERE member_id = :member"
                    " AND ended_at IS NULL")
"""The patients whose care team this member (:member) is in today."""

LATEST_INFUSIONS_IN_CARE = (
    "SELECT * FROM (SELECT live_infusions.*, row_number() OVER (PARTITION BY patient_id"
    " ORDER BY started_at DESC) AS newest FROM live_infusions"
    f" WHERE patient_id IN ({PATIENTS_IN_CARE})) WHERE newest = 1"
)
"""The newest live infusion of each of those patients."""


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


def patients_of_member(member_id: int):
    return get_db().execute(
        "SELECT users.id, users.name, users.time_zone, care_team.since FROM care_team"
        " JOIN users ON users.id = care_team.patient_id"
        " WHERE care_team.member_id = ? AND care_team.ended_at IS NULL ORDER BY users.name",
        (member_id,),
    ).fetchall()


def latest_infusions_in_care(member_id: int, shared_only: bool):
    """The newest infusion of each patient in this member's care, in one query.

    For a caregiver (shared_only) it is left out until it has a shared check-in.
    """
    return get_db().execute(
        f"SELECT * FROM ({LATEST_INFUSIONS_IN_CARE}) AS latest WHERE NOT :shared_only OR EXISTS"
        " (SELECT 1 FROM live_checkins WHERE live_checkins.infusion_id = latest.id"
        " AND live_checkins.shared = 1)",
        {"member": member_id, "shared_only": shared_only},
    ).fetchall()


def checkin_times_of_latest_infusions(member_id: int, shared_only: bool):
    """The check-in times of those same infusions, for counting missed check-ins."""
    return get_db().execute(
        "SELECT live_checkins.infusion_id, live_checkins.at FROM live_checkins"
        " WHERE (live_checkins.shared = 1 OR NOT :shared_only) AND live_checkins.infusion_id IN"
        f" (SELECT id FROM ({LATEST_INFUSIONS_IN_CARE}))",
        {"member": member_id, "shared_only": shared_only},
    ).fetchall()


def last_checkins_in_care(member_id: int, shared_only: bool):
    """Per patient in care: the time of their last check-in this member may see, and how many."""
    return get_db().execute(
        "SELECT patient_id, max(at) AS last_at, count(*) AS total FROM live_checkins"
        f" WHERE patient_id IN ({PATIENTS_IN_CARE}) AND (shared = 1 OR NOT :shared_only)"
        " GROUP BY patient_id",
        {"member": member_id, "shared_only": shared_only},
    ).fetchall()


def has_clinician(patient_id: int) -> bool:
    return get_db().execute(
        "SELECT 1 FROM care_team WHERE patient_id = ? AND role = 'clinician' AND ended_at IS NULL"
        " LIMIT 1", (patient_id,)
    ).fetchone() is not None
