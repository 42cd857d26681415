"""One infusion's 24 hours as chart geometry and plain words, free of Flask.

`build_chart` turns check-ins into a frozen `Chart`: one swimlane per symptom that was ever above
None, a mood line, x ticks, a legend, a text description and a data table. templates/_chart.html
draws it as inline SVG using presentation attributes only, so it passes a CSP without
'unsafe-inline'. Units are SVG user units; the viewBox is about a phone's width, so one unit is
roughly one CSS pixel on a phone and font sizes of 12 or more stay readable.

Choices:
- Check-ins before the infusion's end (during it) are drawn at hour 0; the table and the
  description call them "during the infusion".
- The x axis runs to hour 24, or to the next even hour when a check-in is later (24.5 -> 26).
- A symptom left out of a check-in's severities counts as None, as in diary.flags.
- A symptom with no threshold (neither passed in nor in the catalogue) gets no expected band.
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

FONT_SIZE = 13
LABEL_FONT_SIZE = 14
LABEL_LINE_HEIGHT = 18
CHAR_WIDTH = 0.56
"""Average glyph width as a share of font size, measured on DejaVu Sans Bold, a wide fallback."""

LEVEL_STEP = 10
MARKER_RADII = (3.5, 7.0, 7.5, 8.0, 8.5)
NUMBER_FONT_SIZE = 12
RING_GAP = 3.5
LANE_ABOVE = LEVEL_STEP * catalogue.SEVERITY_VERY_SEVERE + MARKER_RADII[-1] + RING_GAP + 2
LANE_BELOW = 9
ROW_GAP = 10

MOOD_STEP = 7
MOOD_PAD = 8
MOOD_TICKS = (0, 5, 10)

MOOD_MARKER_RADIUS = 4.5

INK = "#1b2426"
PAPER = "#ffffff"
SEVERITY_FILLS = (PAPER, "#f7dc8f", "#e6953a", "#b8431c", "#6b1010")
"""Light to dark, so the levels stay apart in greyscale as well as by height and number."""
SEVERITY_TEXT = (INK, INK, INK, PAPER, PAPER)
"""Digit colour per level, each at least 4.5:1 against its fill."""


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


@dataclass(frozen=True)
class TextLine:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class LegendItem:
    """A swatch (`kind` is "severity", "band" or "flag") centred at (x, y) and its text."""

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
    """The symptom's usual time to settle, from hour 0 to its flag-after hour."""

    x: float
    y: float
    width: float
    height: float
    hours: float


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


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]


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

    @property
    def grid_spans(self) -> tuple[tuple[float, float], ...]:
        """Vertical extents of the lanes and the mood panel, where hour gridlines are drawn."""
        spans = [(row.band_top, row.bottom) for row in self.rows]
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
) -> Chart:
    """Lay out one infusion's check-ins, measured in hours from `end`, the infusion's end.

    `checkins` are `CheckIn`s, or mappings or objects with id, at, mood and severities.
    `thresholds` maps symptom code to flag-after hours (the patient's own; the catalogue's fill
    gaps). `flagged` holds (checkin id, symptom code) pairs to ring. `labels` maps code to label
    and sets row order; it defaults to the catalogue's.
    """
    ordered = sorted((_as_checkin(item) for item in checkins), key=lambda checkin: checkin.at)
    labels = dict(labels) if labels is not None else {s.code: s.label for s in catalogue.SYMPTOMS}
    thresholds = {**catalogue.default_thresholds(), **(thresholds or {})}
    flagged = frozenset(flagged)
    if not ordered:
        return _empty_chart()

    hours_by_id = {checkin.id: _hours_after(end, checkin.at) for checkin in ordered}
    axis_hours = _axis_hours(max(hours_by_id.values()))
    codes = _charted_codes(ordered, labels)
    label_for = {code: labels.get(code, code) for code in codes}

    y = 4.0
    legend, y = _legend(y, any(code in thresholds for code in codes), bool(flagged))
    y += 6
    rows = []
    for code in codes:
        row = _row(code, label_for[code], y, ordered, hours_by_id, axis_hours,
                   thresholds.get(code), flagged)
        rows.append(row)
        y = row.bottom + ROW_GAP
    mood = _mood(y, ordered, hours_by_id, axis_hours)
    axis_y = mood.bottom + 4 if mood else y
    axis_title = TextLine(VIEW_WIDTH / 2, axis_y + 2 * FONT_SIZE + 10,
                          "Hours after the infusion ended")
    return Chart(
        width=VIEW_WIDTH,
        height=round(axis_title.y + 8, 1),
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        axis_y=axis_y,
        hours=axis_hours,
        ticks=_ticks(axis_hours),
        axis_title=axis_title,
        legend=legend,
        rows=tuple(rows),
        mood=mood,
        description=_describe(ordered, hours_by_id, codes, label_for, flagged),
        table=_table(ordered, hours_by_id, codes, label_for, flagged),
    )


def hour_label(hours: float) -> str:
    """Short time for ticks and the table: "2h", "1h 30m", "During infusion"."""
    if hours < 0:
        return "During infusion"
    whole, minutes = divmod(round(hours * 60), 60)
    return f"{whole}h" if minutes == 0 else f"{whole}h {minutes}m"


def hour_phrase(hours: float, preposition: str = "at") -> str:
    """Time in words for the description: "at hour 2", "by 1 hour 30 minutes"."""
    if hours < 0:
        return "during the infusion"
    whole, minutes = divmod(round(hours * 60), 60)
    if minutes == 0:
        return f"{preposition} hour {whole}"
    minute_words = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if whole == 0:
        return f"{preposition} {minute_words}"
    return f"{preposition} {whole} hour{'s' if whole != 1 else ''} {minute_words}"


def _describe(ordered, hours_by_id, codes, label_for, flagged) -> str:
    """The chart in sentences: check-ins, each symptom's peak and whether it settled, then mood."""
    if not ordered:
        return "No check-ins yet."
    first, last = hours_by_id[ordered[0].id], hours_by_id[ordered[-1].id]
    if len(ordered) == 1:
        sentences = [f"1 check-in, {hour_phrase(first)}."]
    else:
        sentences = [f"{len(ordered)} check-ins, the first {hour_phrase(first)} "
                     f"and the last {hour_phrase(last)}."]
    for code in codes:
        sentences.append(_symptom_sentence(code, label_for[code], ordered, hours_by_id, flagged))
    if not codes:
        sentences.append("No symptoms were reported above None.")
    moods = [checkin.mood for checkin in ordered if checkin.mood is not None]
    if moods:
        sentences.append(_mood_sentence(moods))
    return " ".join(sentences)


def _symptom_sentence(code, label, ordered, hours_by_id, flagged) -> str:
    severities = [_severity(checkin, code) for checkin in ordered]
    present = [i for i, severity in enumerate(severities) if severity > 0]
    levels = {severities[i] for i in present}
    peak_at = next(i for i in present if severities[i] == max(levels))
    last_present_at = present[-1]

    def when(i: int, preposition: str = "at") -> str:
        return hour_phrase(hours_by_id[ordered[i].id], preposition)

    level = catalogue.severity_label(max(levels))
    if len(levels) > 1:
        sentence, still = f"{label} peaked at {level} {when(peak_at)}", "and was still there"
    else:
        sentence, still = f"{label} was {level} {when(peak_at)}", "and still there"
    if last_present_at + 1 < len(ordered):
        sentence += f" and had settled {when(last_present_at + 1, 'by')}"
    elif last_present_at != peak_at:
        sentence += f" {still} {when(last_present_at)}"
    else:
        sentence += ", at the latest check-in"
    if any((ordered[i].id, code) in flagged for i in present):
        sentence += ", longer than usual"
    return sentence + "."


def _mood_sentence(moods: list[int]) -> str:
    first, last, low, high = moods[0], moods[-1], min(moods), max(moods)
    if len(moods) == 1:
        return f"Mood was {first}."
    if low == high:
        return f"Mood stayed at {first}."
    sentence = f"Mood went from {first} to {last}."
    if low < min(first, last) or high > max(first, last):
        sentence += f" It ranged from {low} to {high}."
    return sentence


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
    )


def _hours_after(end: datetime, at: datetime) -> float:
    return (at - end).total_seconds() / 3600


def _axis_hours(latest: float) -> int:
    if latest <= HOURS:
        return HOURS
    return 2 * math.ceil(latest / 2)


def _x_for(hour: float, axis_hours: int) -> float:
    clamped = min(max(hour, 0.0), axis_hours)
    return round(PLOT_LEFT + clamped / axis_hours * (PLOT_RIGHT - PLOT_LEFT), 2)


def _ticks(axis_hours: int) -> tuple[Tick, ...]:
    """Every 4 hours to 24, then the axis end, unlabelled when its label would touch 24h's."""
    ticks = [Tick(_x_for(hour, axis_hours), f"{hour}h") for hour in range(0, HOURS + 1, TICK_EVERY)]
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


def _legend(top: float, with_band: bool, with_flag: bool) -> tuple[tuple[LegendItem, ...], float]:
    """Swatches and words laid out in lines across the width, wrapping as needed."""
    line_height, gap, swatch_gap, marker_r = 22, 12, 5, MARKER_RADII[1]
    entries: list[tuple[str, str, int, float]] = [
        ("severity", catalogue.severity_label(level), level,
         MARKER_RADII[0] if level == 0 else marker_r)
        for level in range(catalogue.SEVERITY_VERY_SEVERE + 1)
    ]
    if with_band:
        entries.append(("band", "Usual time to settle", 0, 8))
    if with_flag:
        entries.append(("flag", "Longer than usual", 0, marker_r + RING_GAP - 1))
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


def _row(code, label, top, ordered, hours_by_id, axis_hours, threshold, flagged) -> Row:
    label_lines, lane_top = _label_lines(label, top)
    baseline_y = lane_top + LANE_ABOVE
    bottom = baseline_y + LANE_BELOW
    band = None
    if threshold is not None:
        band_x = _x_for(0, axis_hours)
        band = Band(x=band_x, y=lane_top, width=round(_x_for(threshold, axis_hours) - band_x, 2),
                    height=bottom - lane_top, hours=threshold)
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
        y_ticks=tuple(TextLine(PLOT_LEFT - 7, round(y_for(m) + FONT_SIZE * 0.36, 1), str(m))
                      for m in MOOD_TICKS),
        gridlines=tuple(y_for(m) for m in MOOD_TICKS),
        points=points,
        line_points=_points_attribute((point.x, point.y) for point in points),
    )


def _table(ordered, hours_by_id, codes, label_for, flagged) -> Table:
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
        ))
    return Table(columns=("Time", "Mood", *(label_for[code] for code in codes)), rows=tuple(rows))


def _points_attribute(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in points)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
