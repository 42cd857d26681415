"""The care team: invitations by one-time link, joining, leaving and revoking.

Only the patient adds people to their care team (clinicians may also enrol a new patient into
their own care). Every invitation created, accepted, refused or revoked leaves an audit row.
"""

from datetime import timedelta

from ..access import ROLE_FOR_KIND, INVITATION_REFUSALS, Refusal
from ..rules import clock
from ..rules.tokens import new_token, token_hash
from ..store import audit
from ..store import care_team as store
from ..store.db import write
from . import accounts

INVITATION_LIFETIME = timedelta(days=7)


def create_invitation(creator, kind: str) -> tuple[int, str]:
    """A link for a caregiver or clinician (from a patient) or for a new patient (from a clinician)."""
    allowed = {"patient": ("caregiver", "clinician"), "clinician": ("enrolment",)}
    if kind not in allowed.get(creator.role, ()):
        raise ValueError(f"a {creator.role} cannot create a {kind} invitation")
    token = new_token()
    now = clock.now()
    patient_id = creator.id if creator.role == "patient" else None
    with write() as tx:
        invitation_id = store.insert_invitation(
            tx, token_hash=token_hash(token), kind=kind, created_by=creator.id,
            patient_id=patient_id, created_at=clock.to_db(now),
            expires_at=clock.to_db(now + INVITATION_LIFETIME),
        )
        audit.record("invitation_created", "ok", at=clock.db_now(), actor_id=creator.id, patient_id=patient_id,
                     subject=f"invitation:{invitation_id}:{kind}", conn=tx)
    return invitation_id, token


def accept(row, member_id: int, role: str, conn=None) -> int:
    """Join the care team the invitation is for; the link is used up in the same transaction."""
    now = clock.to_db(clock.now())
    patient_id = row["patient_id"] if row["kind"] != "enrolment" else member_id
    team_member = member_id if row["kind"] != "enrolment" else row["created_by"]
    team_role = role if row["kind"] != "enrolment" else "clinician"
    with write(conn) as tx:
        if not store.mark_invitation_accepted(tx, row["id"], member_id, now):
            raise Refusal(INVITATION_REFUSALS["used"], "used")
        membership_id = store.insert_membership(
            tx, patient_id=patient_id, member_id=team_member, role=team_role,
            invitation_id=row["id"], since=now,
        )
        store.refresh_care_lists(tx, patient_id)
        audit.record("invitation_accepted", "ok", at=clock.db_now(), actor_id=member_id, patient_id=patient_id,
                     subject=f"invitation:{row['id']}", conn=tx)
    return membership_id


def register_and_accept(row, *, name, email, password, time_zone, address: str,
                        per_address: int) -> int:
    """A new caregiver or patient account made through a link, joined to the care team at once.

    A taken email counts against the address like one on the registration page."""
    role = ROLE_FOR_KIND[row["kind"]]
    if role == "clinician":
        raise Refusal("Clinician accounts are made by the clinic, not through a link.", "wrong_role")

    def create_and_join(tx) -> int:
        user_id = accounts.create_user(email=email, name=name, role=role, password=password,
                                       time_zone=time_zone, conn=tx)
        accept(row, user_id, role, conn=tx)
        return user_id

    return accounts.create_throttled(create_and_join, role=role, address=address,
                                     per_address=per_address)


def revoke_invitation(creator, row) -> None:
    """row: the creator's own invitation, from access.own_invitation."""
    invitation_id = row["id"]
    with write() as tx:
        done = store.revoke_invitation(tx, invitation_id, clock.to_db(clock.now()))
        audit.record("invitation_revoked", "ok" if done else "not_pending", at=clock.db_now(), actor_id=creator.id,
                     patient_id=row["patient_id"], subject=f"invitation:{invitation_id}", conn=tx)


def remove_member(patient, row) -> None:
    """The patient takes someone out of their care team; it counts from their very next request.

    row: a membership of the patient's own team, from access.own_membership."""
    with write() as tx:
        store.end_membership(tx, row["id"], patient.id, clock.to_db(clock.now()))
        audit.record("member_removed", "ok", at=clock.db_now(), actor_id=patient.id, patient_id=patient.id,
                     subject=f"member:{row['member_id']}", conn=tx)


def leave(member, row) -> None:
    """row: the member's own place in the team, from access.membership_as_member."""
    patient_id = row["patient_id"]
    with write() as tx:
        store.end_membership(tx, row["id"], member.id, clock.to_db(clock.now()))
        audit.record("member_left", "ok", at=clock.db_now(), actor_id=member.id, patient_id=patient_id,
                     subject=f"member:{member.id}", conn=tx)
