"""The care team: invitations by one-time link, joining, leaving and revoking.

Only the patient adds people to their care team (clinicians may also enrol a new patient into
their own care). Every invitation created, accepted, refused or revoked leaves an audit row.
"""

import secrets
from datetime import timedelta

from . import accounts, clock
from .accounts import token_hash
from .db import write
from .store import audit
from .store import care as store

INVITATION_LIFETIME = timedelta(days=7)
ROLE_FOR_KIND = {"caregiver": "caregiver", "clinician": "clinician", "enrolment": "patient"}


class Refusal(Exception):
    """An invitation that cannot be used; `reason` says why in words for the person holding it."""

    def __init__(self, reason: str, outcome: str):
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


def create_invitation(creator, kind: str) -> tuple[int, str]:
    """A link for a caregiver or clinician (from a patient) or for a new patient (from a clinician)."""
    allowed = {"patient": ("caregiver", "clinician"), "clinician": ("enrolment",)}
    if kind not in allowed.get(creator.role, ()):
        raise ValueError(f"a {creator.role} cannot create a {kind} invitation")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    patient_id = creator.id if creator.role == "patient" else None
    with write() as tx:
        invitation_id = store.insert_invitation(
            tx, token_hash=token_hash(token), kind=kind, created_by=creator.id,
            patient_id=patient_id, created_at=clock.to_db(now),
            expires_at=clock.to_db(now + INVITATION_LIFETIME),
        )
        audit.record("invitation_created", "ok", actor_id=creator.id, patient_id=patient_id,
                     subject=f"invitation:{invitation_id}:{kind}", conn=tx)
    return invitation_id, token


def invitation_state(row) -> str:
    if row["revoked_at"]:
        return "revoked"
    if row["accepted_at"]:
        return "used"
    if clock.from_db(row["expires_at"]) <= clock.now():
        return "expired"
    return "valid"


REFUSALS = {
    "unknown": "This invitation link is not valid. Please check that you copied all of it.",
    "revoked": "This invitation was withdrawn by the person who sent it.",
    "used": "This invitation has already been used. Each link works once.",
    "expired": "This invitation has expired. Invitations work for 7 days; please ask for a new one.",
}


def usable_invitation(token: str, actor_id=None):
    """The invitation behind a link, or Refusal (recorded in the audit trail) saying why not."""
    row = store.invitation_by_token(token_hash(token)) if len(token) <= 100 else None
    state = invitation_state(row) if row else "unknown"
    if state != "valid":
        _refuse(row, state, actor_id)
    return row


def _refuse(row, outcome: str, actor_id, reason: str | None = None):
    audit.record("invitation_refused", outcome, actor_id=actor_id,
                 patient_id=row["patient_id"] if row else None,
                 subject=f"invitation:{row['id']}" if row else None)
    raise Refusal(reason or REFUSALS[outcome], outcome)


def check_acceptor(row, user) -> None:
    """Only the role the invitation was made for may accept it, and never its own creator."""
    if user.id == row["created_by"]:
        _refuse(row, "own_invitation", user.id, "This is your own invitation. Send the link to the "
                                                 "person you want in your care team.")
    if user.role != ROLE_FOR_KIND[row["kind"]]:
        wanted = {"caregiver": "a caregiver", "clinician": "a clinician",
                  "enrolment": "a new patient"}[row["kind"]]
        _refuse(row, "wrong_role", user.id,
                f"This invitation is for {wanted}. You are signed in as a {user.role}, so it "
                "cannot be used with this account.")
    patient_id, member_id = ((user.id, row["created_by"]) if row["kind"] == "enrolment"
                             else (row["patient_id"], user.id))
    if store.active_membership(patient_id, member_id):
        _refuse(row, "already_member", user.id, "You are already in this care team.")


def accept(row, member_id: int, role: str, conn=None) -> int:
    """Join the care team the invitation is for; the link is used up in the same transaction."""
    now = clock.to_db(clock.now())
    patient_id = row["patient_id"] if row["kind"] != "enrolment" else member_id
    team_member = member_id if row["kind"] != "enrolment" else row["created_by"]
    team_role = role if row["kind"] != "enrolment" else "clinician"
    with write(conn) as tx:
        if not store.mark_invitation_accepted(tx, row["id"], member_id, now):
            raise Refusal(REFUSALS["used"], "used")
        membership_id = store.insert_membership(
            tx, patient_id=patient_id, member_id=team_member, role=team_role,
            invitation_id=row["id"], since=now,
        )
        audit.record("invitation_accepted", "ok", actor_id=member_id, patient_id=patient_id,
                     subject=f"invitation:{row['id']}", conn=tx)
    return membership_id


def register_and_accept(row, *, name, email, password, time_zone) -> int:
    """A new caregiver or patient account made through a link, joined to the care team at once."""
    role = ROLE_FOR_KIND[row["kind"]]
    if role == "clinician":
        raise Refusal("Clinician accounts are made by the clinic, not through a link.", "wrong_role")
    with write() as tx:
        user_id = accounts.create_user(email=email, name=name, role=role, password=password,
                                       time_zone=time_zone, conn=tx)
        accept(row, user_id, role, conn=tx)
    return user_id


def revoke_invitation(patient, invitation_id: int) -> bool:
    row = store.invitation_of_creator(invitation_id, patient.id)
    if row is None:
        return False
    with write() as tx:
        done = store.revoke_invitation(tx, invitation_id, clock.to_db(clock.now()))
        audit.record("invitation_revoked", "ok" if done else "not_pending", actor_id=patient.id,
                     patient_id=row["patient_id"], subject=f"invitation:{invitation_id}", conn=tx)
    return True


def remove_member(patient, membership_id: int) -> bool:
    """The patient takes someone out of their care team; it counts from their very next request."""
    row = store.membership_of_patient(membership_id, patient.id)
    if row is None:
        return False
    with write() as tx:
        store.end_membership(tx, membership_id, patient.id, clock.to_db(clock.now()))
        audit.record("member_removed", "ok", actor_id=patient.id, patient_id=patient.id,
                     subject=f"member:{row['member_id']}", conn=tx)
    return True


def leave(member, patient_id: int) -> bool:
    row = store.active_membership(patient_id, member.id)
    if row is None:
        return False
    with write() as tx:
        store.end_membership(tx, row["id"], member.id, clock.to_db(clock.now()))
        audit.record("member_left", "ok", actor_id=member.id, patient_id=patient_id,
                     subject=f"member:{member.id}", conn=tx)
    return True
