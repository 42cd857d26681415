"""The 24-hour chart: geometry, words and table from diary.chart, and the SVG from _chart.html."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from diary.rules import catalogue
from diary.rules.chart import (
    PLOT_LEFT, PLOT_RIGHT, SEVERITY_FILLS, SEVERITY_TEXT, STRETCHED_SHARE, CheckIn, build_chart,
    svg_number, hour_label, hour_phrase, quarter_phrase,
)

END = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
WIDTH = PLOT_RIGHT - PLOT_LEFT
SPLIT = PLOT_LEFT + STRETCHED_SHARE * WIDTH
"""Where hour 4 is drawn: the first 4 hours get STRETCHED_SHARE of the width."""


def x_at(hours, axis=24):
    """The x of an hour on the stretched scale, computed here from its definition."""
    if hours <= 4:
        return PLOT_LEFT + hours / 4 * (SPLIT - PLOT_LEFT)
    return SPLIT + (hours - 4) / (axis - 4) * (PLOT_RIGHT - SPLIT)


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
    assert [t.label for t in c.ticks] == [
        "0h", "1h", "2h", "3h", "4h", "8h", "12h", "16h", "20h", "24h"]
    assert c.ticks[0].x == PLOT_LEFT and c.ticks[-1].x == PLOT_RIGHT


def test_axis_runs_to_26_hours_when_a_checkin_is_after_24():
    c = build_chart(END, [checkin(1, 2, nausea=1), checkin(2, 25, nausea=1)])
    assert c.hours == 26
    assert c.x_for(26) == PLOT_RIGHT
    assert row(c, "nausea").points[-1].x == pytest.approx(x_at(25, axis=26), abs=0.01)
    assert c.ticks[-1].x == PLOT_RIGHT
    assert "24h" in [t.label for t in c.ticks]


def test_checkins_during_the_infusion_are_drawn_at_hour_0():
    c = build_chart(END, [checkin(1, -0.25, nausea=2), checkin(2, 1, nausea=0)])
    assert row(c, "nausea").points[0].x == PLOT_LEFT
    assert c.table.rows[0].hour_label == "During infusion"
    assert "Sick to my stomach: Moderate during the infusion, gone by hour 1" in c.summary


def test_only_symptoms_ever_above_none_get_rows_in_catalogue_order(chart):
    assert [r.code for r in chart.rows] == ["nausea", "dizziness", "headache"]
    assert [r.label for r in chart.rows] == ["Sick to my stomach", "Dizzy or spinning", "Headache"]
    assert chart.table.columns == (
        "Time", "Mood", "Sick to my stomach", "Dizzy or spinning", "Headache")


def test_band_is_the_usual_time_to_settle_and_the_threshold_a_line_of_its_own(chart):
    dizzy = row(chart, "dizziness")
    assert dizzy.band.x == PLOT_LEFT
    assert dizzy.band.width == pytest.approx(x_at(4) - PLOT_LEFT, abs=0.01)  # "2-4 hours"
    assert dizzy.threshold.x == pytest.approx(x_at(6), abs=0.01)
    assert dizzy.threshold.text.text == "Flagged after 6 h"
    # Headache: the sources give no time to settle, so a line and no band.
    assert row(chart, "headache").band is None
    assert row(chart, "headache").threshold.text.text == "Flagged after 12 h"
    svg = render(chart)
    assert "Flagged after 6 h" in svg and "Flagged after 12 h" in svg
    assert "Usual time to settle" in svg and ">Flagged after<" in svg


def test_hard_to_think_the_issue_s_numbers_agree_in_band_line_flag_words_and_table():
    c = build_chart(END, [checkin(1, 1, thinking=2), checkin(2, 5, thinking=1)])
    thinking = row(c, "thinking")
    assert thinking.band.hours == 2
    assert thinking.threshold.hours == 4
    assert catalogue.symptom("thinking").settles == "usually settles within about 2 hours"
    assert c.table.notes[2] == "Usually settles within 2 h. Flagged after 4 h."


def test_patient_thresholds_move_the_line_not_the_band():
    c = build_chart(END, sample(), thresholds={"dizziness": 2})
    assert row(c, "dizziness").threshold.x == pytest.approx(x_at(2), abs=0.01)
    assert row(c, "dizziness").threshold.text.text == "Flagged after 2 h"
    assert row(c, "dizziness").band.width == pytest.approx(x_at(4) - PLOT_LEFT, abs=0.01)


def test_a_threshold_past_the_axis_keeps_its_words_without_a_line():
    c = build_chart(END, [checkin(1, 30, fatigue=1)], thresholds={"fatigue": 48})
    assert c.hours == 30
    assert row(c, "fatigue").threshold.x is None
    assert row(c, "fatigue").threshold.text.text == "Flagged after 48 h"


def test_the_caregiver_chart_has_no_threshold_lines():
    c = build_chart(END, sample(), threshold_lines=False)
    assert all(r.threshold is None for r in c.rows)
    assert not any(item.kind == "threshold" for item in c.legend)
    assert "Flagged after" not in render(c)
    assert row(c, "dizziness").band is not None


def test_the_first_4_hours_get_more_room_and_the_scale_says_so():
    c = build_chart(END, sample())
    assert c.x_for(4) - c.x_for(0) == pytest.approx(STRETCHED_SHARE * WIDTH, abs=0.01)
    assert c.x_for(1) - c.x_for(0) > 3 * (c.x_for(24) - c.x_for(23))
    xs = [tick.x for tick in c.ticks]
    assert xs == sorted(xs)
    assert "the first 4 hours are drawn wider" in " ".join(
        line.text for line in c.axis_title_lines)
    # Markers of check-ins an hour apart early on no longer overlap.
    dizzy = row(c, "dizziness").points
    assert dizzy[2].x - dizzy[1].x > 2 * dizzy[1].r


def test_hour_labels_are_repeated_at_the_top(chart):
    svg = render(chart)
    for tick in chart.ticks:
        assert svg.count(f">{tick.label}</text>") == 2, tick.label
    first_lane = min(r.top for r in chart.rows)
    assert chart.top_tick_label_y < first_lane < chart.tick_label_y


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


def test_summary_is_one_short_line_per_symptom(chart):
    assert chart.summary == (
        "6 check-ins, the first at 30 minutes, the last at hour 12½",
        "Sick to my stomach: Severe at 30 minutes, gone by hour 1",
        "Dizzy or spinning: Moderate at hour 1, Mild at hour 2, gone by hour 4",
        "Headache: Mild at hour 1, still Mild at hour 12½, longer than usual",
        "Mood: 3 at 30 minutes, 7 at hour 12½",
    )
    assert chart.description == ". ".join(chart.summary) + "."
    html = render(chart)
    assert re.search(r'<ul class="chart-summary">\s*<li>6 check-ins', html)
    assert html.count("<li>") == len(chart.summary)


def test_the_summary_says_when_a_symptom_is_still_there():
    c = build_chart(END, [checkin(1, 1, fatigue=1), checkin(2, 2, fatigue=3),
                          checkin(3, 5, fatigue=3), checkin(4, 9, fatigue=1)])
    assert "Tired or low on energy: Severe at hour 2, still Mild at hour 9" in c.summary


def test_the_issue_s_example_reads_as_in_the_issue():
    c = build_chart(END, [checkin(1, 1, dizziness=2), checkin(2, 2, dizziness=1),
                          checkin(3, 4)])
    assert "Dizzy or spinning: Moderate at hour 1, Mild at hour 2, gone by hour 4" in c.summary
    c = build_chart(END, [checkin(1, 1, dizziness=2), checkin(2, 4)])
    assert "Dizzy or spinning: Moderate at hour 1, gone by hour 4" in c.summary


def test_two_checkins_in_the_same_minute_follow_the_order_they_were_saved():
    """The issue's bug: "was Very severe at 6 hours 20 minutes and had settled by 6 hours 20
    minutes", and "Mood went from 4 to 7" when mood fell to 4."""
    same = at(6 + 20 / 60)
    saved_first = CheckIn(id=7, at=same, mood=7, severities={"thinking": 4})
    saved_next = CheckIn(id=8, at=same, mood=4, severities={"thinking": 0})
    for given in ([saved_first, saved_next], [saved_next, saved_first]):  # as the page gives them
        c = build_chart(END, given)
        assert [r.mood for r in c.table.rows] == ["7", "4"]
        assert c.summary[1] == ("Hard to think clearly or find words: Very severe at hour 6¼, "
                                "then None at the same time")
        assert c.summary[2] == "Mood: 7, then 4, at 6 hours 20 minutes"
        assert "settled" not in c.description and "gone by hour 6" not in c.description
        assert [p.mood for p in c.mood.points] == [7, 4]


def test_gone_is_never_the_moment_it_was_reported():
    c = build_chart(END, [checkin(1, 6 + 20 / 60, nausea=3), checkin(2, 6 + 20 / 60),
                          checkin(3, 8)])
    assert "Sick to my stomach: Severe at hour 6¼, gone by hour 8" in c.summary


def test_hours_round_to_the_quarter_unless_the_minutes_matter():
    c = build_chart(END, [checkin(1, 1 + 5 / 60, headache=2), checkin(2, 4 + 10 / 60)])
    assert "Headache: Moderate at hour 1, gone by hour 4¼" in c.summary
    # 6:05 and 6:07 both round to hour 6: the minutes matter.
    c = build_chart(END, [checkin(1, 6 + 5 / 60, headache=3), checkin(2, 6 + 7 / 60)])
    assert "Headache: Severe at 6 hours 5 minutes, gone by 6 hours 7 minutes" in c.summary
    assert c.summary[0] == "2 check-ins, the first at 6 hours 5 minutes, the last at 6 hours 7 minutes"


def test_the_summary_gives_the_mood_range():
    c = build_chart(END, [checkin(1, 1, 4), checkin(2, 2, 2), checkin(3, 3, 7)])
    assert c.summary[-1] == "Mood: 4 at hour 1, 7 at hour 3; lowest 2"
    assert build_chart(END, [checkin(1, 1, 4), checkin(2, 3, 7)]).summary[-1] == (
        "Mood: 4 at hour 1, 7 at hour 3")
    assert build_chart(END, [checkin(1, 1, 6), checkin(2, 3, 6)]).summary[-1] == (
        "Mood: stayed at 6")


def test_summary_without_symptoms():
    c = build_chart(END, [checkin(1, 1, 6, nausea=0)])
    assert c.rows == ()
    assert c.summary == ("1 check-in, at hour 1", "No symptoms above None", "Mood: 6 at hour 1")


def test_symptom_seen_only_at_the_latest_checkin():
    c = build_chart(END, [checkin(1, 1, headache=0), checkin(2, 3, headache=2)])
    assert "Headache: Moderate at hour 3, at the latest check-in" in c.summary


def test_a_symptom_left_out_counts_as_none():
    c = build_chart(END, [checkin(1, 1, headache=2), checkin(2, 3)])
    assert [p.severity for p in row(c, "headache").points] == [2, 0]
    assert c.table.rows[1].cells[0].text == "None"
    assert "Headache: Moderate at hour 1, gone by hour 3" in c.summary


def test_urgent_checkins_get_their_own_labelled_marker_when_asked():
    checkins = [checkin(1, 1, mood=1), checkin(2, 3, mood=5, headache=4), checkin(3, 5, mood=6)]
    reasons = {1: ("mood 1",), 2: ("Headache: Very severe",), 3: ()}
    c = build_chart(END, checkins, urgent=reasons)
    assert [mark.checkin_id for mark in c.urgent.marks] == [1, 2]
    assert [mark.x for mark in c.urgent.marks] == [c.x_for(1), c.x_for(3)]
    assert any(item.kind == "urgent" for item in c.legend)
    assert c.urgent.bottom < min(r.top for r in c.rows)
    assert c.summary[-1] == "Urgent: hour 1 (mood 1), hour 3 (Headache: Very severe)"
    assert c.table.columns[-1] == "Urgent"
    assert [r.urgent for r in c.table.rows] == ["mood 1", "Headache: Very severe", ""]
    svg = render(c)
    assert "Urgent check-in" in svg and "Urgent check-ins" in svg
    assert svg.count(">!</text>") == 3  # two marks and the legend's
    # Without reasons (a caregiver's or a patient's chart): nothing urgent anywhere.
    plain = build_chart(END, checkins)
    assert plain.urgent is None and "Urgent" not in render(plain)
    assert "Urgent" not in plain.description and "Urgent" not in plain.table.columns


def test_quarter_phrases():
    assert [quarter_phrase(h) for h in (0, 0.25, 1.1, 1.4, 2.9, -0.2)] == [
        "at hour 0", "at 15 minutes", "at hour 1", "at hour 1½", "at hour 3",
        "during the infusion"]


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
    assert re.search(r'<desc id="first-desc">[^<]*Headache: Mild at hour 1', svg)
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
    assert len(re.findall(r'<circle[^>]*stroke="#a4161a"', svg)) == 2  # the legend's and one


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
    if len(colour) == 4:
        colour = "#" + "".join(c * 2 for c in colour[1:])
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
