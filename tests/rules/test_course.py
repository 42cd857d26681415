"""The course as pure rules: each infusion summed up, the one comparison sentence, the course chart."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diary.rules import catalogue, course

ZONE = "America/New_York"
START = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)
LONG_AFTER = datetime(2026, 6, 1, tzinfo=timezone.utc)
ADVICE = re.compile(r"\b(better|worse|should|improv\w*|recommend\w*|dose|good|bad|must|"
                    r"worry|normal|healthy|safe)\b", re.IGNORECASE)


def infusion(number, checkins, days_later=None, now=LONG_AFTER, flags=()):
    start = START + timedelta(days=3 * (number - 1) if days_later is None else days_later)
    end = start + timedelta(minutes=40)
    made = [course.Checkin(i, end + timedelta(hours=hours), mood, severities)
            for i, (hours, mood, severities) in enumerate(checkins, start=number * 100)]
    return course.summarize(infusion_id=number, number=number, start=start, end=end,
                            checkins=made, now=now, flags=flags)


ROUGH = [(1, 4, {"dizziness": 3, "nausea": 2}), (2, 5, {"dizziness": 2}),
         (4, 5, {"dizziness": 1, "headache": 1}), (8, 6, {}), (24, 6, {})]
EASIER = [(1, 5, {"dizziness": 2}), (2, 6, {}), (4, 7, {"headache": 1}), (8, 7, {}),
          (24, 8, {})]


def test_an_infusion_is_summed_up_from_its_check_ins():
    summary = infusion(1, ROUGH)
    assert summary.checkin_count == 5
    assert (summary.mood_first, summary.mood_last, summary.mood_low) == (4, 6, 4)
    dizziness = summary.symptom("dizziness")
    assert (dizziness.peak, dizziness.last_hours, dizziness.settled) == (3, 4, True)
    assert dizziness.peak_label == "Severe" and dizziness.last_phrase == "last reported at hour 4"
    assert summary.score == 3 + 2 + 1  # dizziness, nausea, headache at their worst
    assert [s.code for s in summary.symptoms] == ["nausea", "dizziness", "headache"]  # catalogue order


def test_a_symptom_still_there_at_the_last_check_in_has_not_settled():
    summary = infusion(1, [(1, 5, {"fatigue": 2}), (3, 5, {"fatigue": 1})])
    assert not summary.symptom("fatigue").settled
    assert "still there at the last check-in" in summary.symptom("fatigue").sentence


def test_no_check_ins_means_no_numbers():
    summary = infusion(1, [])
    assert not summary.has_checkins and summary.score == 0
    assert summary.mood_first is None and summary.symptoms == ()


def test_the_sentence_compares_the_latest_with_the_one_before():
    sentence = course.comparison(infusion(2, EASIER), infusion(1, ROUGH))
    assert sentence == ("Fewer side effects than your last infusion (score 3, was 6); "
                        "dizziness settled 3 hours sooner; mood at the last check-in was 8, "
                        "up from 6.")


def test_more_side_effects_and_later_settling_are_said_as_plainly():
    sentence = course.comparison(infusion(2, ROUGH), infusion(1, EASIER), whose="the")
    assert sentence.startswith("More side effects than the infusion before (score 6, was 3)")
    assert "dizziness settled 3 hours later" in sentence and "down from 8" in sentence


def test_the_same_score_and_mood():
    sentence = course.comparison(infusion(2, ROUGH), infusion(1, ROUGH))
    assert sentence == ("About the same side effects as your last infusion (score 6, was 6); "
                        "mood at the last check-in was 6, as last time.")


def test_while_the_24_hours_run_it_says_so_far():
    now = START + timedelta(days=3, hours=5)
    latest = infusion(2, EASIER[:3], now=now)
    assert latest.running
    assert course.comparison(latest, infusion(1, ROUGH)).startswith("So far, fewer side effects")


def test_nothing_to_compare():
    assert course.comparison(infusion(1, ROUGH), None) is None
    assert "nothing to compare" in course.comparison(infusion(2, []), infusion(1, ROUGH))
    assert "nothing to compare" in course.comparison(infusion(2, ROUGH), infusion(1, []))


def test_a_change_under_an_hour_or_an_unsettled_symptom_is_not_claimed():
    before = infusion(1, [(1, 5, {"nausea": 1}), (2, 5, {})])
    after = infusion(2, [(1.5, 5, {"nausea": 1}), (2, 5, {})])
    assert "settled" not in course.comparison(after, before)
    still = infusion(3, [(1, 5, {"nausea": 1}), (8, 5, {"nausea": 1})])
    assert "settled" not in course.comparison(still, before)


severities = st.dictionaries(st.sampled_from(catalogue.CODES), st.integers(0, 4), max_size=4)
checkins = st.lists(st.tuples(st.floats(-0.5, 26), st.integers(0, 10), severities), max_size=6)


@settings(max_examples=150, deadline=None)
@given(checkins, checkins, st.sampled_from(["your", "the"]))
def test_the_sentence_is_one_sentence_and_never_advice(first, second, whose):
    sentence = course.comparison(infusion(2, second), infusion(1, first), whose)
    assert sentence.endswith(".") and sentence.count(".") == 1 and sentence[0].isupper()
    assert not ADVICE.search(sentence), sentence


def test_the_chart_has_one_column_per_infusion_and_words_for_it():
    summaries = [infusion(1, ROUGH), infusion(2, []), infusion(3, EASIER)]
    chart = course.build_chart(summaries, ZONE)
    assert [c.label for c in chart.columns] == ["1", "2", "3"]
    rough, empty, easier = chart.columns
    assert not empty.has_checkins and empty.mood_y is None
    assert rough.bar_height == pytest.approx(2 * easier.bar_height, abs=0.2)  # 6 against 3
    assert rough.bar_y + rough.bar_height == chart.score_base
    assert easier.mood_y < rough.mood_y  # mood 8 drawn higher than 6
    assert rough.low_y is not None and easier.low_y is not None
    assert chart.description == (
        "Infusions 1 to 3, from 2 Mar 2026 to 8 Mar 2026. Side-effect score 6 after infusion 1 "
        "and 3 after infusion 3, highest 6 after infusion 1. Mood at the last check-in went "
        "from 6 to 8. 1 infusion without check-ins.")
    assert [(row.number, row.score, row.mood) for row in chart.table] == [
        (1, "6", "first 4, last 6, lowest 4"), (2, "No check-ins", "—"),
        (3, "3", "first 5, last 8, lowest 5")]


def test_the_chart_keeps_numbers_clear_of_the_heading_and_inside_the_view():
    chart = course.build_chart([infusion(n, ROUGH) for n in range(1, 13)], ZONE)
    assert len(chart.columns) == 12
    for column in chart.columns:
        assert column.score_y - 12 > chart.score_label.y  # a 12-unit digit above its bar
        assert chart.plot_left < column.bar_x and column.bar_x + column.bar_width < chart.plot_right
    assert chart.axis_title.y < chart.height and all(y <= chart.axis_y for y in chart.mood_grid)


def test_an_empty_course_draws_nothing():
    chart = course.build_chart([], ZONE)
    assert chart.is_empty and chart.description == "No infusions yet."


def test_dates_and_ranges():
    assert course.day_and_time(START, ZONE) == "Mon 2 Mar 2026, 9:00 am"
    assert course.date_range(START, START + timedelta(days=14), ZONE) == "2 Mar 2026 to 16 Mar 2026"
    assert course.date_range(START, START, ZONE) == "2 Mar 2026"
