"""No answer is ever lost, over HTTP: a check-in (or infusion) sent after the session ended is
kept for that browser and person, not saved; after signing in the patient lands on the form with
every answer and "Your check-in is not saved yet. Check it and press Save check-in."; Save once
gives exactly one check-in; kept answers go once saved or after 2 hours, and nobody else sees
them."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from diary import create_app

from tests.helpers import PASSWORD, Users, query, record_infusion

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York
NOT_SAVED = "Your check-in is not saved yet. Check it and press Save check-in."
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
KEY = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')


@pytest.fixture
def csrf_app(app_config, fake_clock):
    """CSRF on, as in production: the kept answers must survive the token as well."""
    fake_clock.set(NOW)
    app_config["WTF_CSRF_ENABLED"] = True
    return create_app(app_config)


@pytest.fixture
def world(csrf_app):
    users = Users(csrf_app)
    patient = users.create("patient", name="Pat Lee")
    with csrf_app.app_context():
        infusion = record_infusion(patient["id"], NOW - timedelta(hours=3))
    return csrf_app, users, patient, infusion["id"]


def token(client, path):
    return TOKEN.search(client.get(path).data.decode()).group(1)


def sign_in(client, user, password=PASSWORD, **extra):
    return client.post("/sign-in", data={"csrf_token": token(client, "/sign-in"),
                                         "email": user["email"], "password": password, **extra})


def answers(form_page, **changes):
    """The check-in a patient fills: the form's own token and key, and their answers."""
    key = KEY.search(form_page)
    data = {"csrf_token": TOKEN.search(form_page).group(1),
            "submission_key": key.group(1) if key else "",
            "mood": "3", "symptom_nausea": "2", "symptom_headache": "1", "safety": "no",
            "note": "Still queasy after lunch", "at": "2026-03-10T09:55", "shared": "y"}
    data.update(changes)
    return data


def checkins(app):
    return query(app, "SELECT count(*) FROM checkins")[0][0]


def kept_rows(app):
    return query(app, "SELECT * FROM kept_answers")


def fill_then_lose_the_session(app, fake_clock, patient, infusion_id, minutes=31):
    client = app.test_client()
    assert sign_in(client, patient).status_code == 302
    page = client.get(f"/infusions/{infusion_id}/check-in").data.decode()
    data = answers(page)
    fake_clock.advance(minutes=minutes)  # the phone lay on the table: idle limit passed
    return client, data


def test_a_check_in_sent_after_the_session_ended_is_kept_not_saved(world, fake_clock):
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    response = client.post(f"/infusions/{infusion_id}/check-in", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/infusions/{infusion_id}/check-in"
    assert checkins(app) == 0
    rows = kept_rows(app)
    assert len(rows) == 1 and rows[0]["user_id"] == patient["id"]
    assert rows[0]["path"] == f"/infusions/{infusion_id}/check-in"
    assert "csrf_token" not in rows[0]["fields"]
    page = client.get(response.headers["Location"]).data.decode()
    assert "your check-in is not saved yet. Sign in and your answers will be back." in page


def test_after_signing_in_every_answer_is_back_and_one_save_gives_one_check_in(world,
                                                                                fake_clock):
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    client.post(f"/infusions/{infusion_id}/check-in", data=data)
    signed_in = sign_in(client, patient)
    assert signed_in.headers["Location"] == f"/infusions/{infusion_id}/check-in"
    page = client.get(signed_in.headers["Location"]).data.decode()
    assert NOT_SAVED in page
    assert re.search(r'checked[^>]*name="mood"[^>]*value="3"', page)
    assert re.search(r'checked[^>]*name="symptom_nausea"[^>]*value="2"', page)
    assert re.search(r'checked[^>]*name="symptom_headache"[^>]*value="1"', page)
    assert re.search(r'checked[^>]*name="safety"[^>]*value="no"', page)
    assert "Still queasy after lunch" in page and 'value="2026-03-10T09:55"' in page
    assert KEY.search(page).group(1) == data["submission_key"]  # a re-send stays one check-in
    again = answers(page)
    saved = client.post(f"/infusions/{infusion_id}/check-in", data=again)
    assert saved.status_code == 302 and "saved=" in saved.headers["Location"]
    client.post(f"/infusions/{infusion_id}/check-in", data=again)  # a double tap
    rows = query(app, "SELECT mood, note, at FROM checkins")
    assert [tuple(row) for row in rows] == [(3, "Still queasy after lunch", "2026-03-10 13:55:00")]
    assert kept_rows(app) == []
    assert NOT_SAVED not in client.get(f"/infusions/{infusion_id}/check-in").data.decode()


def test_signing_in_from_the_home_page_still_lands_on_the_form(world, fake_clock):
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    client.post(f"/infusions/{infusion_id}/check-in", data=data)
    response = client.post("/sign-in", data={"csrf_token": token(client, "/sign-in"),
                                              "email": patient["email"], "password": PASSWORD,
                                              "next": "/care-team"})
    assert response.headers["Location"] == f"/infusions/{infusion_id}/check-in"


def test_a_stale_form_token_and_no_session_keeps_the_answers_too(world, fake_clock):
    """Signed out elsewhere and the form's token no longer good: still kept."""
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id, minutes=1)
    other = app.test_client()
    sign_in(other, patient)
    other.post("/password", data={"csrf_token": token(other, "/password"), "current": PASSWORD,
                                  "password": PASSWORD + " again", "confirm": PASSWORD + " again"})
    data["csrf_token"] = "stale"
    response = client.post(f"/infusions/{infusion_id}/check-in", data=data)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert checkins(app) == 0 and len(kept_rows(app)) == 1
    sign_in(client, patient, password=PASSWORD + " again")
    assert NOT_SAVED in client.get(f"/infusions/{infusion_id}/check-in").data.decode()


def test_with_a_live_session_a_stale_token_shows_the_answers_at_once(world, fake_clock):
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id, minutes=1)
    data["csrf_token"] = "stale"
    response = client.post(f"/infusions/{infusion_id}/check-in", data=data)
    assert response.status_code == 400 and "Still queasy after lunch" in response.data.decode()
    assert checkins(app) == 0 and kept_rows(app) == []


def test_kept_answers_are_never_shown_to_anyone_else(world, fake_clock):
    app, users, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    client.post(f"/infusions/{infusion_id}/check-in", data=data)
    # Another patient on the same browser: their own home, and no trace of the answers.
    other = users.create("patient", name="Robin Roe")
    response = sign_in(client, other)
    assert response.headers["Location"] == "/"
    assert client.get(f"/infusions/{infusion_id}/check-in").status_code == 404
    with app.app_context():
        own = record_infusion(other["id"], NOW - timedelta(hours=2))
    page = client.get(f"/infusions/{own['id']}/check-in").data.decode()
    assert NOT_SAVED not in page and "Still queasy" not in page
    client.post("/sign-out", data={"csrf_token": token(client, "/diary")})
    # The same patient on another browser: nothing either.
    elsewhere = app.test_client()
    sign_in(elsewhere, patient)
    page = elsewhere.get(f"/infusions/{infusion_id}/check-in").data.decode()
    assert NOT_SAVED not in page and "Still queasy" not in page
    # A clinician of the same browser neither.
    clinician = users.create("clinician")
    assert sign_in(client, clinician).headers["Location"] == "/"
    assert len(kept_rows(app)) == 1


def test_kept_answers_go_after_two_hours(world, fake_clock):
    app, users, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    client.post(f"/infusions/{infusion_id}/check-in", data=data)
    fake_clock.advance(hours=2, minutes=1)
    response = sign_in(client, patient)
    assert response.headers["Location"] == "/"
    page = client.get(f"/infusions/{infusion_id}/check-in").data.decode()
    assert NOT_SAVED not in page and "Still queasy" not in page
    assert kept_rows(app) == []  # deleted, not only hidden


def test_old_kept_answers_are_deleted_when_anyone_signs_in(world, fake_clock):
    app, users, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    client.post(f"/infusions/{infusion_id}/check-in", data=data)
    fake_clock.advance(hours=3)
    sign_in(app.test_client(), users.create("caregiver"))
    assert kept_rows(app) == []


def test_a_browser_with_no_trace_of_its_person_keeps_nothing(world, fake_clock):
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    stranger = app.test_client()
    response = stranger.post(f"/infusions/{infusion_id}/check-in", data=data)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert kept_rows(app) == [] and checkins(app) == 0
    assert query(app, "SELECT outcome FROM audit WHERE action = 'answers_kept'")[0][0] == "no_owner"


def test_another_sites_form_keeps_nothing(world, fake_clock):
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    client.post(f"/infusions/{infusion_id}/check-in", data=data,
                headers={"Sec-Fetch-Site": "cross-site"})
    assert kept_rows(app) == []


def test_the_infusion_form_is_kept_the_same_way(world, fake_clock):
    app, _, patient, _ = world
    client = app.test_client()
    sign_in(client, patient)
    page = client.get("/infusions/new").data.decode()
    data = {"csrf_token": TOKEN.search(page).group(1), "started_at": "2026-03-12T08:15",
            "length_minutes": "55", "note": "Room 2, second dose"}
    fake_clock.advance(days=2)  # an infusion two days later, the form left open for a while
    response = client.post("/infusions/new", data=data)
    assert response.headers["Location"] == "/sign-in?next=/infusions/new"
    assert query(app, "SELECT count(*) FROM infusions")[0][0] == 1
    assert sign_in(client, patient).headers["Location"] == "/infusions/new"
    page = client.get("/infusions/new").data.decode()
    assert "Your infusion is not saved yet. Check it and press Save infusion." in page
    assert 'value="2026-03-12T08:15"' in page and 'value="55"' in page
    assert "Room 2, second dose" in page
    data["csrf_token"] = TOKEN.search(page).group(1)
    assert client.post("/infusions/new", data=data).status_code == 302
    assert query(app, "SELECT count(*) FROM infusions")[0][0] == 2
    assert kept_rows(app) == []


def test_a_save_that_fails_keeps_the_kept_answers(world, fake_clock):
    app, _, patient, infusion_id = world
    client, data = fill_then_lose_the_session(app, fake_clock, patient, infusion_id)
    client.post(f"/infusions/{infusion_id}/check-in", data=data)
    sign_in(client, patient)
    page = client.get(f"/infusions/{infusion_id}/check-in").data.decode()
    bad = answers(page, at="2026-03-11T23:00")  # in the future: refused
    response = client.post(f"/infusions/{infusion_id}/check-in", data=bad)
    assert response.status_code == 200 and checkins(app) == 0
    assert len(kept_rows(app)) == 1


def test_an_edited_check_in_is_kept_too(world, fake_clock):
    app, _, patient, infusion_id = world
    client = app.test_client()
    sign_in(client, patient)
    page = client.get(f"/infusions/{infusion_id}/check-in").data.decode()
    client.post(f"/infusions/{infusion_id}/check-in", data=answers(page))
    checkin_id = query(app, "SELECT id FROM checkins")[0][0]
    page = client.get(f"/check-ins/{checkin_id}/edit").data.decode()
    data = answers(page, mood="8", note="Much better now")
    fake_clock.advance(minutes=45)
    client.post(f"/check-ins/{checkin_id}/edit", data=data)
    assert query(app, "SELECT mood FROM checkins")[0][0] == 3
    assert sign_in(client, patient).headers["Location"] == f"/check-ins/{checkin_id}/edit"
    page = client.get(f"/check-ins/{checkin_id}/edit").data.decode()
    assert NOT_SAVED in page and "Much better now" in page
    assert re.search(r'checked[^>]*name="mood"[^>]*value="8"', page)
