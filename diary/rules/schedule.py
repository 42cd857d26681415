"""When check-ins are due, accepted and labelled, measured in elapsed hours from the infusion's end.

All arithmetic is on aware UTC datetimes, so a daylight-saving change moves the wall clock
but never the schedule; convert with diary.clock.local only to show a time.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from math import floor

from . import clock

DEFAULT_LENGTH_MINUTES = 40
MIN_LENGTH_MINUTES = 5
MAX_LENGTH_MINUTES = 240
WINDOW = timedelta(hours=24)
ACCEPT_AFTER_END = timedelta(hours=26)
EDIT_AFTER_WINDOW = timedelta(hours=48)
FUTURE_ALLOWANCE = timedelta(minutes=5)
OLDEST_RECORDABLE = timedelta(days=365)
INFUSION_NOTE_MAX_LENGTH = 200
INFUSION_NOTE_TOO_LONG = "Please keep the note under 200 characters."

SLOT_HOURS = (1, 2, 4, 8, 12, 24)
SLOT_TOLERANCE_HOURS = (0.5, 0.5, 1, 1.5, 2, 2)
"""How far from its due time a check-in still counts for a slot: a check-in at hour 6 is not the
hour-8 one. Wider for later slots, which fall in the evening or the night."""
SLOT_BOUNDS_HOURS = tuple((hours - tolerance, hours + tolerance)
                          for hours, tolerance in zip(SLOT_HOURS, SLOT_TOLERANCE_HOURS))
"""Each slot's range, [from, to) except the last, which includes its end like the 26-hour
acceptance limit. Ranges never overlap, so a check-in counts for at most one slot."""
SLOT_STATES = ("done", "missed", "not_recorded", "now", "next", "later")
SLOT_STATE_WORDS = {"done": "Done", "missed": "Missed", "not_recorded": "Not recorded",
                    "now": "Due now", "next": "Next", "later": "Later"}

DURING_INFUSION = "During infusion"


def is_length(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)
            and MIN_LENGTH_MINUTES <= value <= MAX_LENGTH_MINUTES)


def start_problem(start: datetime, length_minutes: int, now: datetime) -> str | None:
    """A message the patient can act on, or None when the infusion may be recorded."""
    if not is_length(length_minutes):
        return (f"The infusion length must be between {MIN_LENGTH_MINUTES} and "
                f"{MAX_LENGTH_MINUTES} minutes.")
    if start > now + FUTURE_ALLOWANCE:
        return "The infusion start is in the future. Please check the date and time."
    if start < now - OLDEST_RECORDABLE:
        return "The infusion start is more than a year ago. Please check the year."
    return None


def hours_since_end(end: datetime, at: datetime) -> float:
    return (at - end).total_seconds() / 3600


def checkin_hour(end: datetime, at: datetime) -> int | None:
    """Whole hours since the end ("Hour 3" is 3 to just under 4); None while the infusion runs."""
    if at < end:
        return None
    return floor(hours_since_end(end, at))


def hour_label(end: datetime, at: datetime) -> str:
    hour = checkin_hour(end, at)
    return DURING_INFUSION if hour is None else f"Hour {hour}"


@dataclass(frozen=True)
class InfusionWindow:
    """One infusion's times: when it ends, and until when it takes and lets the patient correct
    check-ins. The one place this arithmetic lives."""

    start: datetime
    length_minutes: int

    @classmethod
    def of(cls, infusion) -> "InfusionWindow":
        """From a stored infusion row (started_at as stored, length_minutes)."""
        return cls(clock.from_db(infusion["started_at"]), infusion["length_minutes"])

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.length_minutes)

    @property
    def accepts_until(self) -> datetime:
        """Check-ins count from the start to 26 hours after the end (inclusive), so the 24-hour
        one may be late."""
        return self.end + ACCEPT_AFTER_END

    @property
    def editable_until(self) -> datetime:
        """Patients may add, correct or delete check-ins until 48 hours after the 24 hours end."""
        return self.end + WINDOW + EDIT_AFTER_WINDOW

    def accepts(self, at: datetime) -> bool:
        return self.start <= at <= self.accepts_until

    def is_editable(self, now: datetime) -> bool:
        return now <= self.editable_until

    def state(self, now: datetime) -> str:
        """One of "upcoming", "during", "open" (24 h after the end), "late" (up to 26 h) or
        "closed"."""
        if now < self.start:
            return "upcoming"
        if now < self.end:
            return "during"
        if now < self.end + WINDOW:
            return "open"
        if now <= self.accepts_until:
            return "late"
        return "closed"

    def hours_since_end(self, at: datetime) -> float:
        return hours_since_end(self.end, at)

    def hour(self, at: datetime) -> int | None:
        return checkin_hour(self.end, at)

    def hour_label(self, at: datetime) -> str:
        return hour_label(self.end, at)


@dataclass(frozen=True)
class Slot:
    """A suggested check-in; `state` is one of SLOT_STATES:

    - "done": a check-in inside the slot's range;
    - "missed": its range passed without one;
    - "not_recorded": its range had passed already when the infusion was recorded, so nobody
      could have checked in on time (an infusion recorded after the fact);
    - "now": its range is open and its due time has come;
    - "next": the first slot still to come, its due time in the future;
    - "later": the ones after it.
    """

    hours: int
    due_at: datetime
    starts_at: datetime
    ends_at: datetime
    includes_end: bool
    state: str

    def contains(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at or (self.includes_end and at == self.ends_at)

    def has_passed(self, now: datetime) -> bool:
        return now > self.ends_at or (now == self.ends_at and not self.includes_end)


def slots(end: datetime, checkin_times: Iterable[datetime], now: datetime,
          recorded_at: datetime | None = None) -> list[Slot]:
    """Each suggested check-in with its state, so the page can show what is done, missed and next.

    `recorded_at` is when the infusion was recorded: slots already over by then are "not_recorded",
    never "missed". The "next" slot's due time is never in the past."""
    times = list(checkin_times)
    result: list[Slot] = []
    next_given = False
    for slot in _empty_slots(end):
        state = _state(slot, times, now, recorded_at, next_given)
        next_given = next_given or state == "next"
        result.append(replace(slot, state=state))
    return result


def missed_count(schedule: Iterable[Slot]) -> int:
    return sum(1 for slot in schedule if slot.state == "missed")


def hours_passed_sentence(end: datetime, now: datetime, whose: str = "your") -> str:
    """Where the reader is in the 24 hours: "your" for the patient, "the" for their care team."""
    infusion = f"{whose} infusion"
    if now < end:
        return f"{infusion.capitalize()} has not ended yet."
    minutes = floor((now - end).total_seconds() / 60)
    if minutes < 1:
        return f"{infusion.capitalize()} ended less than a minute ago."
    if minutes < 60:
        return f"{infusion.capitalize()} ended {_count(minutes, 'minute')} ago."
    return f"It is {_count(minutes // 60, 'hour')} since {infusion} ended."


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _empty_slots(end: datetime) -> list[Slot]:
    last = len(SLOT_HOURS) - 1
    return [
        Slot(hours=hours, due_at=end + timedelta(hours=hours),
             starts_at=end + timedelta(hours=opens), ends_at=end + timedelta(hours=closes),
             includes_end=index == last, state="later")
        for index, (hours, (opens, closes)) in enumerate(zip(SLOT_HOURS, SLOT_BOUNDS_HOURS))
    ]


def _state(slot: Slot, times: list[datetime], now: datetime, recorded_at: datetime | None,
           next_given: bool) -> str:
    if any(slot.contains(at) for at in times):
        return "done"
    if slot.has_passed(now):
        return "not_recorded" if recorded_at and slot.has_passed(recorded_at) else "missed"
    if slot.due_at <= now:
        return "now"
    return "later" if next_given else "next"

