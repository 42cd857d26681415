"""Flag rules for one infusion's diary, as pure functions: check-ins in, flags out.

Time is counted from the END of the infusion. A symptom at Mild or above at or after its
"flag after" hour is `lasting`; a Very severe symptom, mood 0 or 1, or "yes" to the safety
question is urgent at any hour, during the infusion included. "I'd rather not say" to the safety
question is `safety_unanswered`: not urgent, for a person to follow up (the way a question left
unanswered is followed up in C-SSRS practice); the patient sees no alarm and caregivers never
see it. There is no upper time limit:
a clinician may set a threshold up to 48 hours.

Each flag is one row for the database layer, identified within its infusion by `Flag.key`.
That layer upserts what `evaluate` returns, withdraws keys no longer returned, and asks
`should_reopen` about flags a clinician has acknowledged.

Unknown symptom codes raise ValueError rather than being skipped: the app validates codes before
saving, so one arriving here is a bug, and skipping it could hide a Very severe report.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from . import catalogue, clock
from .schedule import InfusionWindow

LASTING, SEVERE, LOW_MOOD, SAFETY = "lasting", "severe", "low_mood", "safety"
SAFETY_UNANSWERED = "safety_unanswered"
KINDS = (SAFETY, SEVERE, LOW_MOOD, SAFETY_UNANSWERED, LASTING)
"""Every kind, in the order ties are broken in the clinician's queue (diary.store.flags too)."""
KINDS_KEPT_FROM_PATIENT = (SAFETY_UNANSWERED,)
"""Flags a person follows up without the patient seeing a flag about it."""
URGENT_KINDS = frozenset({SEVERE, LOW_MOOD, SAFETY})

SAFETY_QUESTION = ("Since your last check-in, have you had thoughts of harming or killing "
                   "yourself?")
SAFETY_QUESTION_FIRST = ("Since your infusion, have you had thoughts of harming or killing "
                         "yourself?")
"""The first check-in after an infusion has no last check-in to count from."""
SAFETY_ANSWERS = ("no", "yes", "unsaid", None)
SAFETY_LABELS = {"no": "No", "yes": "Yes", "unsaid": "I'd rather not say"}
SAFETY_PROBLEM = "Choose No, Yes or I'd rather not say."
LOW_MOOD_AT_MOST = 1
THRESHOLD_MIN_HOURS, THRESHOLD_MAX_HOURS = 1, 48
ACKNOWLEDGE_NOTE_MAX_LENGTH = 500
ACKNOWLEDGE_NOTE_TOO_LONG = "Please keep the note under 500 characters."
THRESHOLD_PROBLEM = (f"Enter a whole number of hours from {THRESHOLD_MIN_HOURS} to "
                     f"{THRESHOLD_MAX_HOURS}.")

FlagKey = tuple[str, str | None]


@dataclass(frozen=True)
class CheckinFacts:
    """What the rules need from one check-in; a symptom left out of `severities` counts as None."""

    id: int
    at: datetime
    mood: int
    safety: str | None
    severities: Mapping[str, int]

    def __post_init__(self):
        _require_aware(self.at, "check-in time")
        if not catalogue.is_mood(self.mood):
            raise ValueError(f"mood must be an integer 0-10, not {self.mood!r}")
        if self.safety not in SAFETY_ANSWERS:
            raise ValueError(f"safety answer must be one of {SAFETY_ANSWERS}, not {self.safety!r}")
        for code, severity in self.severities.items():
            _require_symptom(code)
            if not catalogue.is_severity(severity):
                raise ValueError(f"severity of {code} must be an integer 0-4, not {severity!r}")
        object.__setattr__(self, "severities", MappingProxyType(dict(self.severities)))

    def severity(self, code: str) -> int:
        return self.severities.get(code, catalogue.SEVERITY_NONE)


@dataclass(frozen=True)
class Flag:
    """One flag as the database stores it; the optional fields apply to some kinds only.

    `hour` is the whole hours from the infusion's end to the latest evidence (negative during the
    infusion). `peak_severity` and `latest_severity` are for `lasting` and `severe`,
    `latest_mood` for `low_mood`; `expected`, `source` and `flag_after_hours` for `lasting`.
    """

    kind: str
    symptom: str | None
    first_checkin_id: int
    latest_checkin_id: int
    first_at: datetime
    latest_at: datetime
    hour: int
    peak_severity: int | None = None
    latest_severity: int | None = None
    latest_mood: int | None = None
    expected: str | None = None
    source: str | None = None
    flag_after_hours: int | None = None

    @property
    def key(self) -> FlagKey:
        return (self.kind, self.symptom)

    @property
    def urgent(self) -> bool:
        return is_urgent(self.kind)


@dataclass(frozen=True)
class AcknowledgedEvidence:
    """What a clinician saw when acknowledging a flag, kept as two columns to judge new evidence."""

    latest_at: datetime
    peak_severity: int | None


def evaluate(end: datetime, checkins: Iterable[CheckinFacts],
             thresholds: Mapping[str, int] | None = None) -> dict[FlagKey, Flag]:
    """All flags an infusion's check-ins raise, keyed by `Flag.key`.

    `thresholds` holds the patient's own "flag after" hours; symptoms it leaves out keep the
    catalogue default. Check-ins may come in any order but each id only once.
    """
    _require_aware(end, "infusion end")
    limits = thresholds_in_force(thresholds)
    ordered = _in_time_order(checkins)
    flags = [
        *_lasting_flags(end, ordered, limits),
        *_severe_flags(end, ordered),
        *_low_mood_flags(end, ordered),
        *_safety_flags(end, ordered),
        *_safety_unanswered_flags(end, ordered),
    ]
    return {flag.key: flag for flag in sorted(flags, key=_stable_order)}


def thresholds_in_force(overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    limits = catalogue.default_thresholds()
    for code, hours in (overrides or {}).items():
        _require_symptom(code)
        if not is_threshold(hours):
            raise ValueError(f"flag-after hours for {code} must be an integer "
                             f"{THRESHOLD_MIN_HOURS}-{THRESHOLD_MAX_HOURS}, not {hours!r}")
        limits[code] = hours
    return limits


def is_threshold(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)
            and THRESHOLD_MIN_HOURS <= value <= THRESHOLD_MAX_HOURS)


def hour_after_end(end: datetime, at: datetime) -> int:
    """Whole hours since the infusion's end, rounded down: negative during the infusion."""
    return (at - end) // timedelta(hours=1)


def is_urgent(kind: str) -> bool:
    if kind not in KINDS:
        raise ValueError(f"unknown flag kind {kind!r}")
    return kind in URGENT_KINDS


def should_reopen(acknowledged: AcknowledgedEvidence, current: Flag | None) -> bool:
    """Whether an acknowledged flag, now evaluated as `current`, has new evidence worth a look.

    Urgent kinds reopen on any check-in later than the acknowledged evidence. `lasting` reopens
    only when such a later check-in exists and the flag's peak now exceeds the acknowledged one.
    With check-ins added in time order that is exactly "a later check-in more severe than the
    acknowledged peak"; if an earlier check-in was edited upwards it errs towards reopening.
    A withdrawn flag (`current` None) does not reopen.
    """
    if current is None or current.latest_at <= acknowledged.latest_at:
        return False
    if current.kind != LASTING or acknowledged.peak_severity is None:
        return True
    return current.peak_severity > acknowledged.peak_severity


def queue_order_key(kind: str, latest_at: datetime, symptom: str | None = None) -> tuple:
    """Sort key for the clinician's queue: urgent first, then newest evidence first."""
    return (0 if is_urgent(kind) else 1, -latest_at.timestamp(), KINDS.index(kind),
            _catalogue_position(symptom))


def safety_question(first: bool) -> str:
    """The question as the check-in form asks it: the first check-in counts from the infusion."""
    return SAFETY_QUESTION_FIRST if first else SAFETY_QUESTION


def describe(flag: Flag, labels=catalogue) -> str:
    """The evidence sentence a clinician reads, e.g. "Headache: Very severe at hour 2"."""
    when = _when(flag.hour)
    if flag.kind == SAFETY:
        return f"Answered yes to the safety question {when}"
    if flag.kind == SAFETY_UNANSWERED:
        return f"Chose not to answer the safety question {when}"
    if flag.kind == LOW_MOOD:
        return f"Mood {flag.latest_mood} of {catalogue.MOOD_MAX} {when}"
    sentence = f"{labels.symptom(flag.symptom).label}: {_severity_text(flag, labels, when)}"
    return f"{sentence}; {flag.expected}" if flag.expected else sentence


def patient_message(flag: Flag, labels=catalogue, has_clinician: bool = True) -> str:
    """A calm note for the patient about a `lasting` flag; urgent kinds get crisis help instead.

    It says a clinic will see it only when a clinician is in the patient's care team."""
    if flag.kind != LASTING:
        raise ValueError(f"patient_message is for lasting flags, not {flag.kind!r}")
    label = labels.symptom(flag.symptom).label
    expected = f" It {flag.expected}." if flag.expected else ""
    seen = ("Your clinic will see this in your diary." if has_clinician else
            "No clinic sees this diary, so if it worries you, call your own doctor.")
    return f"{label} is lasting longer than usual.{expected} {seen}"


def is_lasting(end: datetime, at: datetime, severity: int, flag_after_hours: int) -> bool:
    return at >= end + timedelta(hours=flag_after_hours) and severity >= catalogue.SEVERITY_MILD


def is_severe(severity: int) -> bool:
    return severity == catalogue.SEVERITY_VERY_SEVERE


def lasting_points(end: datetime, checkins: Iterable[CheckinFacts],
                   thresholds: Mapping[str, int] | None = None) -> frozenset[tuple[int, str]]:
    """Every (check-in, symptom) past its usual time, for marking "longer than usual" on a chart."""
    limits = thresholds_in_force(thresholds)
    return frozenset(
        (checkin.id, code) for checkin in checkins for code in catalogue.CODES
        if is_lasting(end, checkin.at, checkin.severity(code), limits[code])
    )


def _lasting_flags(end, ordered, limits):
    for code in catalogue.CODES:
        evidence = [c for c in ordered if is_lasting(end, c.at, c.severity(code), limits[code])]
        if evidence:
            yield _symptom_flag(LASTING, code, end, evidence, limits[code])


def _severe_flags(end, ordered):
    for code in catalogue.CODES:
        evidence = [c for c in ordered if is_severe(c.severity(code))]
        if evidence:
            yield _symptom_flag(SEVERE, code, end, evidence)


def _low_mood_flags(end, ordered):
    evidence = [c for c in ordered if c.mood <= LOW_MOOD_AT_MOST]
    if evidence:
        yield Flag(kind=LOW_MOOD, symptom=None, **_span(end, evidence),
                   latest_mood=evidence[-1].mood)


def _safety_flags(end, ordered):
    evidence = [c for c in ordered if c.safety == "yes"]
    if evidence:
        yield Flag(kind=SAFETY, symptom=None, **_span(end, evidence))


def _safety_unanswered_flags(end, ordered):
    evidence = [c for c in ordered if c.safety == "unsaid"]
    if evidence:
        yield Flag(kind=SAFETY_UNANSWERED, symptom=None, **_span(end, evidence))


def urgent_reasons(checkin: CheckinFacts) -> tuple[str, ...]:
    """Why one check-in is urgent on its own, in words for a clinician's chart; () when it is not."""
    reasons = []
    if checkin.safety == "yes":
        reasons.append("yes to the safety question")
    if checkin.mood <= LOW_MOOD_AT_MOST:
        reasons.append(f"mood {checkin.mood}")
    reasons += [f"{catalogue.symptom(code).label}: Very severe" for code in catalogue.CODES
                if is_severe(checkin.severity(code))]
    return tuple(reasons)


def _symptom_flag(kind, code, end, evidence, flag_after_hours=None) -> Flag:
    symptom = catalogue.symptom(code)
    lasting = kind == LASTING
    return Flag(
        kind=kind, symptom=code, **_span(end, evidence),
        peak_severity=max(c.severity(code) for c in evidence),
        latest_severity=evidence[-1].severity(code),
        expected=symptom.settles if lasting else None,
        source=symptom.source_text if lasting else None,
        flag_after_hours=flag_after_hours,
    )


def _span(end, evidence) -> dict:
    first, latest = evidence[0], evidence[-1]
    return dict(first_checkin_id=first.id, latest_checkin_id=latest.id, first_at=first.at,
                latest_at=latest.at, hour=hour_after_end(end, latest.at))


def _in_time_order(checkins) -> list[CheckinFacts]:
    """Sorted by time, then id, so that entry order never matters."""
    ordered = sorted(checkins, key=lambda c: (c.at, c.id))
    ids = [c.id for c in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("a check-in id appears twice; an edited check-in replaces the old one")
    return ordered


def _stable_order(flag: Flag) -> tuple:
    return (KINDS.index(flag.kind), _catalogue_position(flag.symptom))


def _catalogue_position(code: str | None) -> int:
    return catalogue.CODES.index(code) if code in catalogue.BY_CODE else -1


def _severity_text(flag: Flag, labels, when: str) -> str:
    """The latest severity and when; the peak too if an earlier check-in was worse."""
    latest = f"{labels.severity_label(flag.latest_severity)} {when}"
    if flag.peak_severity == flag.latest_severity:
        return latest
    return f"{latest} ({labels.severity_label(flag.peak_severity)} earlier)"


def _when(hour: int) -> str:
    return "during the infusion" if hour < 0 else f"at hour {hour}"


def _require_aware(moment: datetime, what: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, not {moment!r}")


def _require_symptom(code: str) -> None:
    if not catalogue.is_symptom(code):
        raise ValueError(f"unknown symptom code {code!r}")


# Flags from stored rows


def thresholds_by_symptom(rows) -> dict[str, int]:
    """A patient's own thresholds as stored, keyed by symptom; unknown symptoms are ignored."""
    return {row["symptom"]: row["hours"] for row in rows if catalogue.is_symptom(row["symptom"])}


def checkin_facts(row, severities) -> CheckinFacts:
    return CheckinFacts(
        id=row["id"], at=clock.from_db(row["at"]), mood=row["mood"], safety=row["safety"],
        severities={code: value for code, value in severities.items()
                    if catalogue.is_symptom(code)},
    )


def raised_by(checkin_row, severities, infusion, thresholds) -> list[Flag]:
    """What this one check-in says on its own: the patient is told at once, whatever else is open."""
    end = InfusionWindow.of(infusion).end
    found = evaluate(end, [checkin_facts(checkin_row, severities)], thresholds)
    return sorted(found.values(),
                  key=lambda flag: queue_order_key(flag.kind, flag.latest_at, flag.symptom))


def flag_from_row(row) -> Flag:
    lasting = row["kind"] == LASTING
    symptom = catalogue.symptom(row["symptom"]) if lasting else None
    return Flag(
        kind=row["kind"], symptom=row["symptom"] or None,
        first_checkin_id=row["first_checkin_id"], latest_checkin_id=row["latest_checkin_id"],
        first_at=clock.from_db(row["first_at"]), latest_at=clock.from_db(row["latest_at"]),
        hour=row["hour"], peak_severity=row["peak_severity"],
        latest_severity=row["latest_severity"], latest_mood=row["latest_mood"],
        expected=symptom.settles if lasting else None,
        source=symptom.source_text if lasting else None,
        flag_after_hours=row["flag_after_hours"],
    )


CRISIS_HELP_STAYS = timedelta(hours=24)
REOPEN_WITHIN = timedelta(hours=24)
"""How long a clinician may undo an acknowledgement ("Reopen")."""


def crisis_help_due(flag_rows, now: datetime) -> bool:
    """After an urgent check-in, crisis help stays at the top of the patient's home until a
    clinician acknowledges the flag or 24 hours pass."""
    since = now - CRISIS_HELP_STAYS
    return any(row["urgent"] and row["state"] == "open" and clock.from_db(row["latest_at"]) >= since
               for row in flag_rows)
