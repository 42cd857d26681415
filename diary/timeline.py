"""What a diary page shows of one infusion, assembled from rows without Flask or SQL."""

from dataclasses import dataclass
from datetime import datetime

from . import catalogue, clock, schedule


@dataclass(frozen=True)
class SymptomReport:
    code: str
    label: str
    severity: int

    @property
    def severity_label(self) -> str:
        return catalogue.severity_label(self.severity)


@dataclass(frozen=True)
class CheckinView:
    id: int
    at: datetime
    when: str
    hour_label: str
    mood: int
    note: str | None
    shared: bool
    symptoms: tuple[SymptomReport, ...]
    severities: dict


@dataclass(frozen=True)
class SlotView:
    hours: int
    due: str
    state: str


@dataclass(frozen=True)
class InfusionView:
    id: int
    patient_id: int
    started: str
    ended: str
    end: datetime
    length_minutes: int
    note: str
    state: str
    accepts_checkins: bool
    editable: bool
    hours_sentence: str
    checkins: tuple[CheckinView, ...]
    slots: tuple[SlotView, ...]

    @property
    def next_slot(self) -> SlotView | None:
        return next((slot for slot in self.slots if slot.state == "next"), None)

    @property
    def missed_count(self) -> int:
        return sum(1 for slot in self.slots if slot.state == "missed")


def checkin_view(row, severities: dict, end: datetime, zone: str, show_note: bool = True) -> CheckinView:
    at = clock.from_db(row["at"])
    reported = tuple(
        SymptomReport(code, catalogue.symptom(code).label, severities[code])
        for code in catalogue.CODES
        if severities.get(code, 0) > catalogue.SEVERITY_NONE
    )
    return CheckinView(
        id=row["id"], at=at, when=clock.format_local(at, zone),
        hour_label=schedule.hour_label(end, at), mood=row["mood"],
        note=row["note"] if show_note else None, shared=bool(row["shared"]),
        symptoms=reported, severities=dict(severities),
    )


def infusion_view(infusion, checkins, zone: str, now: datetime, show_notes=True) -> InfusionView:
    """checkins: (row, severities) pairs, newest first, already limited to what the reader may see."""
    start, length = clock.from_db(infusion["started_at"]), infusion["length_minutes"]
    end = schedule.infusion_end(start, length)
    views = tuple(checkin_view(row, sev, end, zone, show_notes) for row, sev in checkins)
    state = schedule.window_state(start, length, now)
    return InfusionView(
        id=infusion["id"], patient_id=infusion["patient_id"],
        started=clock.format_local(start, zone), ended=clock.format_local(end, zone), end=end,
        length_minutes=length, note=infusion["note"], state=state,
        accepts_checkins=state in ("during", "open", "late"),
        editable=now <= schedule.editable_until(start, length),
        hours_sentence=schedule.hours_passed_sentence(end, now),
        checkins=views,
        slots=tuple(
            SlotView(slot.hours, clock.format_local(slot.due_at, zone), slot.state)
            for slot in schedule.slots(end, [view.at for view in views], now)
        ),
    )


def is_current(infusion, now: datetime) -> bool:
    """Shown at the top of the diary while check-ins are open or could still be corrected."""
    start, length = clock.from_db(infusion["started_at"]), infusion["length_minutes"]
    return now <= schedule.editable_until(start, length)
