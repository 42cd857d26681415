"""Who may see or change what: the one place that decides, used by every view that reads a diary.

- A patient: their own everything.
- A clinician in the patient's care team: every infusion, check-in (with notes) and revision.
- A caregiver in the patient's care team: only the check-ins the patient shared, with their
  infusion; never a note marked private, never the safety answer, never revisions.
- Anyone else: 404, exactly like something that does not exist, so nobody learns it is there.
Write access is only ever the patient's own. Every look at a diary by someone other than the
patient leaves an audit row, refused looks included.
"""

from dataclasses import dataclass

from flask import abort, request

from . import clock, flagging, timeline
from .store import audit
from .store import care
from .store import entries as store
from .store import flags as flag_store

HIDDEN_FROM_CAREGIVERS = ("safety",)


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
    def is_clinician(self) -> bool:
        return self.relation == "clinician"

    @property
    def shared_only(self) -> bool:
        return self.relation == "caregiver"


def scope_for(reader, patient_id: int) -> Scope | None:
    if reader.is_patient:
        return Scope(reader.id, patient_id, "own") if reader.id == patient_id else None
    membership = care.active_membership(patient_id, reader.id)
    if membership is None or membership["role"] != reader.role:
        return None
    return Scope(reader.id, patient_id, reader.role)


def require_scope(reader, patient_id: int, audit_view: bool = True) -> Scope:
    """The reader's scope for this patient, or 404; looks by others are audited either way.

    A view that still has to check a record inside the diary passes audit_view=False and calls
    record_view(scope) once that record is found readable.
    """
    scope = scope_for(reader, patient_id)
    if scope is None:
        _refuse(reader.id, f"patient:{patient_id}")
    if audit_view:
        record_view(scope)
    return scope


def record_view(scope: Scope) -> None:
    if not scope.is_own:
        audit.record("view_diary", "ok", actor_id=scope.reader_id, patient_id=scope.patient_id,
                     subject=request.path, address=request.remote_addr)


def _refuse(reader_id: int, subject: str):
    """404 for what may not be read, with an audit row that names no patient."""
    audit.record("view_diary", "denied", actor_id=reader_id, subject=subject,
                 address=request.remote_addr)
    abort(404)


def require_clinician(reader, patient_id: int, action: str) -> Scope:
    """A clinician in this patient's care team, about to act (acknowledge, set a threshold)."""
    scope = scope_for(reader, patient_id)
    if scope is None or not scope.is_clinician:
        audit.record(action, "denied", actor_id=reader.id, subject=f"patient:{patient_id}",
                     address=request.remote_addr)
        abort(404)
    return scope


def chart(scope: Scope, view):
    """A caregiver's chart shows the usual times only: no flags and no clinician's thresholds."""
    if scope.shared_only:
        return timeline.chart_for(view, {}, mark_lasting=False)
    return timeline.chart_for(view, flagging.patient_thresholds(scope.patient_id))


def thresholds(scope: Scope):
    """The patient's own thresholds with who set them: for the patient's clinicians."""
    return flag_store.thresholds_of_patient(scope.patient_id) if scope.is_clinician else []


def flags(scope: Scope):
    """A patient's flags and their history: for the patient's clinicians only."""
    if not scope.is_clinician:
        return [], []
    return flag_store.flags_of_patient(scope.patient_id), flag_store.events_of_patient(scope.patient_id)


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
    """The patient's infusions this scope may see; a caregiver sees those with a shared check-in."""
    rows = store.infusions_of_patient(scope.patient_id, shared_only=scope.shared_only)
    return rows


def infusion(scope: Scope, infusion_id: int):
    row = store.infusion(infusion_id, scope.patient_id)
    if row is None or (scope.shared_only and not store.has_shared_checkin(infusion_id)):
        _refuse(scope.reader_id, f"infusion:{infusion_id}")
    return row


def _redacted(scope: Scope, row) -> dict:
    checkin = dict(row)
    if scope.shared_only:
        for column in HIDDEN_FROM_CAREGIVERS:
            checkin.pop(column, None)
        if checkin["note_private"]:
            checkin["note"] = None
    return checkin


def checkins(scope: Scope, infusion):
    """(check-in, severities) pairs of an infusion from infusion() or own_infusion(), newest first."""
    if infusion["patient_id"] != scope.patient_id:
        abort(404)
    rows = store.checkins_of_infusion(infusion["id"], shared_only=scope.shared_only)
    severities = store.symptoms_of_infusion(infusion["id"])
    return [(_redacted(scope, row), severities.get(row["id"], {})) for row in rows]


def checkins_by_infusion(scope: Scope) -> dict[int, list]:
    """Every readable check-in of the patient, grouped by infusion, in two queries."""
    rows = store.checkins_of_patient(scope.patient_id, shared_only=scope.shared_only)
    severities = store.symptoms_of_patient(scope.patient_id)
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row["infusion_id"], []).append(
            (_redacted(scope, row), severities.get(row["id"], {}))
        )
    return grouped


def checkin(scope: Scope, checkin_id: int):
    """One check-in with its severities, or 404 when this scope may not read it."""
    row = store.checkin(checkin_id, scope.patient_id)
    if row is None or (scope.shared_only and not row["shared"]):
        _refuse(scope.reader_id, f"checkin:{checkin_id}")
    return _redacted(scope, row), store.symptoms_of_checkin(checkin_id)


def revisions(scope: Scope, infusion):
    """Earlier versions of changed check-ins: for the patient and clinicians, never caregivers."""
    if scope.shared_only or infusion["patient_id"] != scope.patient_id:
        return []
    return store.revisions_of_infusion(infusion["id"])


def patients_in_care(reader) -> list:
    """The clinician's or caregiver's list of patients; a caregiver's counts only what was shared."""
    shared_only = reader.role == "caregiver"
    rows = timeline.patient_rows(
        care.patients_of_member(reader.id), care.latest_infusions_in_care(reader.id, shared_only),
        care.checkin_times_of_latest_infusions(reader.id, shared_only),
        care.last_checkins_in_care(reader.id, shared_only), reader.time_zone, clock.now(),
    )
    _record_list_view(reader, [row.id for row in rows])
    return rows


def open_flags(reader) -> list:
    """The clinician's queue: open flags of the patients in their care, urgent first."""
    items = flagging.queue(flag_store.open_flags_in_care(reader.id))
    _record_list_view(reader, [item["row"]["patient_id"] for item in items])
    return items


def open_flag_counts(reader) -> dict:
    return {row["patient_id"]: row for row in flag_store.open_counts_in_care(reader.id)}


def who_has_seen(patient):
    return audit.for_patient_views(patient.id)


def _record_list_view(reader, patient_ids) -> None:
    if patient_ids:
        audit.record_views(reader.id, patient_ids, request.path, request.remote_addr)
