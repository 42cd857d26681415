"""The course of infusions as plain data and words, free of Flask: one summary per infusion, the
sentence comparing the latest infusion with the one before, and the course chart.

Choices:
- The side-effect score of an infusion adds up each symptom's worst rating after it (Mild 1 to
  Very severe 4): one number that grows with more symptoms and with stronger ones, and that
  does not depend on how often the patient checked in.
- A symptom "settled" when a later check-in had it at None; the hour it settled is measured at
  the last check-in that still had it, in hours after the infusion ended.
- Mood is the first and the last check-in of the infusion's diary, and the lowest in between.
- The comparison describes; it never judges ("fewer", "sooner", "up from"), so nothing reads as
  medical advice. While the latest infusion's 24 hours are still running it says "So far".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import catalogue, clock
from .chart import (CHAR_WIDTH, FONT_SIZE, LABEL_FONT_SIZE, PLOT_LEFT,
                    PLOT_RIGHT, VIEW_WIDTH, TextLine, hour_phrase, svg_number)

PER_PAGE = 12
REPORT_PER_PAGE = 6
"""A printed report holds fewer infusions a page: each comes with all its check-ins."""
WINDOW = timedelta(hours=24)

SCORE_EXPLAINED = ("The side-effect score adds up each symptom's worst rating after that "
                   "infusion (Mild 1, Moderate 2, Severe 3, Very severe 4), so more symptoms or "
                   "stronger ones make it higher.")

SHORT_NAMES = {
    "dissociation": "feeling detached", "perception": "seeing or hearing things",
    "sleepiness": "sleepiness", "fatigue": "tiredness", "nausea": "nausea",
    "vomiting": "vomiting", "dizziness": "dizziness", "coordination": "unsteadiness",
    "vision": "blurred vision", "thinking": "foggy thinking", "headache": "headache",
    "heart": "a racing heart", "anxiety": "anxiety", "high": "feeling high",
}
"""A symptom as a few words inside a sentence ("dizziness settled 2 hours sooner")."""


def short_name(code: str) -> str:
    if code in SHORT_NAMES:
        return SHORT_NAMES[code]
    return catalogue.symptom(code).label.lower() if catalogue.is_symptom(code) else code


@dataclass(frozen=True)
class Checkin:
    """One check-in as the course needs it; `at` is an aware UTC datetime."""

    id: int
    at: datetime
    mood: int | None
    severities: Mapping[str, int]


@dataclass(frozen=True)
class FlagNote:
    """A flag as the course lists it: what it is about, and its state in words."""

    label: str
    evidence: str
    state: str


@dataclass(frozen=True)
class SymptomSummary:
    code: str
    label: str
    peak: int
    last_hours: float
    settled: bool

    @property
    def peak_label(self) -> str:
        return catalogue.severity_label(self.peak)

    @property
    def last_phrase(self) -> str:
        """"last reported at hour 4", "last reported during the infusion"."""
        return "last reported " + hour_phrase(self.last_hours)

    @property
    def sentence(self) -> str:
        still = "" if self.settled else ", still there at the last check-in"
        return f"{self.label}: {self.peak_label} at worst, {self.last_phrase}{still}"


@dataclass(frozen=True)
class InfusionSummary:
    id: int
    number: int
    start: datetime
    end: datetime
    checkin_count: int
    symptoms: tuple[SymptomSummary, ...]
    mood_first: int | None
    mood_last: int | None
    mood_low: int | None
    flags: tuple[FlagNote, ...]
    running: bool
    """True while the infusion's 24 hours are not over: its numbers may still change."""

    @property
    def score(self) -> int:
        return sum(symptom.peak for symptom in self.symptoms)

    @property
    def has_checkins(self) -> bool:
        return self.checkin_count > 0

    def symptom(self, code: str) -> SymptomSummary | None:
        return next((s for s in self.symptoms if s.code == code), None)


def summarize(*, infusion_id: int, number: int, start: datetime, end: datetime,
              checkins: Iterable[Checkin], now: datetime,
              flags: Sequence[FlagNote] = (), labels: Mapping[str, str] | None = None,
              checkin_count: int | None = None) -> InfusionSummary:
    """One infusion of the course, from the check-ins this reader may see."""
    ordered = sorted(checkins, key=lambda checkin: (checkin.at, checkin.id))
    labels = labels or {symptom.code: symptom.label for symptom in catalogue.SYMPTOMS}
    moods = [checkin.mood for checkin in ordered if checkin.mood is not None]
    return InfusionSummary(
        id=infusion_id, number=number, start=start, end=end,
        checkin_count=len(ordered) if checkin_count is None else checkin_count,
        symptoms=_symptoms(end, ordered, labels),
        mood_first=moods[0] if moods else None, mood_last=moods[-1] if moods else None,
        mood_low=min(moods) if moods else None, flags=tuple(flags),
        running=now < end + WINDOW,
    )


def _symptoms(end, ordered: list[Checkin], labels) -> tuple[SymptomSummary, ...]:
    present = {code for checkin in ordered for code, value in checkin.severities.items()
               if value and value > 0}
    codes = [code for code in labels if code in present] + sorted(present - set(labels))
    found = []
    for code in codes:
        levels = [checkin.severities.get(code) or 0 for checkin in ordered]
        last = max(i for i, level in enumerate(levels) if level > 0)
        found.append(SymptomSummary(
            code=code, label=labels.get(code, code), peak=max(levels),
            last_hours=_hours_after(end, ordered[last].at), settled=last + 1 < len(ordered)))
    return tuple(found)


def _hours_after(end: datetime, at: datetime) -> float:
    return (at - end).total_seconds() / 3600


# The one sentence


def comparison(latest: InfusionSummary, before: InfusionSummary | None,
               whose: str = "your") -> str | None:
    """The latest infusion against the one before it, in one sentence; None with nothing before.

    whose: "your" for the patient, "the" for their care team."""
    if before is None:
        return None
    previous = "your last infusion" if whose == "your" else "the infusion before"
    if not latest.has_checkins:
        return f"No check-ins yet after the latest infusion, so there is nothing to compare with {previous}."
    if not before.has_checkins:
        return f"There were no check-ins after {previous}, so there is nothing to compare."
    clauses = [_score_clause(latest, before, previous)]
    settled = _settled_clause(latest, before)
    if settled:
        clauses.append(settled)
    mood = _mood_clause(latest, before)
    if mood:
        clauses.append(mood)
    sentence = "; ".join(clauses) + "."
    if latest.running:
        return "So far, " + sentence
    return sentence[0].upper() + sentence[1:]


def _score_clause(latest, before, previous) -> str:
    if latest.score < before.score:
        words = f"fewer side effects than {previous}"
    elif latest.score > before.score:
        words = f"more side effects than {previous}"
    else:
        words = f"about the same side effects as {previous}"
    return f"{words} (score {latest.score}, was {before.score})"


def _settled_clause(latest, before) -> str | None:
    """The symptom whose settling moved the most, by at least an hour."""
    best = None
    for now_symptom in latest.symptoms:
        then = before.symptom(now_symptom.code)
        if then is None or not (now_symptom.settled and then.settled):
            continue
        change = then.last_hours - now_symptom.last_hours
        if round(abs(change)) >= 1 and (best is None or abs(change) > abs(best[1])):
            best = (now_symptom.code, change)
    if best is None:
        return None
    hours = round(abs(best[1]))
    unit = "hour" if hours == 1 else "hours"
    return f"{short_name(best[0])} settled {hours} {unit} {'sooner' if best[1] > 0 else 'later'}"


def _mood_clause(latest, before) -> str | None:
    if latest.mood_last is None or before.mood_last is None:
        return None
    if latest.mood_last == before.mood_last:
        return f"mood at the last check-in was {latest.mood_last}, as last time"
    direction = "up" if latest.mood_last > before.mood_last else "down"
    return f"mood at the last check-in was {latest.mood_last}, {direction} from {before.mood_last}"


# The course chart: one column per infusion, the side-effect score and mood


SCORE_STEP_MIN = 4
BAR_MAX_WIDTH = 22
SCORE_HEIGHT = 96
MOOD_STEP = 7
MOOD_PAD = 8
MOOD_TICKS = (0, 5, 10)
INK, MUTED, CALM, BAR = "#1b2426", "#4a5a5e", "#1d4f91", "#8fb0d9"


@dataclass(frozen=True)
class Column:
    number: int
    x: float
    label: str
    has_checkins: bool
    bar_x: float = 0.0
    bar_y: float = 0.0
    bar_width: float = 0.0
    bar_height: float = 0.0
    score: int = 0
    score_y: float = 0.0
    mood_y: float | None = None
    mood: int | None = None
    low_y: float | None = None
    low: int | None = None


@dataclass(frozen=True)
class TableRow:
    number: int
    date: str
    checkins: int
    score: str
    mood: str
    flags: str


@dataclass(frozen=True)
class CourseChart:
    width: float
    height: float
    plot_left: float
    plot_right: float
    score_label: TextLine
    score_top: float
    score_base: float
    score_ticks: tuple[TextLine, ...]
    score_grid: tuple[float, ...]
    mood_label: TextLine
    mood_top: float
    mood_ticks: tuple[TextLine, ...]
    mood_grid: tuple[float, ...]
    mood_line: str
    axis_y: float
    axis_title: TextLine
    legend: tuple[tuple[str, float, float, TextLine], ...]
    columns: tuple[Column, ...]
    description: str
    table: tuple[TableRow, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {svg_number(self.width)} {svg_number(self.height)}"

    @property
    def is_empty(self) -> bool:
        return not self.columns

    @property
    def tick_label_y(self) -> float:
        return self.axis_y + FONT_SIZE + 4


def build_chart(summaries: Sequence[InfusionSummary], zone: str) -> CourseChart:
    """Lay out these infusions (oldest first) side by side."""
    ordered = sorted(summaries, key=lambda s: s.number)
    count = max(len(ordered), 1)
    step = (PLOT_RIGHT - PLOT_LEFT) / count
    top_score = max([s.score for s in ordered] + [SCORE_STEP_MIN])
    top_score = SCORE_STEP_MIN * -(-top_score // SCORE_STEP_MIN)

    legend, y = _legend(4.0)
    score_label = TextLine(2, y + LABEL_FONT_SIZE + 4, "Side-effect score")
    score_top = score_label.y + 22
    score_base = score_top + SCORE_HEIGHT
    mood_label = TextLine(2, score_base + 24 + LABEL_FONT_SIZE, "Mood (0 worst, 10 best)")
    mood_top = mood_label.y + 6 + MOOD_PAD
    axis_y = mood_top + MOOD_STEP * catalogue.MOOD_MAX + MOOD_PAD

    def score_y(score: float) -> float:
        return round(score_base - score / top_score * SCORE_HEIGHT, 1)

    def mood_y(mood: int) -> float:
        return round(mood_top + (catalogue.MOOD_MAX - mood) * MOOD_STEP, 1)

    columns = []
    for index, summary in enumerate(ordered):
        x = round(PLOT_LEFT + step * (index + 0.5), 1)
        width = round(min(BAR_MAX_WIDTH, step * 0.6), 1)
        if not summary.has_checkins:
            columns.append(Column(summary.number, x, str(summary.number), False))
            continue
        top = score_y(summary.score)
        columns.append(Column(
            number=summary.number, x=x, label=str(summary.number), has_checkins=True,
            bar_x=round(x - width / 2, 1), bar_y=top, bar_width=width,
            bar_height=round(score_base - top, 1), score=summary.score,
            score_y=round(top - 4, 1),
            mood_y=mood_y(summary.mood_last) if summary.mood_last is not None else None,
            mood=summary.mood_last,
            low_y=(mood_y(summary.mood_low) if summary.mood_low is not None
                   and summary.mood_low != summary.mood_last else None),
            low=summary.mood_low,
        ))
    mood_points = [(column.x, column.mood_y) for column in columns if column.mood_y is not None]
    axis_title = TextLine(VIEW_WIDTH / 2, axis_y + 2 * FONT_SIZE + 10,
                          "Infusions in order, numbered as in the list")
    return CourseChart(
        width=VIEW_WIDTH, height=round(axis_title.y + 8, 1), plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT, score_label=score_label, score_top=score_top,
        score_base=score_base,
        score_ticks=tuple(TextLine(PLOT_LEFT - 7, round(score_y(v) + FONT_SIZE * 0.36, 1), str(v))
                          for v in (0, top_score // 2, top_score)),
        score_grid=tuple(score_y(v) for v in (0, top_score // 2, top_score)),
        mood_label=mood_label, mood_top=mood_top,
        mood_ticks=tuple(TextLine(PLOT_LEFT - 7, round(mood_y(m) + FONT_SIZE * 0.36, 1), str(m))
                         for m in MOOD_TICKS),
        mood_grid=tuple(mood_y(m) for m in MOOD_TICKS),
        mood_line=" ".join(f"{svg_number(x)},{svg_number(y)}" for x, y in mood_points)
        if len(mood_points) > 1 else "",
        axis_y=axis_y, axis_title=axis_title, legend=legend, columns=tuple(columns),
        description=describe(ordered, zone), table=tuple(_table_row(s, zone) for s in ordered),
    )


def _legend(top: float):
    """A bar, a filled dot and a hollow dot, each with its words, one per line when narrow."""
    items, x, y, line_height = [], 2.0, top + 11, 22
    for kind, text in (("bar", "Side-effect score"), ("mood", "Mood at the last check-in"),
                       ("low", "Lowest mood")):
        width = 16 + 5 + len(text) * FONT_SIZE * CHAR_WIDTH
        if x > 2 and x + width > VIEW_WIDTH - 2:
            x, y = 2.0, y + line_height
        items.append((kind, round(x + 8, 1), y, TextLine(round(x + 21, 1),
                                                         round(y + FONT_SIZE * 0.36, 1), text)))
        x += width + 12
    return tuple(items), y + line_height / 2


def _day(moment: datetime, zone: str) -> str:
    here = clock.local(moment, zone)
    return f"{here.day} {here.strftime('%b')} {here.year}"


def day(moment: datetime, zone: str) -> str:
    """A date as the course and the reports print it: "10 Mar 2026"."""
    return _day(moment, zone)


def _table_row(summary: InfusionSummary, zone: str) -> TableRow:
    if not summary.has_checkins:
        mood = "—"
    else:
        mood = f"first {summary.mood_first}, last {summary.mood_last}, lowest {summary.mood_low}"
    return TableRow(
        number=summary.number, date=_day(summary.start, zone), checkins=summary.checkin_count,
        score=str(summary.score) if summary.has_checkins else "No check-ins", mood=mood,
        flags=str(len(summary.flags)) if summary.flags else "None",
    )


def describe(ordered: Sequence[InfusionSummary], zone: str) -> str:
    """The chart in sentences: which infusions, the score at each end and its highest, then
    mood at the last check-in."""
    if not ordered:
        return "No infusions yet."
    first, last = ordered[0], ordered[-1]
    if first is last:
        sentences = [f"Infusion {first.number}, on {_day(first.start, zone)}."]
    else:
        sentences = [f"Infusions {first.number} to {last.number}, from "
                     f"{_day(first.start, zone)} to {_day(last.start, zone)}."]
    scored = [s for s in ordered if s.has_checkins]
    if not scored:
        return " ".join(sentences + ["No check-ins yet."])
    if len(scored) == 1:
        sentences.append(f"Side-effect score {scored[0].score} after infusion {scored[0].number}.")
    else:
        highest = max(scored, key=lambda s: (s.score, -s.number))
        sentences.append(
            f"Side-effect score {scored[0].score} after infusion {scored[0].number} and "
            f"{scored[-1].score} after infusion {scored[-1].number}, highest {highest.score} "
            f"after infusion {highest.number}.")
    moods = [s for s in scored if s.mood_last is not None]
    if len(moods) == 1:
        sentences.append(f"Mood at the last check-in {moods[0].mood_last}.")
    elif moods:
        sentences.append(f"Mood at the last check-in went from {moods[0].mood_last} to "
                         f"{moods[-1].mood_last}.")
    missing = len(ordered) - len(scored)
    if missing:
        sentences.append(f"{missing} infusion{'s' if missing != 1 else ''} without check-ins.")
    return " ".join(sentences)


def day_and_time(moment: datetime, zone: str) -> str:
    """"Tue 10 Mar 2026, 2:05 pm" in the reader's zone."""
    here = clock.local(moment, zone)
    time_text = here.strftime("%I:%M %p").lstrip("0").lower()
    return f"{here.strftime('%a')} {here.day} {here.strftime('%b')} {here.year}, {time_text}"


def date_range(first: datetime, last: datetime, zone: str) -> str:
    """"10 Mar 2026" or "10 Mar 2026 to 24 Mar 2026": the dates a report covers."""
    start, end = _day(first, zone), _day(last, zone)
    return start if start == end else f"{start} to {end}"
