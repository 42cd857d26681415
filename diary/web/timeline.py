"""View models: what a page shows of an infusion, a list of patients or a flag, built from the
rows the access module gave."""

import json
from dataclasses import dataclass, replace
from datetime import datetime

from markupsafe import Markup

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
    first: bool = False
    """The infusion's earliest check-in: its safety question counted from the infusion."""


@dataclass(frozen=True)
class SlotView:
    hours: int
    due: str
    state: str

    @property
    def state_words(self) -> str:
        return schedule.SLOT_STATE_WORDS[self.state]


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
        """The next suggested check-in; its due time is never in the past."""
        return next((slot for slot in self.slots if slot.state == "next"), None)

    @property
    def slot_due_now(self) -> SlotView | None:
        return next((slot for slot in self.slots if slot.state == "now"), None)

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
    if views:
        earliest = min(views, key=lambda view: (view.at, view.id))
        views = tuple(replace(view, first=view is earliest) for view in views)
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
            for slot in schedule.slots(end, [view.at for view in views], now,
                                       recorded_at(infusion))
        ),
    )


def recorded_at(infusion) -> datetime | None:
    """When the infusion was recorded: suggested check-ins already over by then were not missed."""
    created = infusion["created_at"] if "created_at" in infusion.keys() else None
    return clock.from_db(created) if created else None


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
    latest_hour: str | None = None
    """A caregiver's list: when the latest shared check-in was ("hour 4") and its mood."""
    latest_mood: int | None = None


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
    return patient_rows(found.patients, found.latest_infusions, found.checkin_times,
                        reader.time_zone, clock.now(), found.latest_checkins)


def patient_rows(patients, latest_infusions, checkin_times, zone: str,
                 now: datetime, latest_checkins=()) -> list[PatientRow]:
    """Assemble one page from a few result sets, so it costs the same in any clinic."""
    infusion_of = {row["patient_id"]: row for row in latest_infusions}
    latest_of = {row["patient_id"]: row for row in latest_checkins}
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
                schedule.slots(window.end, times.get(infusion["id"], []), now,
                               recorded_at(infusion)))
        last_at = patient["last_at"]
        latest = latest_of.get(patient["id"])
        rows.append(PatientRow(
            id=patient["id"], name=patient["name"],
            since=clock.format_local(clock.from_db(patient["since"]), zone),
            infusion_state=state, hour_now=hour_now,
            last_checkin=clock.format_local(clock.from_db(last_at), zone) if last_at else None,
            checkin_count=patient["checkin_count"], missed=missed,
            urgent_flags=patient["urgent_flags"], open_flags=patient["open_flags"],
            latest_hour=_hour_words(latest) if latest else None,
            latest_mood=latest["mood"] if latest else None,
        ))
    return rows


def whole_time(when: str) -> Markup:
    """"Tue 10 Mar, 12:45 pm" for a page: it may break after the comma, never inside the time.
    Markup.format escapes the parts, so the markup is only the span."""
    day, comma, time = when.rpartition(", ")
    if not comma:
        return Markup('<span class="nw">{}</span>').format(when)
    return Markup('{}, <span class="nw">{}</span>').format(day, time)


def _hour_words(checkin) -> str:
    hour = schedule.checkin_hour(clock.from_db(checkin["ends_at"]), clock.from_db(checkin["at"]))
    return "during the infusion" if hour is None else f"hour {hour}"


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


@dataclass(frozen=True)
class Look:
    time: str
    what: str


@dataclass(frozen=True)
class SeenGroup:
    """One person's looks at the patient's diary on one day of the patient's calendar."""

    name: str
    role: str
    day: str
    looks: tuple[Look, ...]
    """Earliest first."""

    @property
    def summary(self) -> str:
        """"Dr Maya Okafor, Wed 2 Dec: 6 looks, 9:02 to 9:14 am"."""
        count = len(self.looks)
        first, last = self.looks[0].time, self.looks[-1].time
        if count == 1 or first == last:
            span = first
        elif first.split(" ")[-1] == last.split(" ")[-1]:
            span = f"{first.rsplit(' ', 1)[0]} to {last}"
        else:
            span = f"{first} to {last}"
        return f"{self.name}, {self.day}: {count} look{'s' if count != 1 else ''}, {span}"


LOOK_WORDS = {"view_diary": "opened your diary", "view_list": "saw you in their list",
              "view_export": "downloaded your diary"}


def seen_groups(rows, zone: str) -> list[SeenGroup]:
    """Who has seen the diary, grouped by person and day, newest day first (rows newest first)."""
    groups: dict[tuple, list] = {}
    for row in rows:
        day, _, time = clock.format_local(clock.from_db(row["at"]), zone).rpartition(", ")
        key = (row["actor_id"], day)
        groups.setdefault(key, [row["name"], row["role"], day, []])[3].append(
            Look(time, LOOK_WORDS.get(row["action"], "looked")))
    return [SeenGroup(name, role, day, tuple(reversed(looks)))
            for name, role, day, looks in groups.values()]


def chart_for(view: InfusionView, thresholds: dict | None, urgent: bool = False):
    """The infusion's chart, from exactly the check-ins this reader may see.

    thresholds None (a caregiver's chart): the usual times only, no flag thresholds, nothing
    marked as lasting. urgent (the clinician's chart): urgent check-ins get their own marker."""
    marked, reasons = frozenset(), {}
    if thresholds is not None:
        facts = [flags.CheckinFacts(c.id, c.at, c.mood, c.safety, c.severities)
                 for c in view.checkins]
        marked = flags.lasting_points(view.end, facts, thresholds)
        if urgent:
            reasons = {fact.id: flags.urgent_reasons(fact) for fact in facts}
    return chart.build_chart(view.end, view.checkins, flags.thresholds_in_force(thresholds or {}),
                             marked, urgent=reasons, threshold_lines=thresholds is not None)


def chart_for_scope(scope: access.Scope, view: InfusionView):
    return chart_for(view, access.chart_thresholds(scope), urgent=scope.is_clinician)


KIND_LABELS = {
    flags.SAFETY: "Safety answer",
    flags.SEVERE: "Very severe symptom",
    flags.LOW_MOOD: "Very low mood",
    flags.SAFETY_UNANSWERED: "Safety question not answered",
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


@dataclass(frozen=True)
class FlagState:
    """A flag as the patient reads it on their diary: what it is about and whether anyone looked."""

    label: str
    evidence: str
    seen: str
    note: str | None


def flag_states(rows, zone: str) -> dict[int, list[FlagState]]:
    """The patient's own flags by infusion, each with "Your care team has not seen this yet" or
    "Seen by ... at ..." (rows from access.own_flags)."""
    grouped: dict[int, list[FlagState]] = {}
    for row in rows:
        if row["state"] == "acknowledged" and row["acknowledged_at"]:
            when = clock.format_local(clock.from_db(row["acknowledged_at"]), zone)
            seen = f"Seen by {row['acknowledged_by_name']} at {when}"
        else:
            seen = "Your care team has not seen this yet"
        grouped.setdefault(row["infusion_id"], []).append(FlagState(
            label=KIND_LABELS.get(row["kind"], "Flag"),
            evidence=flags.describe(flags.flag_from_row(row)), seen=seen,
            note=row["acknowledged_note"]))
    return grouped
