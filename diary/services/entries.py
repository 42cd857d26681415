"""Writing the diary: infusions and check-ins, with the rules that keep them consistent.

Every write is one transaction that also keeps the revision trail and the audit row.
Problems the patient can fix raise EntryError naming the form field, and nothing is written.
"""

from dataclasses import dataclass
from datetime import datetime

from ..rules import catalogue, clock, flags, schedule
from ..rules.errors import FieldError
from ..rules.schedule import InfusionWindow
from ..store import audit
from ..store import care_team as care_store
from ..store import entries as store
from ..store.db import write
from . import flags as flagging


class EntryError(FieldError):
    """A diary entry that breaks a rule; nothing was written."""


@dataclass(frozen=True)
class InfusionInput:
    started_at: datetime
    length_minutes: int
    note: str

    def __post_init__(self):
        object.__setattr__(self, "note", catalogue.plain_line_breaks(self.note))


@dataclass(frozen=True)
class CheckinInput:
    at: datetime
    mood: int
    severities: dict
    note: str
    shared: bool
    note_private: bool = False
    safety: str | None = None
    submission_key: str | None = None
    """One per check-in form: the same form sent again finds the check-in it already saved."""

    def __post_init__(self):
        object.__setattr__(self, "note", catalogue.plain_line_breaks(self.note))


def _infusion_columns(data: InfusionInput) -> dict:
    window = InfusionWindow(data.started_at, data.length_minutes)
    return dict(
        started_at=clock.to_db(window.start), length_minutes=data.length_minutes,
        ends_at=clock.to_db(window.end), accepts_until=clock.to_db(window.accepts_until),
        note=data.note.strip(),
    )


CLOSED = ("This infusion's diary is closed: entries can be added or changed until 48 hours "
          "after its 24 hours end.")


def _check_infusion(patient_id: int, data: InfusionInput, ignore_id=None) -> dict:
    """Call inside the write transaction, so two taps cannot both pass the overlap check."""
    if len(data.note) > schedule.INFUSION_NOTE_MAX_LENGTH:
        raise EntryError("note", schedule.INFUSION_NOTE_TOO_LONG)
    problem = schedule.start_problem(data.started_at, data.length_minutes, clock.now())
    if problem:
        field = "length_minutes" if not schedule.is_length(data.length_minutes) else "started_at"
        raise EntryError(field, problem)
    columns = _infusion_columns(data)
    other = store.overlapping_infusion(
        patient_id, columns["started_at"], columns["accepts_until"], ignore_id
    )
    if other is not None:
        raise EntryError(
            "started_at",
            "This overlaps another infusion you recorded. Infusions need at least 26 hours "
            "between the end of one and the start of the next; please check the date.",
        )
    return columns


def record_infusion(patient_id: int, data: InfusionInput) -> int:
    now = clock.to_db(clock.now())
    with write() as tx:
        columns = _check_infusion(patient_id, data)
        infusion_id = store.insert_infusion(tx, patient_id=patient_id, at=now, **columns)
        audit.record("infusion_recorded", "ok", at=clock.db_now(), actor_id=patient_id, patient_id=patient_id,
                     subject=f"infusion:{infusion_id}", conn=tx)
    return infusion_id


def correct_infusion(patient_id: int, infusion, data: InfusionInput) -> None:
    if not can_edit_checkins(infusion, clock.now()):
        raise EntryError("started_at", CLOSED)
    infusion_id = infusion["id"]
    with write() as tx:
        columns = _check_infusion(patient_id, data, ignore_id=infusion_id)
        outside = store.checkins_outside(tx, infusion_id, columns["started_at"],
                                         columns["accepts_until"])
        if outside:
            raise EntryError(
                "started_at",
                f"{outside} of your check-ins would fall outside these times. "
                "Change or delete them first, or check the date.",
            )
        store.update_infusion(tx, infusion_id, patient_id, at=clock.to_db(clock.now()), **columns)
        flagging.recompute(tx, infusion_id)
        audit.record("infusion_corrected", "ok", at=clock.db_now(), actor_id=patient_id, patient_id=patient_id,
                     subject=f"infusion:{infusion_id}", conn=tx)


def delete_infusion(patient_id: int, infusion) -> None:
    """Soft-delete an infusion and its check-ins, each check-in keeping a revision of itself."""
    if not can_edit_checkins(infusion, clock.now()):
        raise EntryError("infusion", CLOSED)
    infusion_id = infusion["id"]
    now = clock.to_db(clock.now())
    with write() as tx:
        for checkin in store.checkins_of_infusion(infusion_id):
            store.insert_revision(tx, checkin_id=checkin["id"], revised_by=patient_id,
                                  action="delete", previous=_snapshot(checkin), at=now)
        store.delete_infusion(tx, infusion_id, patient_id, now)
        flagging.recompute(tx, infusion_id)
        audit.record("infusion_deleted", "ok", at=clock.db_now(), actor_id=patient_id, patient_id=patient_id,
                     subject=f"infusion:{infusion_id}", conn=tx)


def can_edit_checkins(infusion, now: datetime) -> bool:
    return InfusionWindow.of(infusion).is_editable(now)


def _check_checkin(infusion, data: CheckinInput) -> None:
    unknown = sorted(code for code in data.severities if not catalogue.is_symptom(code))
    if unknown:
        raise EntryError("symptoms", f"Unknown symptom: {', '.join(unknown)}.")
    if not all(catalogue.is_severity(value) for value in data.severities.values()):
        raise EntryError("symptoms", "Each symptom is rated from None to Very severe.")
    if not catalogue.is_mood(data.mood):
        raise EntryError("mood", catalogue.MOOD_PROBLEM)
    if data.safety not in flags.SAFETY_ANSWERS:
        raise EntryError("safety", flags.SAFETY_PROBLEM)
    if len(data.note) > catalogue.CHECKIN_NOTE_MAX_LENGTH:
        raise EntryError("note", catalogue.CHECKIN_NOTE_TOO_LONG)
    if data.at > clock.now():
        raise EntryError("at", "The time of the check-in is in the future. Leave it as now, "
                               "or choose an earlier time.")
    if not InfusionWindow.of(infusion).accepts(data.at):
        raise EntryError("at", "Check-ins for this infusion can be from its start until 26 hours "
                               "after it ended. Please choose a time in between.")


def _snapshot(checkin) -> dict:
    return {
        "at": checkin["at"], "mood": checkin["mood"], "note": checkin["note"],
        "shared": checkin["shared"], "note_private": checkin["note_private"],
        "safety": checkin["safety"], "severities": store.symptoms_of_checkin(checkin["id"]),
    }


def _severities_for_every_symptom(severities: dict) -> dict:
    return {code: severities.get(code, catalogue.SEVERITY_NONE) for code in catalogue.CODES}


def save_checkin(patient_id: int, infusion, data: CheckinInput) -> int:
    """A new check-in's id; a submission already saved (a double tap, a retry) returns its id."""
    with write() as tx:
        saved = store.checkin_by_submission(tx, patient_id, data.submission_key)
        if saved is not None:
            return saved
        if not can_edit_checkins(infusion, clock.now()):
            raise EntryError("at", CLOSED)
        _check_checkin(infusion, data)
        now = clock.to_db(clock.now())
        checkin_id = store.insert_checkin(
            tx, infusion_id=infusion["id"], patient_id=patient_id, at=clock.to_db(data.at),
            mood=data.mood, note=data.note.strip(), note_private=data.note_private,
            shared=data.shared, safety=data.safety, submission_key=data.submission_key,
            now=now,
        )
        store.save_symptoms(tx, checkin_id, _severities_for_every_symptom(data.severities))
        flagging.recompute(tx, infusion["id"])
        audit.record("checkin_saved", "ok", at=clock.db_now(), actor_id=patient_id, patient_id=patient_id,
                     subject=f"checkin:{checkin_id}", conn=tx)
    return checkin_id


def edit_checkin(patient_id: int, infusion, checkin, data: CheckinInput) -> None:
    if not can_edit_checkins(infusion, clock.now()):
        raise EntryError("at", CLOSED)
    _check_checkin(infusion, data)
    now = clock.to_db(clock.now())
    with write() as tx:
        store.insert_revision(tx, checkin_id=checkin["id"], revised_by=patient_id, action="edit",
                              previous=_snapshot(checkin), at=now)
        store.update_checkin(tx, checkin["id"], patient_id, at=clock.to_db(data.at), mood=data.mood,
                             note=data.note.strip(), note_private=data.note_private,
                             shared=data.shared, safety=data.safety, now=now)
        store.save_symptoms(tx, checkin["id"], _severities_for_every_symptom(data.severities))
        flagging.recompute(tx, infusion["id"])
        audit.record("checkin_edited", "ok", at=clock.db_now(), actor_id=patient_id, patient_id=patient_id,
                     subject=f"checkin:{checkin['id']}", conn=tx)


def delete_checkin(patient_id: int, infusion, checkin) -> None:
    if not can_edit_checkins(infusion, clock.now()):
        raise EntryError("at", CLOSED)
    now = clock.to_db(clock.now())
    with write() as tx:
        store.insert_revision(tx, checkin_id=checkin["id"], revised_by=patient_id,
                              action="delete", previous=_snapshot(checkin), at=now)
        store.delete_checkin(tx, checkin["id"], patient_id, now)
        flagging.recompute(tx, infusion["id"])
        audit.record("checkin_deleted", "ok", at=clock.db_now(), actor_id=patient_id, patient_id=patient_id,
                     subject=f"checkin:{checkin['id']}", conn=tx)


def set_sharing(patient_id: int, checkin, shared: bool) -> None:
    now = clock.to_db(clock.now())
    with write() as tx:
        store.set_shared(tx, checkin["id"], patient_id, shared, now)
        care_store.refresh_care_lists(tx, patient_id)
        audit.record("checkin_sharing", "shared" if shared else "unshared", at=clock.db_now(), actor_id=patient_id,
                     patient_id=patient_id, subject=f"checkin:{checkin['id']}", conn=tx)
