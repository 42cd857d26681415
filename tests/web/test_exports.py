"""Records that leave the app over HTTP: the CSV, the FHIR R4 Bundle and the ZIP of everything, for
the patient and (CSV, FHIR) for their care team; every download audited, a caregiver's limited to
what was shared, and every bad input a 404 that writes nothing but the refusal."""

import csv
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from diary.rules import catalogue

from tests.helpers import (check_in, join_care_team, query, record_course, record_infusion,
                           sql_statements)
from tests.web.test_course import LAST_START, audit_rows, diary_tables, last_audit, text_of

HEADER = ["time", "hours_since_infusion_ended", "infusion_id", "mood", *catalogue.CODES]


@pytest.fixture
def team(app, users, fake_clock):
    """Pat Lee's course of three infusions, a clinician and a caregiver, each signed in."""
    patient = users.create("patient", name="Pat Lee")
    doctor = users.create("clinician", name="Dr Ada Moss")
    carer = users.create("caregiver", name="Sam Lee")
    with app.app_context():
        join_care_team(patient["id"], doctor["id"])
        join_care_team(patient["id"], carer["id"], "caregiver")
        infusions = record_course(patient["id"], fake_clock, count=3, last_start=LAST_START)
        check_in(patient["id"], infusions[-1], LAST_START + timedelta(hours=26), mood=1,
                 safety="yes", note="+call me", shared=True)
    return {"patient": patient, "doctor": doctor, "carer": carer, "infusions": infusions,
            "patient_client": users.client(patient), "doctor_client": users.client(doctor),
            "carer_client": users.client(carer)}


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))


def header_of(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.data.decode("utf-8"))))


def test_download_my_diary_csv(app, team):
    response = team["patient_client"].get("/diary.csv")
    rows = rows_of(response)
    assert header_of(response) == [*HEADER, "shared", "note"]  # the safety answer: clinicians only
    assert len(rows) == 3 * 6 + 1
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    first = rows[0]
    assert first["time"] == "2026-03-14T11:40:00-04:00" and first["hours_since_infusion_ended"] == "1.00"
    assert (first["mood"], first["dizziness"], first["nausea"], first["shared"]) == ("3", "3", "1", "yes")
    assert rows[3]["note"] == "'=private thought" and rows[3]["shared"] == "no"
    assert rows[-1]["note"] == "'+call me"
    raw = response.data.decode()
    assert ",1.00,1,3,0,0,0,0,1,0,3," in raw  # numbers unquoted


def test_the_clinicians_file_has_the_safety_answer_and_is_audited_as_a_look(app, team):
    pid = team["patient"]["id"]
    path = f"/patients/{pid}/diary.csv"
    before = last_audit(app)
    response = team["doctor_client"].get(path)
    assert header_of(response) == [*HEADER, "safety", "shared", "note"]
    rows = rows_of(response)
    assert rows[-1]["safety"] == "yes" and rows[3]["note"] == "'=private thought"
    assert [tuple(r) for r in audit_rows(app, before)] == [
        (team["doctor"]["id"], "view_export", pid, path, "ok")]
    seen = text_of(team["patient_client"].get("/care-team/seen"))
    assert "Dr Ada Moss" in seen and "downloaded your diary" in seen


def test_a_caregiver_exports_only_what_was_shared(app, team):
    pid = team["patient"]["id"]
    response = team["carer_client"].get(f"/patients/{pid}/diary.csv")
    assert "safety" not in header_of(response)
    rows = rows_of(response)
    assert len(rows) == 3 * 5 + 1 and all(r["shared"] == "yes" for r in rows)
    assert "private thought" not in response.data.decode()
    bundle = json.loads(team["carer_client"].get(f"/patients/{pid}/diary.fhir.json").data)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert "Flag" not in kinds and kinds.count("QuestionnaireResponse") == 16
    text = json.dumps(bundle)
    assert "private thought" not in text and '"linkId": "safety", "answer"' not in text


def test_download_as_fhir_validates_against_the_r4_models(app, team):
    response = team["patient_client"].get("/diary.fhir.json")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    bundle = json.loads(response.data)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    counts = {}
    for entry in bundle["entry"]:
        counts[entry["resource"]["resourceType"]] = counts.get(entry["resource"]["resourceType"], 0) + 1
    assert counts == {"Patient": 1, "Questionnaire": 1, "Procedure": 3,
                      "QuestionnaireResponse": 19, "Flag": 2}
    flags = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Flag"]
    assert {f["status"] for f in flags} == {"active"}
    assert bundle["entry"][1]["resource"]["url"] == "http://localhost/fhir/Questionnaire/check-in" \
        or bundle["entry"][1]["resource"]["url"].endswith("/fhir/Questionnaire/check-in")


def test_download_all_my_data(app, team, users):
    leaver = users.create("caregiver", name="Former Helper")
    with app.app_context():
        join_care_team(team["patient"]["id"], leaver["id"], "caregiver")
    users.client(leaver).post(f"/care-team/leave/{team['patient']['id']}")
    team["doctor_client"].get(f"/patients/{team['patient']['id']}")
    response = team["patient_client"].get("/my-data.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["README.txt", "care-team.csv", "diary.csv",
                                          "diary.fhir.json", "who-has-seen.csv"]
    assert archive.read("diary.csv") == team["patient_client"].get("/diary.csv").data
    Bundle.model_validate(json.loads(archive.read("diary.fhir.json")))
    team_rows = list(csv.DictReader(io.StringIO(archive.read("care-team.csv").decode())))
    assert [(r["role"], r["name"]) for r in team_rows] == [
        ("clinician", "Dr Ada Moss"), ("caregiver", "Sam Lee"), ("caregiver", "Former Helper")]
    assert team_rows[2]["left"] and team_rows[2]["ended_by"] == "Former Helper"
    seen = list(csv.DictReader(io.StringIO(archive.read("who-has-seen.csv").decode())))
    assert ("Dr Ada Moss", "opened your diary") in [(r["name"], r["what"]) for r in seen]
    own = query(app, "SELECT action, patient_id FROM audit WHERE actor_id = ? AND action = 'export'",
                (team["patient"]["id"],))
    assert len(own) >= 1


def test_an_empty_diary_exports_headers_only(app, users):
    patient = users.create("patient", name="New Patient")
    client = users.client(patient)
    assert client.get("/diary.csv").data.decode() == ",".join([*HEADER, "shared", "note"]) + "\r\n"
    bundle = json.loads(client.get("/diary.fhir.json").data)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient", "Questionnaire"]
    assert client.get("/my-data.zip").status_code == 200
    assert "No infusion recorded yet." in text_of(client.get("/course"))
    assert client.get("/course/report").status_code == 200


def test_bad_input_is_a_404_and_writes_nothing_but_the_refusal(app, team, users, fake_clock):
    stranger = users.create("patient", name="Other Person")
    pid = team["patient"]["id"]
    cases = [
        (team["doctor_client"], f"/patients/{stranger['id']}/diary.csv"),
        (team["doctor_client"], f"/patients/{stranger['id']}/diary.fhir.json"),
        (team["doctor_client"], "/patients/99999999/diary.csv"),
        (team["carer_client"], f"/patients/{stranger['id']}/diary.fhir.json"),
        (team["patient_client"], f"/patients/{pid}/diary.csv"),
        (team["patient_client"], f"/patients/{stranger['id']}/diary.csv"),
        (team["doctor_client"], "/diary.csv"),
        (team["doctor_client"], "/my-data.zip"),
        (team["carer_client"], "/diary.fhir.json"),
        (team["doctor_client"], f"/patients/{2**64}/diary.csv"),
    ]
    before, audit_before = diary_tables(app), last_audit(app)
    for client, path in cases:
        assert client.get(path).status_code == 404, path
    assert diary_tables(app) == before
    rows = audit_rows(app, audit_before)
    assert rows and all(row["outcome"] == "denied" and row["patient_id"] is None for row in rows)
    assert app.test_client().get("/diary.csv").status_code == 302


def test_exports_cost_the_same_statements_for_5_or_50_infusions(app, users, fake_clock):
    counts = []
    for count in (5, 50):
        patient = users.create("patient")
        with app.app_context():
            record_course(patient["id"], fake_clock, count=count, last_start=LAST_START,
                          story=lambda i: [(1, 5, {"dizziness": 1}, "", True)])
        client = users.client(patient)
        counts.append([len(sql_statements(client, path))
                       for path in ("/diary.csv", "/diary.fhir.json", "/my-data.zip")])
    assert counts[0] == counts[1], counts


def test_times_are_in_the_patients_own_zone_whoever_downloads(app, team, users):
    paris = users.create("clinician", name="Dr Paris", time_zone="Europe/Paris")
    with app.app_context():
        join_care_team(team["patient"]["id"], paris["id"])
    rows = rows_of(users.client(paris).get(f"/patients/{team['patient']['id']}/diary.csv"))
    assert rows[0]["time"] == "2026-03-14T11:40:00-04:00"
