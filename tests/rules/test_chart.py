"""The 24-hour chart: geometry, words and table from diary.chart, and the SVG from _chart.html."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from diary.rules import catalogue
from diary.rules.chart import (
    PLOT_LEFT, PLOT_RIGHT, SEVERITY_FILLS, SEVERITY_TEXT, CheckIn, build_chart, svg_number,
    hour_label, hour_phrase,
)

END = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
WIDTH_PER_HOUR = (PLOT_RIGHT - PLOT_LEFT) / 24


def at(hours: float) -> datetime:
    return END + timedelta(hours=hours)


def checkin(checkin_id, hours, mood=5, **severities):
    return CheckIn(id=checkin_id, at=at(hours), mood=mood, severities=severities)


def sample():
    """Dizziness that settles, headache that lasts past its 12 hours, nausea early on."""
    return [
        checkin(1, 0.5, 3, nausea=3, dizziness=0, headache=0, fatigue=0),
        checkin(2, 1, 3, nausea=0, dizziness=2, headache=1, fatigue=0),
        checkin(3, 2, 4, nausea=0, dizziness=1, headache=1, fatigue=0),
        checkin(4, 4, 6, nausea=0, dizziness=0, headache=1, fatigue=0),
        checkin(5, 8, 7, nausea=0, dizziness=0, headache=1, fatigue=0),
        checkin(6, 12.5, 7, nausea=0, dizziness=0, headache=1, fatigue=0),
    ]


@pytest.fixture
def chart():
    return build_chart(END, sample(), thresholds={"headache": 12}, flagged={(6, "headache")})


def render(c, title="Your first 24 hours", id_prefix="first"):
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["n"] = svg_number
    macro = env.from_string('{% from "_chart.html" import chart %}{{ chart(c, title, prefix) }}')
    return macro.render(c=c, title=title, prefix=id_prefix)


def row(c, code):
    return next(r for r in c.rows if r.code == code)


def test_hour_0_is_the_left_edge_and_hour_24_the_right():
    c = build_chart(END, [checkin(1, 0, nausea=1), checkin(2, 24, nausea=1)])
    xs = [p.x for p in row(c, "nausea").points]
    assert xs == [PLOT_LEFT, PLOT_RIGHT]
    assert c.hours == 24
    assert [t.label for t in c.ticks] == ["0h", "4h", "8h", "12h", "16h", "20h", "24h"]
    assert c.ticks[0].x == PLOT_LEFT and c.ticks[-1].x == PLOT_RIGHT


def test_axis_runs_to_26_hours_when_a_checkin_is_after_24():
    c = build_chart(END, [checkin(1, 2, nausea=1), checkin(2, 25, nausea=1)])
    assert c.hours == 26
    assert c.x_for(26) == PLOT_RIGHT
    hour_25 = PLOT_LEFT + 25 / 26 * (PLOT_RIGHT - PLOT_LEFT)
    assert row(c, "nausea").points[-1].x == pytest.approx(hour_25, abs=0.01)
    assert c.ticks[-1].x == PLOT_RIGHT
    assert "24h" in [t.label for t in c.ticks]


def test_checkins_during_the_infusion_are_drawn_at_hour_0():
    c = build_chart(END, [checkin(1, -0.25, nausea=2), checkin(2, 1, nausea=0)])
    assert row(c, "nausea").points[0].x == PLOT_LEFT
    assert c.table.rows[0].hour_label == "During infusion"
    assert ("Sick to my stomach was Moderate during the infusion and had settled by hour 1."
            in c.description)


def test_only_symptoms_ever_above_none_get_rows_in_catalogue_order(chart):
    assert [r.code for r in chart.rows] == ["nausea", "dizziness", "headache"]
    assert [r.label for r in chart.rows] == ["Sick to my stomach", "Dizzy or spinning", "Headache"]
    assert chart.table.columns == (
        "Time", "Mood", "Sick to my stomach", "Dizzy or spinning", "Headache")


def test_band_width_is_the_threshold(chart):
    assert row(chart, "headache").band.width == pytest.approx(12 * WIDTH_PER_HOUR, abs=0.01)
    assert row(chart, "dizziness").band.width == pytest.approx(6 * WIDTH_PER_HOUR, abs=0.01)
    assert row(chart, "headache").band.x == PLOT_LEFT


def test_patient_thresholds_override_the_catalogue():
    c = build_chart(END, sample(), thresholds={"dizziness": 2})
    assert row(c, "dizziness").band.width == pytest.approx(2 * WIDTH_PER_HOUR, abs=0.01)


def test_higher_severity_is_drawn_higher_and_larger(chart):
    points = row(chart, "dizziness").points
    none, moderate, mild = points[0], points[1], points[2]
    assert moderate.y < mild.y < none.y
    assert moderate.r > mild.r > none.r
    labels = (moderate.severity_label, mild.severity_label, none.severity_label)
    assert labels == ("Moderate", "Mild", "None")


def test_flagged_points_are_marked(chart):
    flagged = [(p.checkin_id, p.hour_label) for r in chart.rows for p in r.points if p.flagged]
    assert flagged == [(6, "12h 30m")]
    assert chart.table.rows[-1].cells[-1].flagged
    assert any(item.kind == "flag" for item in chart.legend)


def test_mood_polyline_follows_time_not_entry_order():
    entered = [checkin(3, 8, 7), checkin(1, 1, 3), checkin(2, 4, 5)]
    c = build_chart(END, entered)
    assert [p.mood for p in c.mood.points] == [3, 5, 7]
    xs = [float(pair.split(",")[0]) for pair in c.mood.line_points.split()]
    assert xs == sorted(xs) and len(xs) == 3
    assert [r.hour_label for r in c.table.rows] == ["1h", "4h", "8h"]


def test_mood_axis_is_labelled_0_5_10_with_10_at_the_top(chart):
    assert [t.text for t in chart.mood.y_ticks] == ["0", "5", "10"]
    assert chart.mood.y_ticks[2].y < chart.mood.y_ticks[0].y


def test_description_gives_peak_and_settled(chart):
    sentences = chart.description
    assert "Dizzy or spinning peaked at Moderate at hour 1 and had settled by hour 4." in sentences
    assert "Sick to my stomach was Severe at 30 minutes and had settled by hour 1." in sentences


def test_description_says_when_a_symptom_is_still_there(chart):
    assert ("Headache was Mild at hour 1 and still there at 12 hours 30 minutes, longer than usual."
            in chart.description)


def test_description_gives_the_mood_range():
    c = build_chart(END, [checkin(1, 1, 4), checkin(2, 2, 2), checkin(3, 3, 7)])
    assert c.description.endswith("Mood went from 4 to 7. It ranged from 2 to 7.")
    assert build_chart(END, [checkin(1, 1, 4), checkin(2, 3, 7)]).description.endswith(
        "Mood went from 4 to 7.")


def test_description_without_symptoms():
    c = build_chart(END, [checkin(1, 1, 6, nausea=0)])
    assert c.rows == ()
    assert c.description == (
        "1 check-in, at hour 1. No symptoms were reported above None. Mood was 6.")


def test_symptom_seen_only_at_the_latest_checkin():
    c = build_chart(END, [checkin(1, 1, headache=0), checkin(2, 3, headache=2)])
    assert "Headache was Moderate at hour 3, at the latest check-in." in c.description


def test_a_symptom_left_out_counts_as_none():
    c = build_chart(END, [checkin(1, 1, headache=2), checkin(2, 3)])
    assert [p.severity for p in row(c, "headache").points] == [2, 0]
    assert c.table.rows[1].cells[0].text == "None"
    assert "Headache was Moderate at hour 1 and had settled by hour 3." in c.description


def test_a_symptom_that_rises_then_falls_peaks_once():
    c = build_chart(END, [checkin(1, 1, fatigue=1), checkin(2, 2, fatigue=3),
                          checkin(3, 5, fatigue=3), checkin(4, 9, fatigue=1)])
    assert "Tired or low on energy peaked at Severe at hour 2 and was still there at hour 9." in (
        c.description)


def test_time_words():
    labels = [hour_label(h) for h in (0, 1.5, 0.25, -0.1)]
    assert labels == ["0h", "1h 30m", "0h 15m", "During infusion"]
    assert hour_phrase(2) == "at hour 2"
    assert hour_phrase(1.5, "by") == "by 1 hour 30 minutes"
    assert hour_phrase(0.5) == "at 30 minutes"


def test_checkins_may_be_mappings():
    c = build_chart(END, [{"id": 9, "at": at(2), "mood": 5, "severities": {"vision": 1}}])
    assert [r.code for r in c.rows] == ["vision"]


def test_table_has_a_row_per_checkin_and_a_cell_per_charted_symptom(chart):
    assert len(chart.table.rows) == 6
    first = chart.table.rows[0]
    assert (first.hour_label, first.mood) == ("0h 30m", "3")
    assert [cell.text for cell in first.cells] == ["Severe", "None", "None"]


def test_empty_input():
    c = build_chart(END, [])
    assert c.is_empty and c.rows == () and c.mood is None
    assert c.description == "No check-ins yet."
    html = render(c)
    assert "No check-ins yet." in html and "<svg" not in html


def test_severity_numbers_are_readable_and_levels_differ_in_greyscale():
    for fill, text in zip(SEVERITY_FILLS[1:], SEVERITY_TEXT[1:]):
        assert contrast_ratio(fill, text) >= 4.5
    steps = [contrast_ratio(a, b) for a, b in zip(SEVERITY_FILLS[1:], SEVERITY_FILLS[2:])]
    assert min(steps) >= 1.5


def test_svg_is_an_image_with_title_desc_and_a_table(chart):
    html = render(chart)
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="first-title"' in svg and 'aria-describedby="first-desc"' in svg
    assert '<title id="first-title">Your first 24 hours</title>' in svg
    assert re.search(r'<desc id="first-desc">[^<]*Headache was Mild', svg)
    assert 'viewBox="0 0 320 ' in svg and 'width="100%"' in svg
    assert "style" not in html and "<script" not in html
    assert len(re.findall(r"<tr>", html)) == 1 + len(chart.table.rows)
    assert len(re.findall(r'<th scope="row">', html)) == 6
    assert html.count('<th scope="col">') == 5
    assert "<caption>Your first 24 hours</caption>" in html
    assert "Show the chart as a table" in html


def test_text_in_the_svg_is_at_least_12_units(chart):
    svg = render(chart)
    sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)]
    assert sizes and min(sizes) >= 12


def test_flagged_point_gets_a_ring(chart):
    svg = render(chart)
    assert svg.count('stroke="#a4161a"') == 2


def test_two_charts_on_a_page_have_distinct_ids(chart):
    page = render(chart, id_prefix="one") + render(chart, id_prefix="two")
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_labels_are_escaped():
    hostile = '<script>alert("x")</script> & "friends"'
    c = build_chart(END, [checkin(1, 1, mine=2)], labels={"mine": hostile})
    html = render(c, title="<b>Title</b>")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html and "&lt;b&gt;Title&lt;/b&gt;" in html


def test_long_labels_wrap_above_the_lane():
    c = build_chart(END, [checkin(1, 1, perception=1)])
    lines = row(c, "perception").label_lines
    assert " ".join(line.text for line in lines) == catalogue.symptom("perception").label
    assert all(line.y < row(c, "perception").band_top for line in lines)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast between two #rrggbb colours."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
