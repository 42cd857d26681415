"""Inputs that once gave a 500 or lost an answer: oversized and malformed bodies, JSON, a missing
or locked database, double submissions, line breaks, hosts and headers."""

import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diary import create_app
from diary.rules import clock
from diary.store import db

from tests.helpers import PASSWORD, query

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]
CRISIS = ('href="tel:911"', 'href="tel:988"')


def local(moment):
    return clock.local(moment, "America/New_York").strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def diary_client(fake_clock, patient_client):
    fake_clock.set(NOW)
    response = patient_client.post("/infusions/new", data={"started_at": "2026-03-10T07:00",
                                                           "length_minutes": "40"})
    assert response.status_code == 302
    return patient_client


def assert_error_page_with_help(response, status):
    html = response.data.decode()
    assert response.status_code == status, html[:300]
    assert all(link in html for link in CRISIS), html
    assert "Need help now?" in html


# 1. Error pages never read the body or the database, and always carry crisis help


def test_a_signed_in_oversized_post_gets_the_413_page_with_help(diary_client, app):
    body = {"mood": "5", "note": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)}
    assert_error_page_with_help(diary_client.post("/infusions/1/check-in", data=body), 413)


def test_a_signed_in_multipart_flood_gets_an_error_page_with_help(diary_client):
    fields = {f"f{number}": "1" for number in range(1200)}
    response = diary_client.post("/infusions/1/check-in", data=fields,
                                 content_type="multipart/form-data")
    assert_error_page_with_help(response, 413)


def test_a_malformed_multipart_body_is_not_a_500(diary_client):
    response = diary_client.post(
        "/infusions/1/check-in", data=b"--b\r\nContent-Disposition: form-data\r\n\r\nxx",
        content_type="multipart/form-data; boundary=b")
    assert response.status_code != 500
    assert_error_page_with_help(response, response.status_code)


def test_a_file_sent_in_a_form_field_is_refused_not_500(diary_client, app):
    from io import BytesIO
    response = diary_client.post("/infusions/1/check-in", data={
        "mood": "5", "note": (BytesIO(b"hello"), "note.txt")}, content_type="multipart/form-data")
    assert_error_page_with_help(response, 415)
    assert query(app, "SELECT count(*) FROM checkins")[0][0] == 0


def test_a_stale_token_on_a_closed_diary_gets_the_closed_page(app_config, fake_clock):
    app_config["WTF_CSRF_ENABLED"] = True
    csrf_app = create_app(app_config)
    from tests.web.test_security import signed_in_patient
    fake_clock.set(NOW)
    client = signed_in_patient(csrf_app)
    with csrf_app.app_context():
        from tests.helpers import record_infusion
        record_infusion(1, NOW - timedelta(days=5))
    response = client.post("/infusions/1/check-in", data={"mood": "5", "csrf_token": "stale"})
    assert response.status_code == 403
    assert "This infusion's diary is closed" in response.data.decode()


def test_a_database_outage_shows_the_error_page_with_help(diary_client, app):
    app.config["DATABASE"] = app.config["DATABASE"] + ".gone"
    assert_error_page_with_help(diary_client.get("/diary"), 500)
    assert not Path(app.config["DATABASE"]).exists()


# 2. Forms take form bodies only


@pytest.mark.parametrize("body", [b"123", b"true", b"[1,2]", b'"abc"', b'{"email": "a@b.c"}'])
@pytest.mark.parametrize("path", ["/sign-in", "/register", "/invite/some-token"])
def test_json_bodies_are_refused_not_500(client, app, path, body):
    before = query(app, "SELECT count(*) FROM users")[0][0]
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 415
    assert query(app, "SELECT count(*) FROM users")[0][0] == before


def test_json_is_refused_with_csrf_on_too(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    client = create_app(app_config).test_client()
    assert client.post("/sign-in", data=b"123", content_type="application/json").status_code == 415


# 4. The server does not start on a missing or unusable database


def start_app(database: Path, *command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DIARY_DATABASE": str(database), "DIARY_SECRET_KEY": "test"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "diary", *command], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_the_server_refuses_to_start_without_its_database(tmp_path):
    missing = tmp_path / "typo" / "diary.sqlite"
    result = start_app(missing, "routes")
    assert result.returncode != 0
    assert f"The database {missing} does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not missing.exists()


def test_init_db_creates_it_and_then_the_server_starts(tmp_path):
    database = tmp_path / "diary.sqlite"
    assert start_app(database, "init-db").returncode == 0
    result = start_app(database, "routes")
    assert result.returncode == 0, result.stderr
    assert "/sign-in" in result.stdout


def test_a_read_only_database_is_named_plainly(tmp_path, monkeypatch):
    database = tmp_path / "diary.sqlite"
    db.migrate_database(str(database))
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != database)
    assert "is read-only" in db.problem_with(str(database))


def test_a_database_moved_away_while_running_is_not_recreated_empty(app):
    path = Path(app.config["DATABASE"])
    path.rename(path.with_suffix(".moved"))
    with pytest.raises(sqlite3.OperationalError):
        db.connect(str(path))
    assert not path.exists()


# 5. A check-in sent twice is saved once


def submission_key(client) -> str:
    html = client.get("/infusions/1/check-in").data.decode()
    return re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', html).group(1)


def test_the_same_check_in_sent_three_times_is_saved_once(diary_client, app):
    form = {"mood": "2", "at": local(NOW), "symptom_dizziness": "4",
            "submission_key": submission_key(diary_client)}
    places = {diary_client.post("/infusions/1/check-in", data=form).headers["Location"]
              for _ in range(3)}
    assert len(places) == 1 and "saved=" in places.pop()
    assert query(app, "SELECT count(*) FROM checkins")[0][0] == 1
    assert query(app, "SELECT count(*) FROM flags")[0][0] == 1
    assert query(app, "SELECT count(*) FROM flag_events")[0][0] == 1


def test_two_forms_make_two_check_ins(diary_client, app):
    for _ in range(2):
        form = {"mood": "6", "at": local(NOW), "submission_key": submission_key(diary_client)}
        assert diary_client.post("/infusions/1/check-in", data=form).status_code == 302
    assert query(app, "SELECT count(*) FROM checkins")[0][0] == 2


def test_a_made_up_submission_key_is_ignored_not_stored(diary_client, app):
    form = {"mood": "6", "at": local(NOW), "submission_key": "'; DROP TABLE checkins"}
    assert diary_client.post("/infusions/1/check-in", data=form).status_code == 302
    assert query(app, "SELECT submission_key FROM checkins")[0][0] is None


# 6. A database locked for too long: the patient is told, and keeps the answers


def test_a_check_in_that_cannot_get_the_lock_keeps_the_answers(diary_client, app, monkeypatch):
    monkeypatch.setattr(db, "WRITE_PATIENCE_SECONDS", 0.2)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    holder = db.connect(app.config["DATABASE"])
    holder.execute("BEGIN IMMEDIATE")
    try:
        form = {"mood": "3", "at": local(NOW), "note": "Dizzy but fine",
                "submission_key": "a" * 32}
        response = diary_client.post("/infusions/1/check-in", data=form)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    html = response.data.decode()
    assert response.status_code == 200
    assert "We could not save this just now" in html and "Dizzy but fine" in html
    assert query(app, "SELECT count(*) FROM checkins")[0][0] == 0


# 11. A clinician's look at a patient's thresholds is audited


def test_looking_at_thresholds_leaves_a_view_row(app, users):
    patient = users.create("patient")
    clinician = users.create("clinician")
    from tests.helpers import join_care_team
    with app.app_context():
        join_care_team(patient["id"], clinician["id"])
    doctor = users.client(clinician)
    assert doctor.get(f"/patients/{patient['id']}/thresholds").status_code == 200
    rows = query(app, "SELECT actor_id, patient_id, subject FROM audit WHERE action = 'view_diary'")
    assert [tuple(row) for row in rows] == [(clinician["id"], patient["id"],
                                            f"/patients/{patient['id']}/thresholds")]


# 12. A line break counts as one character, as in the browser


def test_a_note_at_the_limit_with_line_breaks_is_accepted(diary_client, app):
    note = "a" * 998 + "\r\n" + "b" * 1001
    assert len(note.replace("\r\n", "\n")) == 2000
    form = {"mood": "6", "at": local(NOW), "note": note}
    assert diary_client.post("/infusions/1/check-in", data=form).status_code == 302
    assert query(app, "SELECT note FROM checkins")[0][0] == note.replace("\r\n", "\n")


def test_a_note_over_the_limit_is_still_refused(diary_client, app):
    form = {"mood": "6", "at": local(NOW), "note": "a" * 1999 + "\r\n" + "b"}
    response = diary_client.post("/infusions/1/check-in", data=form)
    assert "Please keep the note under 2,000 characters." in response.data.decode()
    assert query(app, "SELECT count(*) FROM checkins")[0][0] == 0


# 13. Hosts: only the clinic's own, and links and calendar UIDs from BASE_URL


@pytest.fixture
def clinic_app(app_config):
    app_config.update(TESTING=False, CREATE_DATABASE=True,
                      BASE_URL="https://diary.clinic.example")
    return create_app(app_config)


def test_a_forged_host_header_is_refused(clinic_app):
    client = clinic_app.test_client()
    assert client.get("/help", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/help", headers={"Host": "diary.clinic.example"}).status_code == 200


def test_calendar_uids_name_the_clinic_not_the_request(diary_client, app):
    app.config["BASE_URL"] = "https://diary.clinic.example"
    ics = diary_client.get("/infusions/1/reminders.ics").data
    assert b"@diary.clinic.example" in ics and b"@localhost" not in ics


def test_forwarded_for_is_believed_only_from_the_proxy(app_config):
    app_config.update(TRUSTED_PROXIES=1)
    app = create_app(app_config)
    seen = []
    app.before_request(lambda: seen.append(__import__("flask").request.remote_addr))
    client = app.test_client()
    client.get("/help", headers={"X-Forwarded-For": "203.0.113.9"},
               environ_base={"REMOTE_ADDR": "198.51.100.7"})
    client.get("/help", headers={"X-Forwarded-For": "203.0.113.9"},
               environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen == ["198.51.100.7", "203.0.113.9"]


# 14. Headers and cookie names


def test_permissions_policy_denies_what_the_diary_never_uses(client):
    policy = client.get("/help").headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


def test_secure_cookies_carry_the_host_prefix(app, users):
    response = app.test_client().post("/sign-in", data={"email": users.create("patient")["email"],
                                                          "password": PASSWORD})
    cookie = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith("__Host-diary_session="))
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_plain_http_cookies_keep_the_plain_name(app_config):
    app_config["INSECURE_COOKIES"] = True
    assert create_app(app_config).config["SESSION_COOKIE_NAME"] == "diary_session"
