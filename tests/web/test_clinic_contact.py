"""The clinic on every help screen and the loop closed: "Your clinic" with a number to tap, "Add
your clinic" for a patient with none, whether anyone looked at a flag, crisis help that stays,
acknowledging with a look first and "Reopen", the clinician's settings, "Forgot your password?",
and caregivers told only when the patient chose it."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from diary.rules import alerts as alert_rules
from diary.rules import clock

from tests.helpers import join_care_team, query

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)


def local(moment):
    return clock.local(moment, "America/New_York").strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def clinic(app, users, fake_clock):
    """Pat with an infusion three hours ago, Dr Ada Moss in Pat's care team with a phone."""
    fake_clock.set(NOW)
    pat, ada = users.create("patient", name="Pat Lee"), users.create("clinician", name="Dr Ada Moss")
    with app.app_context():
        join_care_team(pat["id"], ada["id"])
    patient, doctor = users.client(pat), users.client(ada)
    assert doctor.post("/clinic/settings", data={"phone": "+1 617 555 0100",
                                                 "email_flags": "y"}).status_code == 302
    patient.post("/infusions/new", data={"started_at": local(NOW - timedelta(hours=3)),
                                         "length_minutes": "40"})
    return {"pat": pat, "ada": ada, "patient": patient, "doctor": doctor}


def check_in(client, **fields):
    data = {"mood": "6", "at": local(NOW), "safety": "no", **fields}
    response = client.post("/infusions/1/check-in", data=data)
    assert response.status_code == 302, response.data
    return response


def flag_ids(app):
    return [row[0] for row in query(app, "SELECT id FROM flags WHERE state = 'open' ORDER BY id")]


# The clinic on every help screen


def test_the_help_page_shows_your_clinic_with_a_number_to_tap(clinic):
    html = clinic["patient"].get("/help").data.decode()
    assert "Your clinic" in html and "Dr Ada Moss" in html
    assert 'href="tel:+16175550100"' in html


def test_an_urgent_answer_shows_your_clinic_on_the_next_screen(clinic):
    response = check_in(clinic["patient"], mood="0")
    html = clinic["patient"].get(response.headers["Location"]).data.decode()
    assert html.index("Thank you for telling us") < html.index("Your clinic")
    assert 'href="tel:+16175550100"' in html


def test_a_patient_without_a_clinician_is_told_to_add_one(users, fake_clock):
    fake_clock.set(NOW)
    lone = users.client(users.create("patient", name="Lou Park"))
    html = lone.get("/diary").data.decode()
    assert "Add your clinic" in html and "Your clinic" not in html
    assert "Your clinic" not in lone.get("/help").data.decode()


def test_a_lasting_symptom_without_a_clinician_never_says_the_clinic_will_see_it(users, fake_clock):
    fake_clock.set(NOW)
    lone = users.client(users.create("patient"))
    lone.post("/infusions/new", data={"started_at": local(NOW - timedelta(hours=9)),
                                      "length_minutes": "40"})
    response = check_in(lone, symptom_dizziness="2")
    html = lone.get(response.headers["Location"]).data.decode()
    assert "lasting longer than usual" in html
    assert "Your clinic will see" not in html and "No clinic sees this diary" in html


@pytest.mark.parametrize("phone", ["call me", "12", "+1 (617) 555-0100 ext 5", "0" * 41,
                                   "<script>", "+++1"])
def test_a_phone_that_is_not_a_phone_number_is_refused_and_kept(clinic, app, phone):
    response = clinic["doctor"].post("/clinic/settings", data={"phone": phone})
    html = response.data.decode()
    assert response.status_code == 400
    assert "Enter a phone number patients can call" in html
    assert query(app, "SELECT phone FROM users WHERE id = ?", (clinic["ada"]["id"],))[0][0] \
        == "+1 617 555 0100"


def test_e_mail_about_flags_can_be_turned_off(clinic, app):
    assert clinic["doctor"].post("/clinic/settings", data={"phone": ""}).status_code == 302
    row = query(app, "SELECT phone, email_flags FROM users WHERE id = ?", (clinic["ada"]["id"],))
    assert tuple(row[0]) == ("", 0)
    assert "E-mail me about flags" in clinic["doctor"].get("/clinic/settings").data.decode()


# The loop closed for the patient


def test_the_patient_sees_whether_anyone_looked_at_a_flag(clinic, app):
    check_in(clinic["patient"], mood="1")
    assert "Your care team has not seen this yet" in clinic["patient"].get("/diary").data.decode()
    flag_id = flag_ids(app)[0]
    clinic["doctor"].post(f"/clinic/flags/{flag_id}/acknowledge",
                          data={"note": "Called, all fine", "confirmed": "yes"})
    html = clinic["patient"].get("/diary").data.decode()
    assert "Seen by Dr Ada Moss at Tue 10 Mar, 10:00 am" in html
    assert "Called, all fine" not in html


def test_a_note_is_shown_to_the_patient_only_when_the_clinician_says_so(clinic, app):
    check_in(clinic["patient"], mood="1")
    clinic["doctor"].post(f"/clinic/flags/{flag_ids(app)[0]}/acknowledge", data={
        "note": "Rest today; we call tomorrow", "note_for_patient": "y", "confirmed": "yes"})
    assert "Rest today; we call tomorrow" in clinic["patient"].get("/diary").data.decode()


def test_crisis_help_stays_on_the_home_until_acknowledged(clinic, app):
    check_in(clinic["patient"], safety="yes")
    home = clinic["patient"].get("/diary").data.decode()
    assert "Help is there, right now" in home and 'href="tel:988"' in home
    clinic["doctor"].get(f"/patients/{clinic['pat']['id']}")
    clinic["doctor"].post(f"/clinic/flags/{flag_ids(app)[0]}/acknowledge", data={})
    assert "Help is there, right now" not in clinic["patient"].get("/diary").data.decode()


def test_crisis_help_leaves_the_home_after_a_day(clinic, fake_clock):
    check_in(clinic["patient"], safety="yes")
    fake_clock.advance(hours=24, minutes=1)
    assert "Help is there, right now" not in clinic["patient"].get("/diary").data.decode()


# The clinician's side


def test_acknowledging_an_urgent_flag_unseen_asks_to_confirm(clinic, app):
    check_in(clinic["patient"], mood="0")
    flag_id = flag_ids(app)[0]
    asked = clinic["doctor"].post(f"/clinic/flags/{flag_id}/acknowledge", data={"note": "ok"})
    assert asked.status_code == 200 and "Acknowledge without looking?" in asked.data.decode()
    assert flag_ids(app) == [flag_id]
    clinic["doctor"].get(f"/patients/{clinic['pat']['id']}")
    done = clinic["doctor"].post(f"/clinic/flags/{flag_id}/acknowledge", data={"note": "ok"})
    assert done.status_code == 302 and flag_ids(app) == []


def test_an_acknowledgement_can_be_reopened_for_24_hours(clinic, app, fake_clock, users):
    check_in(clinic["patient"], mood="1")
    flag_id = flag_ids(app)[0]
    clinic["doctor"].post(f"/clinic/flags/{flag_id}/acknowledge", data={"confirmed": "yes"})
    page = clinic["doctor"].get("/clinic/flags").data.decode()
    assert "Acknowledged in the last 24 hours" in page and ">Reopen</button>" in page
    assert clinic["doctor"].post(f"/clinic/flags/{flag_id}/reopen").status_code == 302
    assert flag_ids(app) == [flag_id]
    clinic["doctor"].post(f"/clinic/flags/{flag_id}/acknowledge", data={"confirmed": "yes"})
    fake_clock.advance(hours=24, seconds=1)
    next_day = users.client(clinic["ada"])
    assert next_day.post(f"/clinic/flags/{flag_id}/reopen").status_code == 302
    assert flag_ids(app) == []
    outcomes = [row[0] for row in query(app, "SELECT outcome FROM audit WHERE action ="
                                             " 'flag_reopened' ORDER BY id")]
    assert outcomes == ["ok", "not_reopenable"]


def test_someone_elses_flag_cannot_be_reopened(clinic, app, users):
    check_in(clinic["patient"], mood="1")
    flag_id = flag_ids(app)[0]
    clinic["doctor"].post(f"/clinic/flags/{flag_id}/acknowledge", data={"confirmed": "yes"})
    stranger = users.client(users.create("clinician"))
    assert stranger.post(f"/clinic/flags/{flag_id}/reopen").status_code == 404
    assert stranger.post("/clinic/flags/999999/reopen").status_code == 404
    assert flag_ids(app) == []


def test_a_clinician_with_open_flags_lands_on_flags_and_the_menu_counts_them(clinic, users):
    check_in(clinic["patient"], mood="0", symptom_headache="4")
    doctor = users.client(clinic["ada"])
    landing = doctor.get("/", follow_redirects=True)
    assert landing.request.path == "/clinic/flags"
    assert re.search(r'href="/clinic/flags"[^>]*>Flags \(2\)</a>', landing.data.decode())


# "Forgot your password?"


@pytest.fixture
def mail_app(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=2525)
    return app


def test_forgot_password_answers_the_same_and_queues_one_email(mail_app, users):
    user = users.create("patient", email="pat@example.com")
    client = mail_app.test_client()
    assert "Forgot your password?" in client.get("/sign-in").data.decode()
    known = client.post("/forgot", data={"email": "pat@example.com"}).data.decode()
    unknown = client.post("/forgot", data={"email": "nobody@example.com"}).data.decode()
    assert "If pat@example.com has an account" in known
    assert known.replace("pat@example.com", "X") == unknown.replace("nobody@example.com", "X")
    again = client.post("/forgot", data={"email": "pat@example.com"})
    assert again.status_code == 200
    rows = query(mail_app, "SELECT recipient_id, kind FROM outbox")
    assert [tuple(row) for row in rows] == [(user["id"], "password_reset")]


def test_forgot_password_needs_a_mail_server(client):
    assert "Ask your clinic for a reset link" in client.get("/sign-in").data.decode()
    assert client.get("/forgot").status_code == 404


def test_forgot_password_refuses_a_bad_address_beside_the_field(mail_app):
    response = mail_app.test_client().post("/forgot", data={"email": "not an address"})
    assert "Enter an email address like name@example.com." in response.data.decode()
    assert query(mail_app, "SELECT count(*) FROM outbox")[0][0] == 0


# Caregivers, only when the patient chose it


def test_caregivers_are_told_only_when_the_patient_turned_it_on(clinic, app, users):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=2525)
    kim = users.create("caregiver", name="Kim Lee")
    with app.app_context():
        join_care_team(clinic["pat"]["id"], kim["id"], "caregiver")
    check_in(clinic["patient"], mood="0")
    notices = "SELECT recipient_id FROM outbox WHERE kind = 'caregiver_notice'"
    assert query(app, notices) == []
    assert clinic["patient"].post("/settings", data={
        "time_zone": "America/New_York", "tell_caregivers": "y"}).status_code == 302
    check_in(clinic["patient"], safety="yes")
    assert [row[0] for row in query(app, notices)] == [kim["id"]]


def test_the_caregivers_email_says_nothing_of_what_was_written():
    message = alert_rules.caregiver_message("Pat Lee")
    assert message.subject == "Please check in with someone you care for"
    for word in ("mood", "safety", "harm", "symptom", "dizz", "Very severe"):
        assert word.lower() not in message.body.lower()
    assert "Pat Lee" in message.body
