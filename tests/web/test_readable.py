"""Issue 13 over HTTP: pages that tell the truth and carry valid HTML, for each role.

The chart, the schedule and the flag rules have their own tests in tests/rules; this file checks
what reaches the page: unique ids, the home page's order, the clinician's urgent markers (never
the caregiver's), the caregiver's list, and one set of numbers for a symptom everywhere.
"""

import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from diary import access
from diary.rules import clock
from diary.web import demo

from tests.helpers import check_in, join_care_team, query, record_infusion

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York
END = NOW - timedelta(hours=5)  # the infusion ended 5 hours ago


def repeated_ids(page: str) -> list[str]:
    counts = Counter(re.findall(r'\sid="([^"]+)"', page))
    return sorted(name for name, seen in counts.items() if seen > 1)


@pytest.fixture
def clinic(app, users, fake_clock):
    """Pat, with Dr Ada Moss and Sam Lee in the care team, 5 hours after an infusion: a calm
    check-in, then an urgent one (mood 1, a yes), then a dizzy one."""
    fake_clock.set(NOW)
    pat = users.create("patient", name="Pat Lee")
    ada = users.create("clinician", name="Dr Ada Moss")
    sam = users.create("caregiver", name="Sam Lee")
    with app.app_context():
        join_care_team(pat["id"], ada["id"], "clinician")
        join_care_team(pat["id"], sam["id"], "caregiver")
        infusion = record_infusion(pat["id"], END - timedelta(minutes=40))
        ids = [
            check_in(pat["id"], infusion, END + timedelta(hours=1), mood=6,
                     severities={"thinking": 2, "dizziness": 2}, safety="no"),
            check_in(pat["id"], infusion, END + timedelta(hours=2), mood=1, safety="yes",
                     severities={"thinking": 1}),
            check_in(pat["id"], infusion, END + timedelta(hours=4, minutes=30), mood=5,
                     severities={"thinking": 1}, safety="unsaid"),
        ]
    return {"pat": pat, "ada": ada, "sam": sam, "infusion": infusion["id"], "checkins": ids,
            "clients": {name: users.client(user) for name, user in
                        (("pat", pat), ("ada", ada), ("sam", sam))}}


def page_of(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.data.decode()


def test_pages_with_several_forms_repeat_no_id(clinic, app):
    """The Nu checker's one error: id="csrf_token" once per form. Hidden tokens carry no id."""
    pat, ada = clinic["clients"]["pat"], clinic["clients"]["ada"]
    patient_id = clinic["pat"]["id"]
    pat.post("/care-team/invite/caregiver")
    app.config["WTF_CSRF_ENABLED"] = True  # signed in already: the pages carry their tokens
    pages = {
        "pat": ["/diary", f"/infusions/{clinic['infusion']}", "/care-team", "/care-team/seen",
                f"/infusions/{clinic['infusion']}/check-in"],
        "ada": ["/clinic/patients", "/clinic/flags", f"/patients/{patient_id}",
                f"/patients/{patient_id}/thresholds"],
    }
    for who, paths in pages.items():
        client = clinic["clients"][who]
        for path in paths:
            page = page_of(client, path)
            assert page.count('name="csrf_token"') >= 1, path
            assert repeated_ids(page) == [], (path, repeated_ids(page))
    flags = page_of(ada, "/clinic/flags")
    assert flags.count('name="csrf_token"') >= 3  # a form per flag, and signing out
    assert 'id="csrf_token"' not in flags


def test_the_clinician_s_chart_marks_urgent_check_ins_and_the_caregiver_s_never(clinic):
    patient_id = clinic["pat"]["id"]
    doctor = page_of(clinic["clients"]["ada"], f"/patients/{patient_id}")
    svg = re.search(r"<svg.*?</svg>", doctor, re.S).group(0)
    assert "Urgent check-ins" in svg and "Urgent check-in<" in svg  # the strip and the legend
    assert svg.count(">!</text>") == 2  # one marker, one legend swatch
    assert "Urgent: hour 2 (yes to the safety question; mood 1)" in doctor
    assert "<th scope=\"col\">Urgent</th>" in doctor
    for path in (f"/patients/{patient_id}",
                 f"/patients/{patient_id}/infusions/{clinic['infusion']}"):
        carer = page_of(clinic["clients"]["sam"], path)
        assert "<svg" in carer, path
        for words in ("Urgent", ">!<", "Flagged after"):
            assert words not in carer, (path, words)
    own = page_of(clinic["clients"]["pat"], "/diary")
    assert "Urgent check-in" not in own and "Flagged after 4 h" in own


def test_one_number_for_a_symptom_in_the_chart_the_flag_and_the_tables(clinic, users):
    """Hard to think clearly: usually settles within about 2 hours, flagged after 4 h."""
    patient_id = clinic["pat"]["id"]
    ada = clinic["clients"]["ada"]
    queue = page_of(ada, "/clinic/flags")
    assert ("Hard to think clearly or find words: Mild at hour 4; usually settles within about "
            "2 hours") in queue
    assert "Flagged after 4 h." in queue
    chart = page_of(ada, f"/patients/{patient_id}")
    assert "Flagged after 4 h</text>" in chart
    assert "Usually settles within 2 h. Flagged after 4 h." in chart  # under the table's heading
    thresholds = page_of(ada, f"/patients/{patient_id}/thresholds")
    row = re.search(r"Hard to think clearly or find words<span class=\"th-note\">([^<]+)</span>"
                    r"</th>\s*<td>(\d+) h</td>", thresholds)
    assert row.groups() == ("Usually settles within about 2 hours", "4")


def test_the_caregiver_s_list_gives_the_latest_hour_and_mood_and_what_to_watch_for(clinic):
    page = page_of(clinic["clients"]["sam"], "/shared/")
    assert "Latest shared check-in: <strong>hour 4, mood 5 of 10</strong>" in page
    assert '<h2 id="watch-heading">What to watch for</h2>' in page
    watch = page.split('id="watch-heading"')[1].split("</section>")[0]
    for words in ("no driving", "Call the clinic", "Call 911", "Call or text 988"):
        assert words in watch, words
    assert "Chose not to answer" not in page


def test_the_caregiver_s_latest_is_the_latest_shared_one(clinic, app):
    patient = SimpleNamespace(id=clinic["pat"]["id"], role="patient")
    with app.app_context():
        row = access.own_infusion(patient, clinic["infusion"])
        check_in(patient.id, row, END + timedelta(hours=4, minutes=50), mood=9, shared=False)
    page = page_of(clinic["clients"]["sam"], "/shared/")
    assert "hour 4, mood 5 of 10" in page and "mood 9" not in page


def test_the_patient_s_home_starts_with_what_they_can_do_now(clinic):
    page = page_of(clinic["clients"]["pat"], "/diary")
    main = page[page.index("<h1>"):]
    check_in_now = main.index(">Check in now</a>")
    record = main.index(">Record an infusion</a>")
    assert check_in_now < record < main.index("<svg") < main.index(">Suggested check-ins<")
    assert main.count(">Check in now</a>") == 1


def test_the_home_page_moves_a_closed_diary_to_earlier_infusions(clinic, fake_clock, users):
    fake_clock.set(END + timedelta(hours=24 + 48, minutes=1))
    page = page_of(users.client(clinic["pat"]), "/diary")
    assert "Earlier infusions" in page and ">Check in now<" not in page
    assert "<svg" not in page
    assert page.index(">Record an infusion</a>") < page.index("Earlier infusions")


def test_a_declined_safety_answer_shows_the_patient_no_alarm(clinic):
    pat = clinic["clients"]["pat"]
    page = page_of(pat, f"/infusions/{clinic['infusion']}?saved={clinic['checkins'][2]}")
    assert 'class="alert urgent"' not in page and 'role="alert"' not in page
    assert "crisis-card" not in page
    assert "Something is taking longer to settle" in page  # its lasting symptom, calmly


def test_the_demo_clinic_raises_the_declined_answer_for_its_clinician(app, fake_clock):
    """Riley said "I'd rather not say": a quiet flag, among the demo's."""
    with app.app_context():
        demo.seed()
    kinds = {(row["kind"], row["urgent"]) for row in query(app, "SELECT kind, urgent FROM flags")}
    assert ("safety_unanswered", 0) in kinds
    assert clock.now()  # the seed ran on the test's clock


def test_the_check_in_page_stays_under_30_kb_with_its_stylesheet(clinic, app):
    """Issue 13: the page a dizzy patient opens most, with everything it needs to be drawn."""
    app.config["WTF_CSRF_ENABLED"] = True  # as served: with its form token
    page = clinic["clients"]["pat"].get(f"/infusions/{clinic['infusion']}/check-in")
    stylesheet = Path(app.static_folder) / "style.css"
    weight = len(page.data) + stylesheet.stat().st_size
    print(f"\ncheck-in page: {len(page.data)} bytes of HTML + {stylesheet.stat().st_size} of CSS")
    assert weight < 30_000, weight
