"""View models: what a page shows of an infusion, a list of patients or a flag, built from the
rows the access module gave."""

import json
from dataclasses import dataclass
from datetime import datetime

from .. import access
from ..rules import catalogue, chart, clock, flags, schedule
from ..rules.schedule import InfusionWindow


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
    note_private: bool
    shared: bool
    safety: str | None
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
    hours_sentence_for_team: str
    checkins: tuple[CheckinView, ...]
    slots: tuple[SlotView, ...]

    @property
    def next_slot(self) -> SlotView | None:
        return next((slot for slot in self.slots if slot.state == "next"), None)

    @property
    def missed_count(self) -> int:
        return sum(1 for slot in self.slots if slot.state == "missed")


def checkin_view(row, severities: dict, window: InfusionWindow, zone: str) -> CheckinView:
    """row: a check-in as the access module gave it (a caregiver's copy lacks the safety answer
    and has private notes blanked)."""
    at = clock.from_db(row["at"])
    reported = tuple(
        SymptomReport(code, catalogue.symptom(code).label, severities[code])
        for code in catalogue.CODES
        if severities.get(code, 0) > catalogue.SEVERITY_NONE
    )
    return CheckinView(
        id=row["id"], at=at, when=clock.format_local(at, zone),
        hour_label=window.hour_label(at), mood=row["mood"],
        note=row["note"], note_private=bool(row["note_private"]), shared=bool(row["shared"]),
        safety=row.get("safety"),
        symptoms=reported, severities=dict(severities),
    )


def infusion_view(infusion, checkins, zone: str, now: datetime) -> InfusionView:
    """checkins: (row, severities) pairs, newest first, already limited to what the reader may see."""
    window = InfusionWindow.of(infusion)
    end = window.end
    views = tuple(checkin_view(row, sev, window, zone) for row, sev in checkins)
    state = window.state(now)
    return InfusionView(
        id=infusion["id"], patient_id=infusion["patient_id"],
        started=clock.format_local(window.start, zone), ended=clock.format_local(end, zone),
        end=end, length_minutes=window.length_minutes, note=infusion["note"], state=state,
        accepts_checkins=state in ("during", "open", "late"),
        editable=window.is_editable(now),
        hours_sentence=schedule.hours_passed_sentence(end, now),
        hours_sentence_for_team=schedule.hours_passed_sentence(end, now, whose="the"),
        checkins=views,
        slots=tuple(
            SlotView(slot.hours, clock.format_local(slot.due_at, zone), slot.state)
            for slot in schedule.slots(end, [view.at for view in views], now)
        ),
    )


def is_current(infusion, now: datetime) -> bool:
    """Shown at the top of the diary while check-ins are open or could still be corrected."""
    return InfusionWindow.of(infusion).is_editable(now)


@dataclass(frozen=True)
class PatientRow:
    """One line of a clinician's or caregiver's list of patients."""

    id: int
    name: str
    since: str
    infusion_state: str | None
    hour_now: int | None
    last_checkin: str | None
    checkin_count: int
    missed: int
    urgent_flags: int
    open_flags: int


PATIENTS_PER_PAGE = 25
FLAGS_PER_PAGE = 25


@dataclass(frozen=True)
class Page:
    """Which slice of a long list is shown: pages count from 1, and a page past the end shows
    the last one."""

    number: int
    size: int
    total: int

    @classmethod
    def of(cls, requested, size: int, total: int) -> "Page":
        last = max(1, -(-total // size))
        number = requested if isinstance(requested, int) and requested > 0 else 1
        return cls(min(number, last), size, total)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.offset + self.size < self.total

    @property
    def first_shown(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_shown(self) -> int:
        return min(self.total, self.offset + self.size)


def patients_in_care(reader, search: str, page: Page) -> list[PatientRow]:
    """One page of the clinician's or caregiver's patients, as the access module lets them see."""
    found = access.patients_in_care(reader, search=search, limit=page.size, offset=page.offset)
    return patient_rows(*found, reader.time_zone, clock.now())


def patient_rows(patients, latest_infusions, checkin_times, zone: str,
                 now: datetime) -> list[PatientRow]:
    """Assemble one page from three result sets, so it costs the same in any clinic."""
    infusion_of = {row["patient_id"]: row for row in latest_infusions}
    times: dict[int, list[datetime]] = {}
    for row in checkin_times:
        times.setdefault(row["infusion_id"], []).append(clock.from_db(row["at"]))
    rows = []
    for patient in patients:
        infusion = infusion_of.get(patient["id"])
        state = hour_now = None
        missed = 0
        if infusion is not None and is_current(infusion, now):
            window = InfusionWindow.of(infusion)
            state = window.state(now)
            hour_now = window.hour(now)
            missed = schedule.missed_count(
                schedule.slots(window.end, times.get(infusion["id"], []), now))
        last_at = patient["last_at"]
        rows.append(PatientRow(
            id=patient["id"], name=patient["name"],
            since=clock.format_local(clock.from_db(patient["since"]), zone),
            infusion_state=state, hour_now=hour_now,
            last_checkin=clock.format_local(clock.from_db(last_at), zone) if last_at else None,
            checkin_count=patient["checkin_count"], missed=missed,
            urgent_flags=patient["urgent_flags"], open_flags=patient["open_flags"],
        ))
    return rows


def revision_summary(previous_json: str) -> str:
    """An earlier version of a check-in in words, for the clinician reading its history."""
    previous = json.loads(previous_json)
    parts = [f"mood {previous['mood']} of 10"]
    parts += [
        f"{catalogue.symptom(code).label}: {catalogue.severity_label(severity)}"
        for code, severity in sorted(previous.get("severities", {}).items())
        if severity and catalogue.is_symptom(code)
    ]
    if previous.get("safety"):
        parts.append(f"thoughts of self-harm: {flags.SAFETY_LABELS[previous['safety']]}")
    if previous.get("note"):
        parts.append(f"note “{previous['note']}”")
    return "; ".join(parts) + "."


def chart_for(view: InfusionView, thresholds: dict | None):
    """The infusion's chart, from exactly the check-ins this reader may see.

    thresholds None (a caregiver's chart): the usual times only, nothing marked as lasting."""
    marked = frozenset()
    if thresholds is not None:
        facts = [flags.CheckinFacts(c.id, c.at, c.mood, None, c.severities) for c in view.checkins]
        marked = flags.lasting_points(view.end, facts, thresholds)
    return chart.build_chart(view.end, view.checkins, flags.thresholds_in_force(thresholds or {}),
                             marked)


def chart_for_scope(scope: access.Scope, view: InfusionView):
    return chart_for(view, access.chart_thresholds(scope))


KIND_LABELS = {
    flags.SAFETY: "Safety answer",
    flags.SEVERE: "Very severe symptom",
    flags.LOW_MOOD: "Very low mood",
    flags.LASTING: "Lasting longer than usual",
}


def queue(rows) -> list[dict]:
    """Open flags as the clinician reads them: urgent first, then the newest evidence first."""
    items = []
    for row in rows:
        flag = flags.flag_from_row(row)
        items.append({"row": row, "flag": flag, "kind_label": KIND_LABELS[row["kind"]],
                      "evidence": flags.describe(flag)})
    items.sort(key=lambda item: flags.queue_order_key(item["flag"].kind, item["flag"].latest_at,
                                                      item["flag"].symptom))
    return items


def by_infusion(rows, events) -> dict[int, list[dict]]:
    """Each infusion's flags with their history, for the clinician's page of one patient."""
    history: dict[int, list] = {}
    for event in events:
        history.setdefault(event["flag_id"], []).append(event)
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        flag = flags.flag_from_row(row)
        grouped.setdefault(row["infusion_id"], []).append({
            "row": row, "kind_label": KIND_LABELS[row["kind"]], "evidence": flags.describe(flag),
            "urgent": flag.urgent, "history": history.get(row["id"], []),
        })
    return grouped
