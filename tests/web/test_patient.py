"""The patient's diary over HTTP: infusions, check-ins, edits, reminders and every bad input."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from icalendar import Calendar

from diary.rules import clock

from tests.helpers import join_care_team, query, sql_statements

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York (EDT)
STYLE = (Path(__file__).resolve().parents[2] / "static" / "style.css").read_text()


def local(moment, zone="America/New_York"):
    return clock.local(moment, zone).strftime("%Y-%m-%dT%H:%M")


def hours_ago(hours, minutes=0):
    return NOW - timedelta(hours=hours, minutes=minutes)


def record(client, started="2026-03-10T07:00", length="40", note=""):
    return client.post("/infusions/new", data={
        "started_at": started, "length_minutes": length, "note": note,
    })


def check_in(client, infusion_id=1, **fields):
    data = {"mood": "6", "at": local(NOW), "shared": "y"}
    data.update(fields)
    return client.post(f"/infusions/{infusion_id}/check-in", data={
        key: value for key, value in data.items() if value is not None
    })


def count(app, table):
    return query(app, f"SELECT count(*) FROM {table}")[0][0]


def errors(response):
    return re.findall(r'class="error[^"]*"[^>]*>([^<]*)', response.data.decode())


@pytest.fixture
def diary_client(fake_clock, patient_client):
    fake_clock.set(NOW)
    return patient_client


def test_empty_diary(diary_client):
    html = diary_client.get("/diary").data.decode()
    assert "No infusion recorded yet." in html and "Record an infusion" in html


def test_infusion_form_words_and_defaults(diary_client):
    html = diary_client.get("/infusions/new").data.decode()
    for label in ("Infusion started", "Length (minutes)", "Note"):
        assert re.search(rf"<label[^>]*>{re.escape(label)}</label>", html), label
    assert "Save infusion" in html
    assert 'value="2026-03-10T10:00"' in html  # now, in the patient's zone
    assert 'value="40"' in html


def test_record_infusion_stores_utc_and_end(diary_client, app):
    response = record(diary_client, started="2026-03-10T07:00", length="45", note="Clinic A")
    assert response.status_code == 302
    row = query(app, "SELECT * FROM infusions")[0]
    assert row["started_at"] == "2026-03-10 11:00:00"
    assert row["ends_at"] == "2026-03-10 11:45:00"
    assert row["accepts_until"] == "2026-03-11 13:45:00"
    assert row["note"] == "Clinic A"
    page = diary_client.get(response.headers["Location"]).data.decode()
    assert "Infusion of Tue 10 Mar, 7:00 am" in page
    assert "It is 2 hours since your infusion ended." in page


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"started": "2026-03-10T10:06"}, "started_at", "in the future"),
        ({"started": "not a time"}, "started_at", "Enter a date and a time"),
        ({"started": ""}, "started_at", "Enter a date and a time"),
        ({"length": "4"}, "length_minutes", "from 5 to 240"),
        ({"length": "241"}, "length_minutes", "from 5 to 240"),
        ({"length": "forty"}, "length_minutes", "from 5 to 240"),
        ({"note": "x" * 201}, "note", "under 200"),
        ({"started": "0026-03-10T09:30"}, "started_at", "check the year"),
        ({"started": "9999-12-31T23:59"}, "started_at", "check the year"),
        ({"started": "2024-03-10T09:30"}, "started_at", "more than a year ago"),
    ],
)
def test_infusion_bad_input(diary_client, app, fields, field, message):
    response = record(diary_client, **fields)
    assert response.status_code == 200
    html = response.data.decode()
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html), errors(response)
    if "started" in fields and fields["started"]:
        assert f'value="{fields["started"]}"' in html
    assert count(app, "infusions") == 0


def test_infusion_five_minutes_ahead_is_accepted(diary_client):
    assert record(diary_client, started="2026-03-10T10:05").status_code == 302


def test_overlapping_infusion_is_refused(diary_client, app):
    record(diary_client, started="2026-03-09T09:00")
    response = record(diary_client, started="2026-03-10T09:00")
    assert "overlaps another infusion" in response.data.decode()
    assert count(app, "infusions") == 1
    assert record(diary_client, started="2026-03-03T09:00").status_code == 302  # a week earlier


def test_checkin_form_words(diary_client):
    record(diary_client)
    html = diary_client.get("/infusions/1/check-in").data.decode()
    assert re.search(r"<legend>Dizzy or spinning</legend>", html)
    for choice in ("None", "Mild", "Moderate", "Severe", "Very severe"):
        assert re.search(rf'<label class="choice"><input[^>]*name="symptom_dizziness"[^>]*>'
                         rf'<span>{choice}</span></label>', html)
    assert "Hide this note from my caregivers" in html
    assert "<legend>Mood</legend>" in html
    moods = re.findall(r'name="mood" type="radio" value="(\d+)"', html)
    assert moods == [str(n) for n in range(11)]
    assert not re.search(r'name="mood"[^>]*checked', html)  # no mood chosen in advance
    assert re.search(r'checked[^>]*name="symptom_dizziness"[^>]*value="0"', html)
    for label in ("Time of check-in", "Note", "Share with my caregivers"):
        assert re.search(rf"<label[^>]*>{label}</label>", html), label
    assert "Save check-in" in html
    assert re.search(r'name="shared"[^>]*checked|checked[^>]*name="shared"', html)


def test_nothing_to_report_needs_only_the_mood(diary_client, app):
    record(diary_client)
    response = diary_client.post("/infusions/1/check-in", data={"mood": "7", "at": local(NOW), "shared": "y"})
    assert response.status_code == 302
    row = query(app, "SELECT * FROM checkins")[0]
    assert row["mood"] == 7 and row["shared"] == 1
    severities = query(app, "SELECT symptom, severity FROM checkin_symptoms")
    assert len(severities) == 14 and {r["severity"] for r in severities} == {0}


def test_saved_checkin_shows_in_diary_with_hour(diary_client, app):
    record(diary_client, started="2026-03-10T07:00")
    check_in(diary_client, symptom_dizziness="2", symptom_headache="1", note="Bit woozy")
    check_in(diary_client, at=local(hours_ago(2, 30)), mood="4")
    html = diary_client.get("/diary").data.decode()
    hours = re.findall(r'<span class="hour">([^<]+)</span>', html)
    assert hours == ["Hour 2", "During infusion"]  # newest first; 7:40 end, 10:00 and 7:30
    assert "Dizzy or spinning: <strong>Moderate</strong>" in html
    assert "Headache: <strong>Mild</strong>" in html and "Bit woozy" in html
    assert "It is 2 hours since your infusion ended." in html
    assert query(app, "SELECT count(*) FROM audit WHERE action='checkin_saved'")[0][0] == 2


def test_during_infusion_label(diary_client):
    record(diary_client, started="2026-03-10T09:40")
    check_in(diary_client, at="2026-03-10T09:50")
    assert "During infusion" in diary_client.get("/diary").data.decode()


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"mood": None}, "mood", "Choose your mood"),
        ({"mood": "11"}, "mood", "Choose your mood"),
        ({"mood": "-1"}, "mood", "Choose your mood"),
        ({"mood": "happy"}, "mood", "Choose your mood"),
        ({"symptom_nausea": "5"}, "symptom_nausea", "Choose None, Mild"),
        ({"symptom_nausea": "bad"}, "symptom_nausea", "Choose None, Mild"),
        ({"note": "x" * 2001}, "note", "under 2,000"),
        ({"at": "2026-03-10T10:01"}, "at", "in the future"),
        ({"at": "2026-03-10T06:59"}, "at", "from its start until 26 hours"),
        ({"at": "yesterday"}, "at", "Enter a date and a time"),
    ],
)
def test_checkin_bad_input(diary_client, app, fields, field, message):
    record(diary_client)
    response = check_in(diary_client, **{"note": "kept words", **fields})
    assert response.status_code == 200
    html = response.data.decode()
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html), errors(response)
    if field != "note":
        assert "kept words" in html
    if field != "mood" and "mood" not in fields:
        assert re.search(r'checked[^>]*name="mood"[^>]*value="6"', html)
    assert count(app, "checkins") == 0 and count(app, "checkin_symptoms") == 0


def test_checkin_too_late_after_26_hours(diary_client, app, fake_clock, users, patient):
    record(diary_client, started="2026-03-09T07:00")  # ended 07:40 yesterday
    fake_clock.set(NOW.replace(hour=16))  # 26h20m after the end
    diary_client = users.client(patient)
    response = check_in(diary_client, at=local(fake_clock.current))
    assert "26 hours" in response.data.decode()
    ok = check_in(diary_client, at="2026-03-10T09:40")  # exactly 26 h after the end
    assert ok.status_code == 302


def test_unknown_symptom_code_is_refused(diary_client, app):
    record(diary_client)
    response = check_in(diary_client, symptom_telepathy="3")
    assert response.status_code == 200
    assert "Unknown symptom: telepathy" in response.data.decode()
    assert count(app, "checkins") == 0


def test_edit_checkin_keeps_a_revision(diary_client, app, patient):
    record(diary_client)
    check_in(diary_client, symptom_dizziness="3", mood="3")
    form = diary_client.get("/check-ins/1/edit").data.decode()
    assert re.search(r'checked[^>]*name="symptom_dizziness"[^>]*value="3"', form)
    response = check_in(diary_client, symptom_dizziness="1", mood="5", note="better")
    assert response.status_code == 302  # a new check-in, for contrast
    response = diary_client.post("/check-ins/1/edit", data={
        "mood": "4", "at": local(NOW), "symptom_dizziness": "1",
    })
    assert response.status_code == 302
    row = query(app, "SELECT mood, shared FROM checkins WHERE id = 1")[0]
    assert (row["mood"], row["shared"]) == (4, 0)
    revision = query(app, "SELECT * FROM checkin_revisions")[0]
    assert revision["action"] == "edit" and revision["revised_by"] == patient["id"]
    assert '"mood": 3' in revision["previous"] and '"dizziness": 3' in revision["previous"]
    assert query(app, "SELECT count(*) FROM audit WHERE action='checkin_edited'")[0][0] == 1


def test_delete_checkin_asks_then_keeps_a_copy(diary_client, app):
    record(diary_client)
    check_in(diary_client)
    assert "Delete the check-in" in diary_client.get("/check-ins/1/delete").data.decode()
    assert diary_client.post("/check-ins/1/delete").status_code == 302
    assert query(app, "SELECT deleted_at FROM checkins")[0][0] is not None
    assert query(app, "SELECT action FROM checkin_revisions")[0][0] == "delete"
    assert "No check-ins yet." in diary_client.get("/infusions/1").data.decode()


def test_checkins_read_only_48_hours_after_the_window(diary_client, app, fake_clock, users, patient):
    record(diary_client, started="2026-03-10T07:00")
    check_in(diary_client)
    fake_clock.set(NOW + timedelta(hours=69, minutes=39))  # the end was 2h20m before NOW
    diary_client = users.client(patient)
    assert diary_client.get("/check-ins/1/edit").status_code == 200
    fake_clock.advance(minutes=2)
    assert diary_client.get("/check-ins/1/edit").status_code == 403
    response = diary_client.post("/check-ins/1/delete")
    assert response.status_code == 403
    assert count(app, "checkin_revisions") == 0
    assert "Edit" not in diary_client.get("/infusions/1").data.decode().split("Check-ins")[-1]


def test_delete_infusion_with_checkins_asks_for_confirmation(diary_client, app):
    record(diary_client)
    check_in(diary_client)
    page = diary_client.get("/infusions/1/delete").data.decode()
    assert "It has 1 check-in" in page
    assert diary_client.post("/infusions/1/delete").status_code == 302
    assert "No infusion recorded yet." in diary_client.get("/diary").data.decode()
    assert query(app, "SELECT count(*) FROM infusions WHERE deleted_at IS NOT NULL")[0][0] == 1


def test_correct_infusion(diary_client, app):
    record(diary_client, started="2026-03-10T07:00")
    form = diary_client.get("/infusions/1/edit").data.decode()
    assert 'value="2026-03-10T07:00"' in form
    response = diary_client.post("/infusions/1/edit", data={
        "started_at": "2026-03-10T06:30", "length_minutes": "50", "note": "",
    })
    assert response.status_code == 302
    assert query(app, "SELECT ends_at FROM infusions")[0][0] == "2026-03-10 11:20:00"


def test_correcting_an_infusion_cannot_strand_its_checkins(diary_client, app):
    record(diary_client, started="2026-03-10T07:00")
    check_in(diary_client, at="2026-03-10T07:10")
    response = diary_client.post("/infusions/1/edit", data={
        "started_at": "2026-03-10T08:00", "length_minutes": "40", "note": "",
    })
    assert "1 of your check-ins would fall outside" in response.data.decode()
    assert query(app, "SELECT started_at FROM infusions")[0][0] == "2026-03-10 11:00:00"


def test_other_patients_records_answer_404_and_write_nothing(diary_client, users, app):
    record(diary_client)
    check_in(diary_client)
    other = users.client(users.create("patient"))
    before = count(app, "audit")
    for path in ("/infusions/1", "/infusions/1/edit", "/infusions/1/delete",
                 "/infusions/1/check-in", "/infusions/1/reminders.ics",
                 "/check-ins/1/edit", "/check-ins/1/delete"):
        assert other.get(path).status_code == 404, path
        assert other.post(path, data={"mood": "1", "at": local(NOW)}).status_code in (404, 405), path
    assert other.post("/check-ins/1/sharing", data={"shared": ""}).status_code == 404
    assert count(app, "checkins") == 1 and count(app, "checkin_revisions") == 0
    assert query(app, "SELECT shared, deleted_at FROM checkins")[0][:] == (1, None)
    assert count(app, "audit") == before
    assert other.get("/infusions/999").status_code == 404


def test_sharing_can_be_changed_later(diary_client, app):
    record(diary_client)
    check_in(diary_client)
    diary_client.post("/check-ins/1/sharing", data={})
    assert query(app, "SELECT shared FROM checkins")[0][0] == 0
    diary_client.post("/check-ins/1/sharing", data={"shared": "y"})
    assert query(app, "SELECT shared FROM checkins")[0][0] == 1


def slot_states(html):
    return re.findall(r'<li class="slot slot-(\w+)">\s*<span class="slot-hour">Hour (\d+)', html)


def test_schedule_of_an_infusion_recorded_after_the_fact(diary_client):
    record(diary_client, started="2026-03-10T05:00")  # ended 05:40, recorded at hour 4
    check_in(diary_client, at="2026-03-10T07:40")  # hour 2
    html = diary_client.get("/diary").data.decode()
    assert slot_states(html) == [("not_recorded", "1"), ("done", "2"), ("now", "4"),
                                 ("next", "8"), ("later", "12"), ("later", "24")]
    assert re.search(r"Hour 1</span>\s*<span[^>]*>.*?</span>\s*<span class=\"slot-state\">"
                     r"Not recorded</span>", html, re.S)
    assert "Missed" not in html
    assert "The hour 4 check-in is due now." in html
    # Never a time in the past: 9:40 am, hour 4, is past at 10:00 am.
    assert ('Next suggested check-in: hour 8, Tue 10 Mar, <span class="nw">1:40 pm</span>.'
            in html)


def test_schedule_of_an_infusion_recorded_in_time_shows_missed(diary_client, fake_clock, users,
                                                                patient):
    record(diary_client, started="2026-03-10T09:50")  # now, 10:00; it ends at 10:30
    fake_clock.advance(hours=3)  # 1:00 pm, hour 2.5
    html = users.client(patient).get("/diary").data.decode()
    assert slot_states(html) == [("missed", "1"), ("missed", "2"), ("next", "4"),
                                 ("later", "8"), ("later", "12"), ("later", "24")]
    assert ('Next suggested check-in: hour 4, Tue 10 Mar, <span class="nw">2:30 pm</span>.'
            in html)


def test_a_check_in_two_hours_early_does_not_count_for_hour_8(diary_client):
    record(diary_client, started="2026-03-09T23:00")  # ended 23:40, now hour 10
    check_in(diary_client, at="2026-03-10T05:40")  # hour 6
    html = diary_client.get("/diary").data.decode()
    assert ("missed", "8") not in slot_states(html)  # recorded after the fact: not recorded
    assert ("done", "8") not in slot_states(html) and ("done", "4") not in slot_states(html)


def test_slot_times_do_not_wrap_inside_themselves(diary_client):
    record(diary_client, started="2026-03-10T07:00")
    html = diary_client.get("/diary").data.decode()
    assert re.search(r'<span class="slot-due">Tue 10 Mar, <span class="nw">\d+:\d\d [ap]m</span>'
                     r'</span>', html)
    assert "white-space: nowrap" in re.search(r"\.nw \{[^}]*\}", STYLE).group(0)


def test_calendar_download(diary_client):
    record(diary_client, started="2026-03-10T07:00")
    response = diary_client.get("/infusions/1/reminders.ics")
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    events = Calendar.from_ical(response.data).walk("VEVENT")
    starts = [event.decoded("DTSTART") for event in events]
    # Now is 14:00 UTC and the infusion ended at 11:40: hours 1 and 2 are past, left out.
    assert starts[0] == datetime(2026, 3, 10, 15, 40, tzinfo=timezone.utc)
    assert len(events) == 4
    assert {str(event["URL"]) for event in events} == {"http://127.0.0.1:5000/infusions/1/check-in"}
    assert 'Add reminders to my calendar' in diary_client.get("/diary").data.decode()


def test_earlier_infusions_are_listed_and_open(diary_client, fake_clock, users, patient):
    record(diary_client, started="2026-03-03T07:00")
    record(diary_client, started="2026-03-10T07:00")
    html = diary_client.get("/diary").data.decode()
    assert "Earlier infusions" in html and 'href="/infusions/1"' in html
    assert diary_client.get("/infusions/1").status_code == 200
    fake_clock.advance(days=5)
    html = users.client(patient).get("/diary").data.decode()
    assert "No infusion recorded yet." not in html  # there are earlier ones
    assert "No diary is open now" in html and 'href="/infusions/2"' in html


def test_settings_change_time_zone_and_sharing_default(diary_client, app):
    html = diary_client.get("/settings").data.decode()
    assert "Time zone" in html
    response = diary_client.post("/settings", data={"time_zone": "Europe/Paris"})
    assert response.status_code == 302
    row = query(app, "SELECT time_zone, share_by_default FROM users WHERE role='patient'")[0]
    assert tuple(row) == ("Europe/Paris", 0)
    record(diary_client, started="2026-03-10T13:00")
    form = diary_client.get("/infusions/1/check-in").data.decode()
    assert not re.search(r'name="shared"[^>]*checked|checked[^>]*name="shared"', form)
    assert 'Tue 10 Mar, <span class="nw">1:00 pm</span>' in diary_client.get("/diary").data.decode()


def test_settings_bad_time_zone(diary_client, app):
    response = diary_client.post("/settings", data={"time_zone": "Nowhere/Land", "share_by_default": "y"})
    assert "Choose a time zone" in response.data.decode()
    assert query(app, "SELECT time_zone FROM users")[0][0] == "America/New_York"


def test_queries_per_diary_page_do_not_grow_with_checkins(diary_client, app):
    record(diary_client, started="2026-03-10T05:00")
    counts = []
    for n in (1, 6):
        for minutes in range(count(app, "checkins"), n):
            assert check_in(diary_client, at=local(hours_ago(0, 10 * minutes))).status_code == 302
        counts.append(len(sql_statements(diary_client, "/diary")))
    assert counts[0] == counts[1]


def test_a_closed_diary_takes_no_new_entries_and_cannot_be_corrected(diary_client, app, fake_clock,
                                                                      users, patient):
    record(diary_client, started="2026-03-10T07:00")
    check_in(diary_client)
    fake_clock.set(NOW + timedelta(hours=70))
    later = users.client(patient)
    before = count(app, "audit")
    for path in ("/infusions/1/check-in", "/infusions/1/edit", "/infusions/1/delete"):
        assert later.get(path).status_code == 403, path
        assert later.post(path, data={"mood": "1", "safety": "yes", "at": "2026-03-10T09:00",
                                      "started_at": "2026-03-10T06:00",
                                      "length_minutes": "40"}).status_code == 403, path
    assert count(app, "checkins") == 1 and count(app, "flags") == 0
    assert count(app, "audit") == before
    page = later.get("/infusions/1").data.decode()
    assert "Edit<span" not in page and "Delete<span" not in page


def test_deleting_an_infusion_keeps_a_revision_of_each_check_in(diary_client, app):
    record(diary_client)
    check_in(diary_client, note="first")
    check_in(diary_client, note="second")
    diary_client.post("/infusions/1/delete")
    revisions = query(app, "SELECT action, previous FROM checkin_revisions ORDER BY id")
    assert [row["action"] for row in revisions] == ["delete", "delete"]
    assert '"note": "first"' in revisions[0]["previous"] + revisions[1]["previous"]


def test_a_diary_that_closes_between_page_and_button_says_so(diary_client, app, monkeypatch):
    record(diary_client)
    check_in(diary_client)
    from diary.services import entries
    monkeypatch.setattr(entries, "can_edit_checkins", lambda infusion, now: False)
    response = diary_client.post("/check-ins/1/delete")
    assert response.status_code == 409 and "diary is closed" in response.data.decode()
    assert query(app, "SELECT deleted_at FROM checkins")[0][0] is None


def test_sharing_words_only_for_a_patient_with_a_caregiver(diary_client, app, users, patient,
                                                           fake_clock):
    record(diary_client, started="2026-03-10T07:00")
    check_in(diary_client, note="a note", note_private="y")
    for path in ("/diary", "/infusions/1"):
        page = diary_client.get(path).data.decode()
        assert "Shared with your caregivers" not in page and "Not shared." not in page, path
        assert "Share this check-in" not in page and "Stop sharing" not in page, path
    carer = users.create("caregiver", name="Sam Lee")
    with app.app_context():
        join_care_team(patient["id"], carer["id"], "caregiver")
    page = diary_client.get("/diary").data.decode()
    assert "Shared with your caregivers." in page and "Stop sharing this check-in" in page
    assert "The note is hidden from your caregivers." in page
    # A closed diary is kept as it is, but what caregivers see can still change.
    fake_clock.set(NOW + timedelta(hours=70))
    page = users.client(patient).get("/infusions/1").data.decode()
    assert "Stop sharing this check-in" in page
