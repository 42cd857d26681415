"""Who may see or change what: the one place that decides, used by every view that reads a diary.

A reader gets a Scope for a patient, or None. Anything not allowed answers 404, exactly like
something that does not exist, so nobody learns that a record is there.
"""

from dataclasses import dataclass

from flask import abort

from .store import entries as store


@dataclass(frozen=True)
class Scope:
    """What one reader may see of one patient's diary."""

    reader_id: int
    patient_id: int
    relation: str  # "own", "clinician" or "caregiver"

    @property
    def is_own(self) -> bool:
        return self.relation == "own"

    @property
    def shared_only(self) -> bool:
        return self.relation == "caregiver"


def scope_for(reader, patient_id: int) -> Scope | None:
    if reader.is_patient and reader.id == patient_id:
        return Scope(reader.id, patient_id, "own")
    return None


def require_scope(reader, patient_id: int) -> Scope:
    scope = scope_for(reader, patient_id)
    if scope is None:
        abort(404)
    return scope


def own_infusion(patient, infusion_id: int):
    """An infusion the signed-in patient may change; anyone else's answers 404."""
    row = store.infusion(infusion_id, patient.id) if patient.is_patient else None
    if row is None:
        abort(404)
    return row


def own_checkin(patient, checkin_id: int):
    """A check-in the signed-in patient may change, with its infusion; anyone else's answers 404."""
    row = store.checkin(checkin_id, patient.id) if patient.is_patient else None
    if row is None:
        abort(404)
    return row, own_infusion(patient, row["infusion_id"])


def infusions(scope: Scope):
    return store.infusions_of_patient(scope.patient_id)


def infusion(scope: Scope, infusion_id: int):
    row = store.infusion(infusion_id, scope.patient_id)
    if row is None:
        abort(404)
    return row


def checkins(scope: Scope, infusion_id: int):
    """The check-ins of an infusion this scope may read, newest first, with their severities."""
    rows = store.checkins_of_infusion(infusion_id, shared_only=scope.shared_only)
    severities = store.symptoms_of_infusion(infusion_id)
    return [(row, severities.get(row["id"], {})) for row in rows]
