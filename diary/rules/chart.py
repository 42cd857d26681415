"""One infusion's 24 hours as chart geometry and plain words, free of Flask.

`build_chart` turns check-ins into a frozen `Chart`: one swimlane per symptom that was ever above
None, a mood line, x ticks, a legend, a short summary (one line per symptom) and a data table.
templates/_chart.html draws it as inline SVG using presentation attributes only, so it passes a
CSP without 'unsafe-inline'. Units are SVG user units; the viewBox is about a phone's width, so
one unit is roughly one CSS pixel on a phone and font sizes of 12 or more stay readable.

Choices:
- Check-ins are taken in the order of their time, then of their saving (their id): two in the
  same minute keep the order the patient gave them.
- Check-ins before the infusion's end (during it) are drawn at hour 0; the table and the
  summary call them "during the infusion".
- The x axis runs to hour 24, or to the next even hour when a check-in is later (24.5 -> 26).
  The first 4 hours, which hold most check-ins, get STRETCHED_SHARE of the width; ticks run
  every hour there and every 4 hours after, and the axis title says so. Hour labels are drawn
  above the lanes as well as below.
- A symptom's band is its usual time to settle (catalogue "settles within"); its flag threshold
  is a line of its own, labelled "Flagged after N h". A symptom whose sources give no time to
  settle has the line and no band.
- Urgent check-ins (yes to the safety question, mood 0-1, anything Very severe) get a marker of
  their own in a strip above the lanes when the caller passes them: the clinician's chart only.
- A symptom left out of a check-in's severities counts as None, as in diary.flags.
- The summary rounds hours to the nearest quarter, unless two different check-ins in one line
  would then read the same: then it gives the minutes. It never says a symptom was gone at the
  moment it was reported.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from . import catalogue

VIEW_WIDTH = 320
PLOT_LEFT = 26
PLOT_RIGHT = 305
HOURS = 24
TICK_EVERY = 4
STRETCHED_HOURS = 4
STRETCHED_SHARE = 0.4
"""The first STRETCHED_HOURS get this share of the plot's width (a sixth of it on an even scale)."""

FONT_SIZE = 13
LABEL_FONT_SIZE = 14
LABEL_LINE_HEIGHT = 18
SMALL_FONT_SIZE = 12
CHAR_WIDTH = 0.56
"""Average glyph width as a share of font size, measured on DejaVu Sans Bold, a wide fallback."""

LEVEL_STEP = 10
MARKER_RADII = (3.5, 7.0, 7.5, 8.0, 8.5)
NUMBER_FONT_SIZE = 12
RING_GAP = 3.5
LANE_ABOVE = LEVEL_STEP * catalogue.SEVERITY_VERY_SEVERE + MARKER_RADII[-1] + RING_GAP + 2
LANE_BELOW = 9
ROW_GAP = 10
FLAG_STRIP = 16
"""Room above a lane for its "Flagged after N h" words, beside the threshold line."""
URGENT_STRIP = 22
URGENT_HALF = 8

MOOD_STEP = 7
MOOD_PAD = 8
MOOD_TICKS = (0, 5, 10)

MOOD_MARKER_RADIUS = 4.5

INK = "#1b2426"
PAPER = "#ffffff"
DIGIT_DARK, DIGIT_LIGHT = "#000000", "#fff"
"""Digits on the markers: spelled unlike INK and PAPER, so the dark theme, which restyles those
two colours in the chart (static/style.css), leaves the digits on their markers alone."""
SEVERITY_FILLS = (PAPER, "#f7dc8f", "#e6953a", "#b8431c", "#6b1010")
"""Light to dark, so the levels stay apart in greyscale as well as by height and number."""
SEVERITY_TEXT = (DIGIT_DARK, DIGIT_DARK, DIGIT_DARK, DIGIT_LIGHT, DIGIT_LIGHT)
"""Digit colour per level, each at least 4.5:1 against its fill."""
QUARTERS = {0.25: "¼", 0.5: "½", 0.75: "¾"}


@dataclass(frozen=True)
class CheckIn:
    """One check-in as the chart needs it; `at` is an aware UTC datetime."""

    id: Hashable
    at: datetime
    mood: int | None
    severities: Mapping[str, int]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    major: bool = False
    """The end of the stretched hours, drawn a little stronger."""


@dataclass(frozen=True)
class TextLine:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class LegendItem:
    """A swatch (`kind` is "severity", "band", "threshold", "flag" or "urgent") centred at
    (x, y) and its text."""

    kind: str
    x: float
    y: float
    text: TextLine
    severity: int = 0
    r: float = 0.0
    fill: str = ""
    text_fill: str = ""

    @property
    def number_y(self) -> float:
        return round(self.y + NUMBER_FONT_SIZE * 0.36, 1)


@dataclass(frozen=True)
class Band:
    """The symptom's usual time to settle, from hour 0 to its "settles within" hour."""

    x: float
    y: float
    width: float
    height: float
    hours: float


@dataclass(frozen=True)
class Threshold:
    """The hour from which the symptom raises a "lasting longer than usual" flag: a line from
    `top` to `bottom` at `x` (None when it is past the axis) and its words."""

    hours: float
    x: float | None
    top: float
    bottom: float
    text: TextLine


@dataclass(frozen=True)
class Point:
    checkin_id: Hashable
    x: float
    y: float
    r: float
    severity: int
    severity_label: str
    hour: float
    hour_label: str
    flagged: bool
    fill: str
    text_fill: str
    shows_number: bool = True
    """False when the next check-in's marker would hide most of this one's number."""

    @property
    def ring_r(self) -> float:
        return self.r + RING_GAP

    @property
    def text_y(self) -> float:
        """Baseline that centres a digit of NUMBER_FONT_SIZE on the marker."""
        return round(self.y + NUMBER_FONT_SIZE * 0.36, 1)


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    label_lines: tuple[TextLine, ...]
    top: float
    band_top: float
    baseline_y: float
    bottom: float
    band: Band | None
    points: tuple[Point, ...]
    line_points: str
    threshold: Threshold | None = None


@dataclass(frozen=True)
class UrgentMark:
    """An urgent check-in on the clinician's chart: a diamond at (x, y) and why it is urgent."""

    checkin_id: Hashable
    x: float
    y: float
    hour_label: str
    reasons: tuple[str, ...]

    @property
    def path(self) -> str:
        h = URGENT_HALF
        return (f"M{_num(self.x)} {_num(self.y - h)}L{_num(self.x + h)} {_num(self.y)}"
                f"L{_num(self.x)} {_num(self.y + h)}L{_num(self.x - h)} {_num(self.y)}Z")

    @property
    def text_y(self) -> float:
        return round(self.y + NUMBER_FONT_SIZE * 0.36, 1)


@dataclass(frozen=True)
class Urgent:
    label_lines: tuple[TextLine, ...]
    top: float
    bottom: float
    marks: tuple[UrgentMark, ...]


@dataclass(frozen=True)
class MoodPoint:
    checkin_id: Hashable
    x: float
    y: float
    r: float
    mood: int
    hour: float
    hour_label: str


@dataclass(frozen=True)
class Mood:
    label_lines: tuple[TextLine, ...]
    top: float
    bottom: float
    y_ticks: tuple[TextLine, ...]
    gridlines: tuple[float, ...]
    points: tuple[MoodPoint, ...]
    line_points: str


@dataclass(frozen=True)
class TableCell:
    text: str
    flagged: bool = False


@dataclass(frozen=True)
class TableRow:
    hour_label: str
    mood: str
    cells: tuple[TableCell, ...]
    urgent: str | None = None


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    notes: tuple[str, ...] = ()
    """Per column, words under its heading: a symptom's usual time and its flag threshold."""
    with_urgent: bool = False


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    plot_left: float
    plot_right: float
    axis_y: float
    hours: int
    ticks: tuple[Tick, ...]
    axis_title: TextLine | None
    legend: tuple[LegendItem, ...]
    rows: tuple[Row, ...]
    mood: Mood | None
    description: str
    table: Table
    summary: tuple[str, ...] = ()
    """The chart in a few short lines: the check-ins, one line per symptom, mood, urgent ones."""
    top_tick_label_y: float = 0.0
    urgent: Urgent | None = None
    axis_title_lines: tuple[TextLine, ...] = ()

    @property
    def grid_spans(self) -> tuple[tuple[float, float], ...]:
        """Vertical extents of the lanes and the mood panel, where hour gridlines are drawn."""
        spans = []
        if self.urgent:
            spans.append((self.urgent.top, self.urgent.bottom))
        spans += [(row.band_top, row.bottom) for row in self.rows]
        if self.mood:
            spans.append((self.mood.top, self.axis_y))
        return tuple(spans)

    @property
    def is_empty(self) -> bool:
        return not self.table.rows

    @property
    def view_box(self) -> str:
        return f"0 0 {_num(self.width)} {_num(self.height)}"

    @property
    def tick_label_y(self) -> float:
        return self.axis_y + FONT_SIZE + 4

    @property
    def stretch_x(self) -> float:
        return _x_for(STRETCHED_HOURS, self.hours)

    def x_for(self, hour: float) -> float:
        return _x_for(hour, self.hours)


def svg_number(value: float) -> str:
    """A coordinate as the SVG gets it: at most two decimals, no trailing zeros. A Python
    function, not a template macro: a chart formats hundreds of them."""
    return f"{round(value, 2):g}"


def build_chart(
    end: datetime,
    checkins: Iterable[CheckIn | Mapping],
    thresholds: Mapping[str, float] | None = None,
    flagged: Collection[tuple[Hashable, str]] = frozenset(),
    labels: Mapping[str, str] | None = None,
    settles: Mapping[str, float] | None = None,
    urgent: Mapping[Hashable, tuple[str, ...]] | None = None,
    threshold_lines: bool = True,
) -> Chart:
    """Lay out one infusion's check-ins, measured in hours from `end`, the infusion's end.

    `checkins` are `CheckIn`s, or mappings or objects with id, at, mood and severities.
    `thresholds` maps symptom code to flag-after hours (the patient's own; the catalogue's fill
    gaps). `settles` maps code to the usual time to settle (the catalogue's by default).
    `flagged` holds (checkin id, symptom code) pairs to ring. `urgent` maps the id of each urgent
    check-in to its reasons in words, for the clinician's chart only. `threshold_lines` False
    leaves out the "Flagged after" lines (a caregiver sees no flags). `labels` maps code to label
    and sets row order; it defaults to the catalogue's.
    """
    ordered = sorted((_as_checkin(item) for item in checkins), key=_saved_order)
    labels = dict(labels) if labels is not None else {s.code: s.label for s in catalogue.SYMPTOMS}
    thresholds = ({**catalogue.default_thresholds(), **(thresholds or {})} if threshold_lines
                  else {})
    settles = catalogue.usual_settle_hours() if settles is None else dict(settles)
    flagged = frozenset(flagged)
    urgent = {key: tuple(reasons) for key, reasons in (urgent or {}).items() if reasons}
    if not ordered:
        return _empty_chart()

    hours_by_id = {checkin.id: _hours_after(end, checkin.at) for checkin in ordered}
    axis_hours = _axis_hours(max(hours_by_id.values()))
    codes = _charted_codes(ordered, labels)
    label_for = {code: labels.get(code, code) for code in codes}
    urgent_ids = [checkin.id for checkin in ordered if checkin.id in urgent]

    y = 4.0
    legend, y = _legend(y, with_band=any(code in settles for code in codes),
                        with_threshold=any(code in thresholds for code in codes),
                        with_flag=bool(flagged), with_urgent=bool(urgent_ids))
    top_tick_label_y = y + 6 + FONT_SIZE
    y = top_tick_label_y + 8
    urgent_strip = None
    if urgent_ids:
        urgent_strip = _urgent(y, ordered, hours_by_id, axis_hours, urgent)
        y = urgent_strip.bottom + ROW_GAP
    rows = []
    for code in codes:
        row = _row(code, label_for[code], y, ordered, hours_by_id, axis_hours,
                   thresholds.get(code), settles.get(code), flagged)
        rows.append(row)
        y = row.bottom + ROW_GAP
    mood = _mood(y, ordered, hours_by_id, axis_hours)
    axis_y = mood.bottom + 4 if mood else y
    title_lines = tuple(
        TextLine(VIEW_WIDTH / 2, axis_y + 2 * FONT_SIZE + 10 + i * (FONT_SIZE + 4), line,
                 "middle")
        for i, line in enumerate(_wrap(
            f"Hours after the infusion ended; the first {STRETCHED_HOURS} hours are drawn wider",
            VIEW_WIDTH - 8, FONT_SIZE)))
    summary = _summary(ordered, hours_by_id, codes, label_for, flagged, urgent)
    return Chart(
        width=VIEW_WIDTH,
        height=round(title_lines[-1].y + 8, 1),
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        axis_y=axis_y,
        hours=axis_hours,
        ticks=_ticks(axis_hours),
        axis_title=title_lines[0],
        legend=legend,
        rows=tuple(rows),
        mood=mood,
        description=". ".join(summary) + ".",
        table=_table(ordered, hours_by_id, codes, label_for, flagged, thresholds, settles,
                     urgent if urgent_ids else None),
        summary=summary,
        top_tick_label_y=top_tick_label_y,
        urgent=urgent_strip,
        axis_title_lines=title_lines,
    )


def hour_label(hours: float) -> str:
    """Short time for ticks and the table: "2h", "1h 30m", "During infusion"."""
    if hours < 0:
        return "During infusion"
    whole, minutes = divmod(round(hours * 60), 60)
    return f"{whole}h" if minutes == 0 else f"{whole}h {minutes}m"


def hour_phrase(hours: float, preposition: str = "at") -> str:
    """Time in words, to the minute: "at hour 2", "by 1 hour 30 minutes"."""
    if hours < 0:
        return "during the infusion"
    whole, minutes = divmod(round(hours * 60), 60)
    if minutes == 0:
        return f"{preposition} hour {whole}"
    minute_words = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if whole == 0:
        return f"{preposition} {minute_words}"
    return f"{preposition} {whole} hour{'s' if whole != 1 else ''} {minute_words}"


def quarter_phrase(hours: float, preposition: str = "at") -> str:
    """Time in words to the nearest quarter hour: "at hour 2", "by hour 4½", "at 45 minutes"."""
    if hours < 0:
        return "during the infusion"
    whole, part = divmod(round(hours * 4) / 4, 1)
    whole = int(whole)
    if part == 0:
        return f"{preposition} hour {whole}"
    if whole == 0:
        return f"{preposition} {round(part * 60)} minutes"
    return f"{preposition} hour {whole}{QUARTERS[part]}"


def flagged_after_words(hours: float) -> str:
    """A flag threshold as the chart, the flag queue and the tables show it: "Flagged after 4 h"."""
    return f"Flagged after {svg_number(hours)} h"


# The summary


class _Clock:
    """Phrases for the check-in times of one summary line: quarter hours, unless two different
    check-ins of the line would then read alike."""

    def __init__(self, ordered, hours_by_id):
        self.hours = [hours_by_id[checkin.id] for checkin in ordered]

    def minute(self, i: int) -> int:
        return -1 if self.hours[i] < 0 else round(self.hours[i] * 60)

    def same_time(self, i: int, j: int) -> bool:
        return self.minute(i) == self.minute(j)

    def phrases(self, indices: list[int], prepositions: list[str]) -> list[str]:
        quarter = [quarter_phrase(self.hours[i], "") for i in indices]
        clash = any(quarter[a] == quarter[b] and not self.same_time(indices[a], indices[b])
                    for a in range(len(indices)) for b in range(a + 1, len(indices)))
        phrase = hour_phrase if clash else quarter_phrase
        return [phrase(self.hours[i], preposition) for i, preposition in zip(indices, prepositions)]


def _summary(ordered, hours_by_id, codes, label_for, flagged, urgent) -> tuple[str, ...]:
    clock = _Clock(ordered, hours_by_id)
    lines = [_checkins_line(ordered, clock)]
    lines += [_symptom_line(code, label_for[code], ordered, clock, flagged) for code in codes]
    if not codes:
        lines.append("No symptoms above None")
    moods = [i for i, checkin in enumerate(ordered) if checkin.mood is not None]
    if moods:
        lines.append(_mood_line(ordered, moods, clock))
    marked = [i for i, checkin in enumerate(ordered) if checkin.id in urgent]
    if marked:
        whens = clock.phrases(marked, [""] * len(marked))
        lines.append("Urgent: " + ", ".join(
            f"{when.strip()} ({'; '.join(urgent[ordered[i].id])})"
            for i, when in zip(marked, whens)))
    return tuple(lines)


def _checkins_line(ordered, clock: _Clock) -> str:
    last = len(ordered) - 1
    if last == 0:
        return f"1 check-in, {clock.phrases([0], ['at'])[0]}"
    if clock.same_time(0, last):
        return f"{len(ordered)} check-ins, all {hour_phrase(clock.hours[0])}"
    first_at, last_at = clock.phrases([0, last], ["at", "at"])
    return f"{len(ordered)} check-ins, the first {first_at}, the last {last_at}"


def _symptom_line(code, label, ordered, clock: _Clock, flagged) -> str:
    severities = [_severity(checkin, code) for checkin in ordered]
    present = [i for i, severity in enumerate(severities) if severity > 0]
    peak = max(severities[i] for i in present)
    peak_at = next(i for i in present if severities[i] == peak)
    last_at = present[-1]
    gone_at = next((j for j in range(last_at + 1, len(ordered))
                    if clock.minute(j) > clock.minute(last_at)), None)
    level = catalogue.severity_label
    if gone_at is not None and (last_at == peak_at or clock.same_time(peak_at, last_at)):
        peak_when, gone_when = clock.phrases([peak_at, gone_at], ["at", "by"])
        line = f"{label}: {level(peak)} {peak_when}, gone {gone_when}"
    elif gone_at is not None:
        peak_when, last_when, gone_when = clock.phrases([peak_at, last_at, gone_at],
                                                        ["at", "at", "by"])
        line = (f"{label}: {level(peak)} {peak_when}, {level(severities[last_at])} {last_when}, "
                f"gone {gone_when}")
    elif last_at + 1 < len(ordered):
        line = (f"{label}: {level(peak)} {clock.phrases([peak_at], ['at'])[0]}, "
                "then None at the same time")
    elif last_at == peak_at:
        line = f"{label}: {level(peak)} {clock.phrases([peak_at], ['at'])[0]}, at the latest check-in"
    elif clock.same_time(peak_at, last_at):
        line = (f"{label}: {level(peak)} {clock.phrases([peak_at], ['at'])[0]}, then "
                f"{level(severities[last_at])} at the same time")
    else:
        peak_when, still_when = clock.phrases([peak_at, last_at], ["at", "at"])
        line = f"{label}: {level(peak)} {peak_when}, still {level(severities[last_at])} {still_when}"
    if any((ordered[i].id, code) in flagged for i in present):
        line += ", longer than usual"
    return line


def _mood_line(ordered, moods: list[int], clock: _Clock) -> str:
    values = [ordered[i].mood for i in moods]
    first, last = moods[0], moods[-1]
    if len(moods) == 1:
        return f"Mood: {values[0]} {clock.phrases([first], ['at'])[0]}"
    if min(values) == max(values):
        return f"Mood: stayed at {values[0]}"
    if clock.same_time(first, last):
        line = f"Mood: {values[0]}, then {values[-1]}, {hour_phrase(clock.hours[first])}"
    else:
        first_when, last_when = clock.phrases([first, last], ["at", "at"])
        line = f"Mood: {values[0]} {first_when}, {values[-1]} {last_when}"
    low, high = min(values), max(values)
    if low < min(values[0], values[-1]):
        line += f"; lowest {low}"
    if high > max(values[0], values[-1]):
        line += f"; highest {high}"
    return line


# Layout


def _saved_order(checkin: CheckIn) -> tuple:
    """Time first; then the id, which grows as check-ins are saved (ids that are not numbers
    keep the order they came in)."""
    return (checkin.at, checkin.id if isinstance(checkin.id, (int, float)) else 0)


def _as_checkin(item) -> CheckIn:
    if isinstance(item, CheckIn):
        return item
    if isinstance(item, Mapping):
        return CheckIn(item["id"], item["at"], item.get("mood"), item.get("severities") or {})
    return CheckIn(item.id, item.at, item.mood, item.severities or {})


def _severity(checkin: CheckIn, code: str) -> int:
    return checkin.severities.get(code) or catalogue.SEVERITY_NONE


def _empty_chart() -> Chart:
    return Chart(
        width=VIEW_WIDTH, height=0, plot_left=PLOT_LEFT, plot_right=PLOT_RIGHT,
        axis_y=0, hours=HOURS, ticks=(), axis_title=None, legend=(), rows=(), mood=None,
        description="No check-ins yet.", table=Table(columns=("Time", "Mood"), rows=()),
        summary=("No check-ins yet",),
    )


def _hours_after(end: datetime, at: datetime) -> float:
    return (at - end).total_seconds() / 3600


def _axis_hours(latest: float) -> int:
    if latest <= HOURS:
        return HOURS
    return 2 * math.ceil(latest / 2)


def _x_for(hour: float, axis_hours: int) -> float:
    """Two linear pieces: the first STRETCHED_HOURS across STRETCHED_SHARE of the width."""
    clamped = min(max(hour, 0.0), axis_hours)
    width = PLOT_RIGHT - PLOT_LEFT
    split = PLOT_LEFT + STRETCHED_SHARE * width
    if clamped <= STRETCHED_HOURS:
        return round(PLOT_LEFT + clamped / STRETCHED_HOURS * (split - PLOT_LEFT), 2)
    rest = (clamped - STRETCHED_HOURS) / (axis_hours - STRETCHED_HOURS)
    return round(split + rest * (PLOT_RIGHT - split), 2)


def _ticks(axis_hours: int) -> tuple[Tick, ...]:
    """Every hour to 4, every 4 hours to 24, then the axis end, unlabelled when its label would
    touch 24h's."""
    hours = [*range(0, STRETCHED_HOURS), *range(STRETCHED_HOURS, HOURS + 1, TICK_EVERY)]
    ticks = [Tick(_x_for(hour, axis_hours), f"{hour}h", hour == STRETCHED_HOURS) for hour in hours]
    if axis_hours > HOURS:
        x = _x_for(axis_hours, axis_hours)
        room = x - ticks[-1].x > _text_width(f"{HOURS}h {axis_hours}h", FONT_SIZE)
        ticks.append(Tick(x, f"{axis_hours}h" if room else ""))
    return tuple(ticks)


def _charted_codes(ordered: list[CheckIn], labels: Mapping[str, str]) -> tuple[str, ...]:
    present = {code for checkin in ordered
               for code, value in checkin.severities.items() if value and value > 0}
    known = [code for code in labels if code in present]
    return tuple(known + sorted(present - set(known)))


def _text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * CHAR_WIDTH


def _wrap(text: str, width: float, font_size: float) -> list[str]:
    """Break on spaces into as few lines as fit `width`, then even out their lengths."""
    lines = _wrap_greedy(text, width, font_size)
    while width > font_size:
        narrower = _wrap_greedy(text, width - font_size * CHAR_WIDTH, font_size)
        if len(narrower) > len(lines):
            break
        lines, width = narrower, width - font_size * CHAR_WIDTH
    return lines


def _wrap_greedy(text: str, width: float, font_size: float) -> list[str]:
    """A single word wider than `width` gets a line of its own."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and _text_width(candidate, font_size) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines or [""]


def _label_lines(text: str, top: float) -> tuple[tuple[TextLine, ...], float]:
    lines = _wrap(text, VIEW_WIDTH - 4, LABEL_FONT_SIZE)
    placed = tuple(TextLine(2, top + LABEL_FONT_SIZE + i * LABEL_LINE_HEIGHT, line)
                   for i, line in enumerate(lines))
    return placed, top + len(lines) * LABEL_LINE_HEIGHT + 2


def _legend(top: float, *, with_band: bool, with_threshold: bool, with_flag: bool,
            with_urgent: bool) -> tuple[tuple[LegendItem, ...], float]:
    """Swatches and words laid out in lines across the width, wrapping as needed."""
    line_height, gap, swatch_gap, marker_r = 22, 12, 5, MARKER_RADII[1]
    entries: list[tuple[str, str, int, float]] = [
        ("severity", catalogue.severity_label(level), level,
         MARKER_RADII[0] if level == 0 else marker_r)
        for level in range(catalogue.SEVERITY_VERY_SEVERE + 1)
    ]
    if with_band:
        entries.append(("band", "Usual time to settle", 0, 8))
    if with_threshold:
        entries.append(("threshold", "Flagged after", 0, 4))
    if with_flag:
        entries.append(("flag", "Longer than usual", 0, marker_r + RING_GAP - 1))
    if with_urgent:
        entries.append(("urgent", "Urgent check-in", 0, URGENT_HALF))
    items, x, y = [], 2.0, top + line_height / 2
    for kind, text, level, half_width in entries:
        width = 2 * half_width + swatch_gap + _text_width(text, FONT_SIZE)
        if x > 2 and x + width > VIEW_WIDTH - 2:
            x, y = 2.0, y + line_height
        centre = x + half_width
        label = TextLine(round(centre + half_width + swatch_gap, 1),
                         round(y + FONT_SIZE * 0.36, 1), text)
        items.append(LegendItem(
            kind=kind, x=round(centre, 1), y=y, text=label, severity=level, r=half_width,
            fill=SEVERITY_FILLS[level], text_fill=SEVERITY_TEXT[level],
        ))
        x += width + gap
    return tuple(items), y + line_height / 2


def _urgent(top, ordered, hours_by_id, axis_hours, reasons) -> Urgent:
    label_lines, strip_top = _label_lines("Urgent check-ins", top)
    y = strip_top + URGENT_STRIP / 2
    marks = tuple(
        UrgentMark(checkin.id, _x_for(hours_by_id[checkin.id], axis_hours), y,
                   hour_label(hours_by_id[checkin.id]), reasons[checkin.id])
        for checkin in ordered if checkin.id in reasons
    )
    return Urgent(label_lines=label_lines, top=strip_top, bottom=strip_top + URGENT_STRIP,
                  marks=marks)


def _threshold(hours, top, bottom, axis_hours) -> Threshold:
    words = flagged_after_words(hours)
    width = _text_width(words, SMALL_FONT_SIZE)
    baseline = top + SMALL_FONT_SIZE
    if hours > axis_hours:
        return Threshold(hours, None, top, bottom,
                         TextLine(VIEW_WIDTH - 2, baseline, words, "end"))
    x = _x_for(hours, axis_hours)
    if x + 4 + width <= VIEW_WIDTH - 2:
        text = TextLine(round(x + 4, 2), baseline, words)
    else:
        text = TextLine(round(x - 4, 2), baseline, words, "end")
    return Threshold(hours, x, top, bottom, text)


def _row(code, label, top, ordered, hours_by_id, axis_hours, threshold, settles,
         flagged) -> Row:
    label_lines, flag_top = _label_lines(label, top)
    lane_top = flag_top + (FLAG_STRIP if threshold is not None else 0)
    baseline_y = lane_top + LANE_ABOVE
    bottom = baseline_y + LANE_BELOW
    band = None
    if settles is not None:
        band_x = _x_for(0, axis_hours)
        band = Band(x=band_x, y=lane_top, width=round(_x_for(settles, axis_hours) - band_x, 2),
                    height=bottom - lane_top, hours=settles)
    line = None if threshold is None else _threshold(threshold, flag_top, bottom, axis_hours)
    points = []
    for checkin in ordered:
        severity = _severity(checkin, code)
        hour = hours_by_id[checkin.id]
        points.append(Point(
            checkin_id=checkin.id,
            x=_x_for(hour, axis_hours),
            y=baseline_y - severity * LEVEL_STEP,
            r=MARKER_RADII[severity],
            severity=severity,
            severity_label=catalogue.severity_label(severity),
            hour=hour,
            hour_label=hour_label(hour),
            flagged=(checkin.id, code) in flagged,
            fill=SEVERITY_FILLS[severity],
            text_fill=SEVERITY_TEXT[severity],
        ))
    points = _hide_covered_numbers(points)
    return Row(
        code=code, label=label, label_lines=label_lines, top=top, band_top=lane_top,
        baseline_y=baseline_y,
        bottom=bottom, band=band, points=tuple(points),
        line_points=_points_attribute((point.x, point.y) for point in points),
        threshold=line,
    )


def _hide_covered_numbers(points: list[Point]) -> list[Point]:
    shown = []
    for point, later in zip(points, [*points[1:], None]):
        covered = later is not None and (
            math.hypot(later.x - point.x, later.y - point.y) < later.r + NUMBER_FONT_SIZE * 0.3)
        shown.append(replace(point, shows_number=point.severity > 0 and not covered))
    return shown


def _mood(top, ordered, hours_by_id, axis_hours) -> Mood | None:
    if all(checkin.mood is None for checkin in ordered):
        return None
    label_lines, panel_top = _label_lines("Mood (0 worst, 10 best)", top)
    chart_top = panel_top + MOOD_PAD
    bottom = chart_top + MOOD_STEP * catalogue.MOOD_MAX + MOOD_PAD

    def y_for(mood: int) -> float:
        return chart_top + (catalogue.MOOD_MAX - mood) * MOOD_STEP

    points = tuple(
        MoodPoint(checkin_id=checkin.id, x=_x_for(hours_by_id[checkin.id], axis_hours),
                  y=y_for(checkin.mood), r=MOOD_MARKER_RADIUS, mood=checkin.mood,
                  hour=hours_by_id[checkin.id], hour_label=hour_label(hours_by_id[checkin.id]))
        for checkin in ordered if checkin.mood is not None
    )
    return Mood(
        label_lines=label_lines,
        top=panel_top,
        bottom=bottom,
        y_ticks=tuple(TextLine(PLOT_LEFT - 7, round(y_for(m) + FONT_SIZE * 0.36, 1), str(m), "end")
                      for m in MOOD_TICKS),
        gridlines=tuple(y_for(m) for m in MOOD_TICKS),
        points=points,
        line_points=_points_attribute((point.x, point.y) for point in points),
    )


def column_note(code: str, thresholds: Mapping[str, float], settles: Mapping[str, float]) -> str:
    """Under a symptom's heading in a table: its usual time to settle and its flag threshold."""
    parts = []
    if code in settles:
        parts.append(f"Usually settles within {svg_number(settles[code])} h")
    if code in thresholds:
        parts.append(flagged_after_words(thresholds[code]))
    return ". ".join(parts) + ("." if parts else "")


def _table(ordered, hours_by_id, codes, label_for, flagged, thresholds, settles,
           urgent) -> Table:
    rows = []
    for checkin in ordered:
        cells = []
        for code in codes:
            cells.append(TableCell(catalogue.severity_label(_severity(checkin, code)),
                                   (checkin.id, code) in flagged))
        rows.append(TableRow(
            hour_label=hour_label(hours_by_id[checkin.id]),
            mood="—" if checkin.mood is None else str(checkin.mood),
            cells=tuple(cells),
            urgent=("; ".join(urgent[checkin.id]) if checkin.id in urgent else "")
            if urgent is not None else None,
        ))
    notes = ("", "", *(column_note(code, thresholds, settles) for code in codes))
    columns = ("Time", "Mood", *(label_for[code] for code in codes))
    if urgent is not None:
        columns, notes = (*columns, "Urgent"), (*notes, "")
    return Table(columns=columns, rows=tuple(rows), notes=notes, with_urgent=urgent is not None)


def _points_attribute(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in points)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
