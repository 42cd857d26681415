"""The course of infusions over HTTP: "My course", the same on a patient's page for their care team
(a caregiver's from shared check-ins only), 12 infusions a page in a constant number of
statements, the printable reports, and every bad input."""

import html as html_lib
import re
from datetime import datetime, timedelta, timezone

import pytest

from diary.services import flags as flagging

from tests.helpers import (check_in, join_care_team, query, record_course, record_infusion,
                           sql_statements)

LAST_START = datetime(2026, 3, 20, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York
PAGE_BUDGET = 30 * 1024  # bytes: the page with every stylesheet it links


@pytest.fixture
def team(app, users):
    """Pat Lee with a clinician and a caregiver, each signed in."""
    patient = users.create("patient", name="Pat Lee")
    doctor = users.create("clinician", name="Dr Ada Moss")
    carer = users.create("caregiver", name="Sam Lee")
    with app.app_context():
        join_care_team(patient["id"], doctor["id"])
        join_care_team(patient["id"], carer["id"], "caregiver")
    return {"patient": patient, "doctor": doctor, "carer": carer,
            "patient_client": users.client(patient), "doctor_client": users.client(doctor),
            "carer_client": users.client(carer)}


def course_of(app, team, fake_clock, count, **kwargs):
    with app.app_context():
        return record_course(team["patient"]["id"], fake_clock, count=count,
                             last_start=LAST_START, **kwargs)


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    main = response.data.decode().split('<main id="main">', 1)[1].split("</main>", 1)[0]
    words = html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))
    return re.sub(r" ([.,;:])", r"\1", words)


def numbers_shown(response) -> list[int]:
    return [int(n) for n in re.findall(r'>Infusion (\d+)</a>', response.data.decode())]


def audit_rows(app, since=0):
    return query(app, "SELECT actor_id, action, patient_id, subject, outcome FROM audit"
                      " WHERE id > ? ORDER BY id", (since,))


def last_audit(app) -> int:
    return query(app, "SELECT coalesce(max(id), 0) FROM audit")[0][0]


def diary_tables(app):
    return [tuple(row) for table in ("infusions", "checkins", "checkin_symptoms", "flags",
                                     "care_team") for row in query(app, f"SELECT * FROM {table}")]


def test_my_course_lists_every_infusion_with_its_numbers_and_the_sentence(app, team, fake_clock):
    course_of(app, team, fake_clock, 3)
    response = team["patient_client"].get("/course")
    page = text_of(response)
    assert "My course" in page and numbers_shown(response) == [3, 2, 1]
    assert ("Fewer side effects than your last infusion (score 2, was 4); dizziness settled "
            "3 hours sooner; mood at the last check-in was 8, up from 7.") in page
    first = page.split("Infusion 1 ", 1)[1]
    assert first.startswith("Sat 14 Mar 2026, 10:00 am 6 check-ins · side-effect score 5")
    assert "Mood 3 at the first check-in, 6 at the last, lowest 3." in first
    assert "Dizzy or spinning: Severe at worst, last reported at hour 4" in first
    assert "Sick to my stomach: Mild at worst, last reported at hour 1" in first
    html = response.data.decode()
    assert re.search(r'<svg role="img" aria-labelledby="course-chart-title" '
                     r'aria-describedby="course-chart-desc"', html)
    assert '<title id="course-chart-title">Side-effect score and mood, infusion by infusion' in html
    assert "Show the chart as a table" in html and html.count('<th scope="row">') == 3
    assert "The side-effect score adds up each symptom's worst rating" in page
    for words in ("For my appointment", "Download my diary (CSV)", "Download as FHIR",
                  "Download all my data"):
        assert words in page


def test_one_infusion_has_nothing_to_compare_and_an_empty_course_says_so(app, team, fake_clock):
    assert "No infusion recorded yet." in text_of(team["patient_client"].get("/course"))
    course_of(app, team, fake_clock, 1)
    page = text_of(team["patient_client"].get("/course"))
    assert "than your last infusion" not in page and "Infusion 1" in page


def test_twelve_a_page_newest_first_and_any_page_number_is_answered(app, team, fake_clock):
    course_of(app, team, fake_clock, 14, story=lambda i: [(2, 5, {"headache": 1}, "", True)])
    client = team["patient_client"]
    first = client.get("/course")
    assert numbers_shown(first) == list(range(14, 2, -1))
    assert "Showing infusions 3 to 14 of 14" in text_of(first) and 'rel="next"' in first.data.decode()
    second = client.get("/course?page=2")
    assert numbers_shown(second) == [2, 1] and 'rel="prev"' in second.data.decode()
    assert "than your last infusion" not in text_of(second)  # the sentence is about the latest
    for junk in ("99", "9" * 40, "-3", "0", "x", "1e9", "%00"):
        response = client.get(f"/course?page={junk}")
        assert response.status_code == 200, junk
        assert numbers_shown(response) in (list(range(14, 2, -1)), [2, 1]), junk


@pytest.mark.parametrize("path", ["/course", "/course?page=2", "/course/report"])
def test_the_course_costs_the_same_statements_for_5_or_50_infusions(app, users, fake_clock, path):
    counts = []
    for count in (5, 50):
        patient = users.create("patient")
        with app.app_context():
            record_course(patient["id"], fake_clock, count=count, last_start=LAST_START,
                          story=lambda i: [(1, 5, {"dizziness": 1}, "", True),
                                           (3, 6, {}, "", True)])
        counts.append(len(sql_statements(users.client(patient), path)))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 8, counts


def test_the_care_team_sees_the_course_too_and_each_look_is_audited(app, team, fake_clock):
    course_of(app, team, fake_clock, 2)
    path = f"/patients/{team['patient']['id']}/course"
    before = last_audit(app)
    page = text_of(team["doctor_client"].get(path))
    assert "Pat Lee: course of infusions" in page
    assert "Fewer side effects than the infusion before" in page and "6 check-ins" in page
    assert [tuple(r) for r in audit_rows(app, before)] == [
        (team["doctor"]["id"], "view_diary", team["patient"]["id"], path, "ok")]
    patient_page = team["doctor_client"].get(f"/patients/{team['patient']['id']}").data.decode()
    assert f'href="{path}"' in patient_page


def test_a_caregivers_course_is_built_from_shared_check_ins_only(app, team, fake_clock):
    course_of(app, team, fake_clock, 2)
    with app.app_context():  # a third infusion with nothing shared stays out of their course
        fake_clock.set(LAST_START + timedelta(days=3, hours=1))
        hidden = record_infusion(team["patient"]["id"], LAST_START + timedelta(days=3))
        check_in(team["patient"]["id"], hidden, LAST_START + timedelta(days=3, hours=1), mood=1,
                 shared=False)
    response = team["carer_client"].get(f"/patients/{team['patient']['id']}/course")
    page = text_of(response)
    assert "Built from the check-ins Pat Lee shared with you." in page
    assert numbers_shown(response) == [2, 1] and "5 check-ins" in page and "6 check-ins" not in page
    assert "Flags" not in page and "private thought" not in page
    assert "Download the diary (CSV)" in page and "Download all my data" not in page


def test_flags_on_the_course_with_their_state_in_each_readers_words(app, team, fake_clock):
    infusions = course_of(app, team, fake_clock, 2)
    with app.app_context():
        fake_clock.set(LAST_START + timedelta(hours=30))
        check_in(team["patient"]["id"], infusions[-1], LAST_START + timedelta(hours=26), mood=1)
    patient_page = text_of(team["patient_client"].get("/course"))
    doctor_path = f"/patients/{team['patient']['id']}/course"
    assert "Very low mood: Mood 1 of 10 at hour 25. Not seen by your care team yet." in patient_page
    assert "Very low mood: Mood 1 of 10 at hour 25. Open." in text_of(
        team["doctor_client"].get(doctor_path))
    flag = query(app, "SELECT * FROM flags WHERE kind = 'low_mood'")[0]
    with app.app_context():
        flagging.acknowledge(team["doctor"]["id"], flag, "Called Pat")
    assert "Seen by Dr Ada Moss on 21 Mar 2026." in text_of(team["patient_client"].get("/course"))
    assert "Acknowledged by Dr Ada Moss on 21 Mar 2026." in text_of(
        team["doctor_client"].get(doctor_path))


def test_the_course_report_has_the_chart_words_check_ins_and_flags(app, team, fake_clock):
    course_of(app, team, fake_clock, 2)
    response = team["patient_client"].get("/course/report")
    page = text_of(response)
    html = response.data.decode()
    assert "For my appointment" in page
    assert "Pat Lee · infusion diary · 17 Mar 2026 to 20 Mar 2026 · printed 21 Mar 2026" in page
    assert 'media="print"' in html and "print.css" in html and "print.js" in html
    assert re.search(r'<button type="button" class="button primary" data-print hidden>Print</button>',
                     html)
    assert html.count("<caption>Check-ins after infusion") == 2
    assert "Hour 8 Tue 17 Mar, 6:40 pm 5 None No =private thought" in page
    assert "Fewer side effects than your last infusion" in page and "No flags." in page


def test_a_report_of_one_infusion(app, team, fake_clock):
    infusions = course_of(app, team, fake_clock, 2)
    response = team["patient_client"].get(f"/infusions/{infusions[0]['id']}/report")
    page = text_of(response)
    assert "Infusion 1 of Pat Lee, Tue 17 Mar 2026, 10:00 am." in page
    assert "Pat Lee · infusion diary · 17 Mar 2026 · printed 21 Mar 2026" in page
    assert 'role="img"' in response.data.decode() and "How the" not in page
    assert "The 24 hours after infusion 1" in page or "the 24 hours after infusion 1" in page


def test_the_care_teams_reports_keep_to_what_they_may_read(app, team, fake_clock):
    infusions = course_of(app, team, fake_clock, 2)
    pid = team["patient"]["id"]
    doctor = text_of(team["doctor_client"].get(f"/patients/{pid}/infusions/{infusions[0]['id']}/report"))
    assert "Report: Pat Lee" in doctor and "=private thought" in doctor and "Self-harm" in doctor
    carer = text_of(team["carer_client"].get(f"/patients/{pid}/course/report"))
    assert "private thought" not in carer and "Self-harm" not in carer and "Hour 8" not in carer


def test_bad_input_is_a_404_and_writes_nothing(app, team, users, fake_clock):
    infusions = course_of(app, team, fake_clock, 1)
    stranger = users.create("patient", name="Other Person")
    other_doctor = users.create("clinician", name="Dr Other")
    with app.app_context():
        fake_clock.set(LAST_START + timedelta(days=5))
        theirs = record_infusion(stranger["id"], LAST_START + timedelta(days=4, hours=20))
    pid, mine = team["patient"]["id"], infusions[0]["id"]
    cases = [
        (team["patient_client"], f"/infusions/{theirs['id']}/report"),
        (team["patient_client"], "/infusions/99999999/report"),
        (team["patient_client"], f"/infusions/{2**63}/report"),
        (team["patient_client"], f"/patients/{pid}/course"),
        (team["doctor_client"], f"/patients/{stranger['id']}/course"),
        (team["doctor_client"], f"/patients/{pid}/infusions/{theirs['id']}/report"),
        (team["doctor_client"], f"/patients/{stranger['id']}/infusions/{theirs['id']}/report"),
        (team["doctor_client"], "/course"),
        (team["carer_client"], f"/patients/{pid}/infusions/99999/report"),
        (users.client(other_doctor), f"/patients/{pid}/course/report"),
    ]
    before, audit_before = diary_tables(app), last_audit(app)
    for client, path in cases:
        assert client.get(path).status_code == 404, path
    assert diary_tables(app) == before
    assert all(row["outcome"] == "denied" for row in audit_rows(app, audit_before))
    assert team["patient_client"].get(f"/infusions/{mine}/report").status_code == 200
    assert app.test_client().get("/course").status_code == 302


def test_pages_stay_small_with_their_css(app, team, fake_clock):
    course_of(app, team, fake_clock, 50, every_days=2)
    client = team["patient_client"]
    css = sum(len(client.get(path).data) for path in ("/static/style.css", "/static/course.css"))
    for path in ("/course", "/course/report", f"/patients/{team['patient']['id']}/course"):
        use = team["doctor_client"] if path.startswith("/patients") else client
        response = use.get(path)
        extra = len(client.get("/static/print.css").data) if "report" in path else 0
        total = len(response.data) + css + extra
        print(f"page weight {path}: {len(response.data)} + CSS {css + extra} = {total} bytes")
        assert total < PAGE_BUDGET, (path, len(response.data), css)
