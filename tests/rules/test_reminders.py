from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from diary.rules import clock
from diary.rules.reminders import reminders_ics
from diary.rules.schedule import SLOT_HOURS

END = datetime(2026, 3, 10, 9, 40, tzinfo=timezone.utc)
NOW = datetime(2026, 3, 10, 9, 45, tzinfo=timezone.utc)
HOST = "diary.example.org"


def build(end: datetime = END, now: datetime = NOW, infusion_id: int = 7) -> bytes:
    return reminders_ics(infusion_id=infusion_id, end=end, host=HOST, now=now)


def events(ics: bytes) -> list:
    return Calendar.from_ical(ics).walk("VEVENT")


def test_calendar_header():
    calendar = Calendar.from_ical(build())
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["PRODID"]


def test_one_event_per_suggested_slot():
    found = events(build())
    assert len(found) == 6
    assert [event["SUMMARY"] for event in found] == [f"Diary check-in (hour {h})" for h in SLOT_HOURS]
    for event in found:
        assert "open your diary" in event["DESCRIPTION"].lower()
        assert "how you feel" in event["DESCRIPTION"]


def test_uids_are_stable_across_downloads_and_distinct():
    first = [event["UID"] for event in events(build())]
    again = [event["UID"] for event in events(build(now=NOW + timedelta(minutes=30)))]
    assert first == again
    assert len(set(first)) == 6
    assert first[2] == "infusion-7-hour-4@diary.example.org"


def test_uids_differ_between_infusions():
    assert not {e["UID"] for e in events(build())} & {e["UID"] for e in events(build(infusion_id=8))}


def test_dtstamp_is_now_in_utc():
    for event in events(build()):
        assert event.decoded("DTSTAMP") == NOW


def test_starts_are_utc_due_times_with_a_short_duration():
    ics = build()
    for hours, event in zip(SLOT_HOURS, events(ics)):
        start = event.decoded("DTSTART")
        assert start == END + timedelta(hours=hours)
        assert start.utcoffset() == timedelta(0)
        assert event.decoded("DURATION") == timedelta(minutes=10)
    assert b"DTSTART:20260310T104000Z\r\n" in ics
    assert b"DTSTART:20260311T094000Z\r\n" in ics


@pytest.mark.parametrize("local_end, expected_wall_clock", [
    (datetime(2026, 3, 7, 20, 0), ["21:00", "22:00", "00:00", "05:00", "09:00", "21:00"]),
    (datetime(2026, 10, 31, 20, 0), ["21:00", "22:00", "00:00", "03:00", "07:00", "19:00"]),
])
def test_starts_are_elapsed_hours_across_daylight_saving_changes(local_end, expected_wall_clock):
    end = clock.from_local(local_end, "America/New_York")
    found = events(build(end=end, now=end))
    starts = [event.decoded("DTSTART") for event in found]
    assert starts == [end + timedelta(hours=h) for h in SLOT_HOURS]
    assert all(start.tzinfo is not None and start.utcoffset() == timedelta(0) for start in starts)
    assert [clock.local(start, "America/New_York").strftime("%H:%M") for start in starts] == (
        expected_wall_clock)


def test_an_end_given_in_a_local_zone_is_written_in_utc():
    end = datetime(2026, 3, 7, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    ics = build(end=end, now=end)
    assert b"DTSTART:20260308T020000Z\r\n" in ics
    assert b"TZID" not in ics


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        build(end=END.replace(tzinfo=None))


def test_each_event_alarms_at_its_start():
    for event in events(build()):
        alarms = event.walk("VALARM")
        assert len(alarms) == 1
        alarm = alarms[0]
        assert alarm["ACTION"] == "DISPLAY"
        assert alarm["DESCRIPTION"]
        assert alarm.decoded("TRIGGER") == timedelta(0)


def test_lines_end_in_crlf_and_are_folded():
    ics = build()
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")
    assert ics.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in ics.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))


# Reminders that open the check-in

CHECK_IN = "https://diary.example.org/infusions/7/check-in"


def test_each_event_carries_the_check_in_address_as_its_url_and_in_its_description():
    found = events(reminders_ics(infusion_id=7, end=END, host=HOST, now=NOW,
                                 check_in_url=CHECK_IN))
    assert len(found) == 6
    for event in found:
        assert str(event["URL"]) == CHECK_IN
        assert CHECK_IN in str(event["DESCRIPTION"])
        assert "how you feel" in str(event["DESCRIPTION"])


def test_events_already_past_are_left_out_of_a_new_download():
    later = END + timedelta(hours=5)  # hours 1, 2 and 4 are past; 8, 12 and 24 to come
    found = events(build(now=later))
    assert [event["SUMMARY"] for event in found] == [
        f"Diary check-in (hour {h})" for h in (8, 12, 24)]
    assert all(event.decoded("DTSTART") >= later for event in found)
    assert events(build(now=END + timedelta(hours=25))) == []
