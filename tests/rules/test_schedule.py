from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from diary.rules import clock
from diary.rules.schedule import (
    DEFAULT_LENGTH_MINUTES,
    SLOT_BOUNDS_HOURS,
    SLOT_HOURS,
    InfusionWindow,
    checkin_hour,
    hour_label,
    hours_passed_sentence,
    hours_since_end,
    is_length,
    missed_count,
    slots,
    start_problem,
)

START = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
END = START + timedelta(minutes=DEFAULT_LENGTH_MINUTES)
SECOND = timedelta(seconds=1)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def states(schedule) -> tuple[str, ...]:
    return tuple(slot.state for slot in schedule)


def test_end_is_start_plus_length():
    assert InfusionWindow(START, 40).end == datetime(2026, 3, 10, 9, 40, tzinfo=timezone.utc)
    assert InfusionWindow(START, 240).end == datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)


def test_accepted_range_runs_from_start_to_26_hours_after_end():
    window = InfusionWindow(START, 40)
    assert (window.start, window.accepts_until) == (START, END + hours(26))


def test_a_window_reads_a_stored_infusion():
    row = {"started_at": clock.to_db(START), "length_minutes": 40}
    assert InfusionWindow.of(row) == InfusionWindow(START, 40)


@pytest.mark.parametrize("at, accepted", [
    (START - SECOND, False),
    (START, True),
    (END - SECOND, True),
    (END + hours(24), True),
    (END + hours(26), True),
    (END + hours(26) + SECOND, False),
])
def test_checkins_accepted_from_start_until_26_hours_after_end(at, accepted):
    assert InfusionWindow(START, 40).accepts(at) is accepted


@pytest.mark.parametrize("length, valid", [
    (4, False), (5, True), (40, True), (240, True), (241, False),
    (0, False), (-40, False), (40.0, False), ("40", False), (True, False), (None, False),
])
def test_length_bounds(length, valid):
    assert is_length(length) is valid
    assert (start_problem(START, length, START) is None) is valid


def test_length_problem_names_the_bounds():
    assert start_problem(START, 241, START) == "The infusion length must be between 5 and 240 minutes."


@pytest.mark.parametrize("start_from_now, allowed", [
    (-hours(30), True),
    (timedelta(0), True),
    (timedelta(minutes=5), True),
    (timedelta(minutes=5) + SECOND, False),
    (hours(2), False),
])
def test_start_at_most_5_minutes_in_the_future(start_from_now, allowed):
    now = START
    problem = start_problem(now + start_from_now, 40, now)
    assert (problem is None) is allowed
    if not allowed:
        assert "future" in problem


@pytest.mark.parametrize("since_end, label, hour", [
    (-hours(0.5), "During infusion", None),
    (-SECOND, "During infusion", None),
    (timedelta(0), "Hour 0", 0),
    (hours(1) - SECOND, "Hour 0", 0),
    (hours(1), "Hour 1", 1),
    (hours(3), "Hour 3", 3),
    (hours(4) - SECOND, "Hour 3", 3),
    (hours(24), "Hour 24", 24),
    (hours(26), "Hour 26", 26),
])
def test_hour_labels_floor_the_hours_since_end(since_end, label, hour):
    assert hour_label(END, END + since_end) == label
    assert checkin_hour(END, END + since_end) == hour


def test_hours_since_end_is_fractional_and_negative_during_infusion():
    assert hours_since_end(END, END + timedelta(minutes=90)) == 1.5
    assert hours_since_end(END, END - timedelta(minutes=15)) == -0.25


@pytest.mark.parametrize("now, state", [
    (START - SECOND, "upcoming"),
    (START, "during"),
    (END - SECOND, "during"),
    (END, "open"),
    (END + hours(24) - SECOND, "open"),
    (END + hours(24), "late"),
    (END + hours(26), "late"),
    (END + hours(26) + SECOND, "closed"),
])
def test_window_state(now, state):
    assert InfusionWindow(START, 40).state(now) == state


def test_check_ins_editable_until_48_hours_after_the_window():
    window = InfusionWindow(START, 40)
    assert window.editable_until == END + hours(72)
    assert window.is_editable(END + hours(72)) and not window.is_editable(END + hours(72) + SECOND)


def test_slot_ranges_are_a_tolerance_around_each_due_time_and_never_overlap():
    assert SLOT_HOURS == (1, 2, 4, 8, 12, 24)
    assert SLOT_BOUNDS_HOURS == ((0.5, 1.5), (1.5, 2.5), (3, 5), (6.5, 9.5), (10, 14), (22, 26))
    for (opens, closes), due in zip(SLOT_BOUNDS_HOURS, SLOT_HOURS):
        assert opens < due < closes and due - opens == closes - due
    for (_, closes), (opens, _) in zip(SLOT_BOUNDS_HOURS, SLOT_BOUNDS_HOURS[1:]):
        assert closes <= opens
    assert SLOT_BOUNDS_HOURS[-1][1] == 26  # the acceptance limit


def test_slots_carry_due_times_and_ranges():
    schedule = slots(END, [], END)
    assert [slot.hours for slot in schedule] == [1, 2, 4, 8, 12, 24]
    assert [slot.due_at for slot in schedule] == [END + hours(h) for h in SLOT_HOURS]
    assert [(slot.starts_at, slot.ends_at) for slot in schedule] == [
        (END + hours(opens), END + hours(closes)) for opens, closes in SLOT_BOUNDS_HOURS]


@pytest.mark.parametrize("checkins, now, expected", [
    ([], -hours(0.5), ("next", "later", "later", "later", "later", "later")),
    ([-hours(0.25), hours(0.25)], hours(0.5), ("next", "later", "later", "later", "later", "later")),
    ([hours(1)], hours(5), ("done", "missed", "missed", "next", "later", "later")),
    ([], hours(1.5) - SECOND, ("now", "next", "later", "later", "later", "later")),
    ([], hours(1.5), ("missed", "next", "later", "later", "later", "later")),
    ([], hours(4.5), ("missed", "missed", "now", "next", "later", "later")),
    ([], hours(26), ("missed",) * 5 + ("now",)),
    ([], hours(26) + SECOND, ("missed",) * 6),
    ([hours(0.5)], hours(0.5), ("done", "next", "later", "later", "later", "later")),
    ([hours(0.5) - SECOND], hours(0.5), ("next", "later", "later", "later", "later", "later")),
    ([hours(1.5)], hours(1.5), ("missed", "done", "next", "later", "later", "later")),
    ([hours(3)], hours(3), ("missed", "missed", "done", "next", "later", "later")),
    ([hours(6)], hours(7), ("missed", "missed", "missed", "next", "later", "later")),
    ([hours(18)], hours(18), ("missed",) * 5 + ("next",)),
    ([hours(26)], hours(26), ("missed",) * 5 + ("done",)),
    ([hours(26) + SECOND], hours(27), ("missed",) * 6),
    ([hours(h) for h in SLOT_HOURS], hours(24), ("done",) * 6),
    ([hours(2), hours(2.5), hours(9)], hours(9), ("missed", "done", "missed", "done", "next", "later")),
])
def test_slot_states(checkins, now, expected):
    schedule = slots(END, [END + offset for offset in checkins], END + now)
    assert states(schedule) == expected
    assert missed_count(schedule) == expected.count("missed")


def test_hour_8_is_not_done_by_a_check_in_at_hour_6():
    schedule = slots(END, [END + hours(6)], END + hours(10))
    assert states(schedule)[2:4] == ("missed", "missed")


def test_an_infusion_recorded_after_the_fact_has_not_recorded_slots_not_missed_ones():
    recorded = END + hours(5)
    schedule = slots(END, [], END + hours(10), recorded_at=recorded)
    assert states(schedule) == ("not_recorded", "not_recorded", "not_recorded", "missed", "next",
                                "later")
    assert missed_count(schedule) == 1
    # Recorded before the infusion ended: every slot it did not check in for was missed.
    assert states(slots(END, [], END + hours(10), recorded_at=START)) == (
        "missed", "missed", "missed", "missed", "next", "later")
    # A check-in typed in afterwards still makes a past slot done.
    assert states(slots(END, [END + hours(1)], END + hours(10), recorded_at=recorded))[0] == "done"


def test_the_next_suggested_check_in_is_never_in_the_past():
    checkin_sets = [[], [END + hours(1)], [END + hours(2), END + hours(8)]]
    for minutes in range(-60, 27 * 60, 7):
        now = END + timedelta(minutes=minutes)
        for times in checkin_sets:
            schedule = slots(END, times, now)
            upcoming = [slot for slot in schedule if slot.state == "next"]
            assert len(upcoming) <= 1
            assert all(slot.due_at > now for slot in upcoming), (minutes, times)
            assert all(slot.due_at <= now and not slot.has_passed(now)
                       for slot in schedule if slot.state == "now")


def test_slots_accept_any_iterable_of_times():
    schedule = slots(END, (END + hours(h) for h in (1, 2)), END + hours(2))
    assert states(schedule)[:3] == ("done", "done", "next")


def test_slot_is_frozen():
    slot = slots(END, [], END)[0]
    with pytest.raises(FrozenInstanceError):
        slot.state = "done"


@pytest.mark.parametrize("since_end, sentence", [
    (-SECOND, "Your infusion has not ended yet."),
    (timedelta(0), "Your infusion ended less than a minute ago."),
    (timedelta(seconds=59), "Your infusion ended less than a minute ago."),
    (timedelta(minutes=1), "Your infusion ended 1 minute ago."),
    (timedelta(minutes=45), "Your infusion ended 45 minutes ago."),
    (timedelta(minutes=59, seconds=59), "Your infusion ended 59 minutes ago."),
    (hours(1), "It is 1 hour since your infusion ended."),
    (hours(3.9), "It is 3 hours since your infusion ended."),
    (hours(25), "It is 25 hours since your infusion ended."),
])
def test_hours_passed_sentence(since_end, sentence):
    assert hours_passed_sentence(END, END + since_end) == sentence


NEW_YORK = "America/New_York"


def wall_clock(moment: datetime) -> str:
    return clock.local(moment, NEW_YORK).strftime("%m-%d %H:%M %Z")


def test_slots_across_spring_forward_are_elapsed_hours():
    end = clock.from_local(datetime(2026, 3, 7, 20, 0), NEW_YORK)
    assert end == datetime(2026, 3, 8, 1, 0, tzinfo=timezone.utc)
    schedule = slots(end, [], end)
    assert [slot.due_at - end for slot in schedule] == [hours(h) for h in SLOT_HOURS]
    assert [wall_clock(slot.due_at) for slot in schedule] == [
        "03-07 21:00 EST", "03-07 22:00 EST", "03-08 00:00 EST",
        "03-08 05:00 EDT", "03-08 09:00 EDT", "03-08 21:00 EDT",
    ]


def test_slots_across_fall_back_are_elapsed_hours():
    end = clock.from_local(datetime(2026, 10, 31, 20, 0), NEW_YORK)
    assert end == datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)
    schedule = slots(end, [], end)
    assert [slot.due_at - end for slot in schedule] == [hours(h) for h in SLOT_HOURS]
    assert [wall_clock(slot.due_at) for slot in schedule] == [
        "10-31 21:00 EDT", "10-31 22:00 EDT", "11-01 00:00 EDT",
        "11-01 03:00 EST", "11-01 07:00 EST", "11-01 19:00 EST",
    ]


def test_hour_label_counts_elapsed_time_not_wall_clock_across_spring_forward():
    end = clock.from_local(datetime(2026, 3, 7, 20, 0), NEW_YORK)
    at = clock.from_local(datetime(2026, 3, 8, 3, 30), NEW_YORK)
    assert hour_label(end, at) == "Hour 6"
    assert states(slots(end, [at], at))[3] == "done"


def test_repeated_hour_at_fall_back_counts_both_passes():
    end = clock.from_local(datetime(2026, 10, 31, 20, 0), NEW_YORK)
    first_pass = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo(NEW_YORK), fold=0).astimezone(timezone.utc)
    second_pass = first_pass + hours(1)
    assert wall_clock(second_pass) == "11-01 01:30 EST"
    assert (hour_label(end, first_pass), hour_label(end, second_pass)) == ("Hour 5", "Hour 6")
    assert states(slots(end, [second_pass], second_pass))[3] == "done"


def test_late_window_and_acceptance_across_spring_forward():
    start = clock.from_local(datetime(2026, 3, 7, 19, 20), NEW_YORK)
    last_accepted = clock.from_local(datetime(2026, 3, 8, 23, 0), NEW_YORK)
    window = InfusionWindow(start, 40)
    assert window.accepts(last_accepted)
    assert not window.accepts(last_accepted + SECOND)
    assert window.state(clock.from_local(datetime(2026, 3, 8, 21, 0), NEW_YORK)) == "late"


@pytest.mark.parametrize("now_utc, expected_utc", [
    (datetime(2026, 11, 1, 5, 50, tzinfo=timezone.utc), datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)),
    (datetime(2026, 11, 1, 6, 40, tzinfo=timezone.utc), datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)),
])
def test_a_time_typed_in_the_repeated_hour_is_the_latest_one_already_past(monkeypatch, now_utc,
                                                                          expected_utc):
    monkeypatch.setattr(clock, "now", lambda: now_utc)
    assert clock.from_local(datetime(2026, 11, 1, 1, 30), NEW_YORK) == expected_utc
