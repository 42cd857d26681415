"""Flags over HTTP: what the patient sees at once, the clinician's queue and acknowledgement,
reopening and withdrawal, thresholds, who sees the safety answer, and the cost of the pages.

Every patient's infusion runs 01:20-02:00 New York time (05:20-06:00 UTC) on 10 March 2026, and
the clock stands at 14:00 UTC, hour 8 after the end, unless a test moves it.
"""

import html as html_lib
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from diary.rules import clock
from diary.rules.catalogue import CODES

from tests.helpers import query, sql_statements

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York (EDT)
END = datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc)  # 02:00 in New York
STARTED = "2026-03-10T01:20"
DIZZY = "Dizzy or spinning"


# --- Helpers ----------------------------------------------------------------------------------

def local(moment, zone="America/New_York"):
    return clock.local(moment, zone).strftime("%Y-%m-%dT%H:%M")


def at_hour(hours, minutes=0):
    """A check-in time `hours` (and minutes) after the infusion's end, as the form takes it."""
    return local(END + timedelta(hours=hours, minutes=minutes))


def record(client, started=STARTED, length="40"):
    response = client.post("/infusions/new", data={
        "started_at": started, "length_minutes": length, "note": "",
    })
    assert response.status_code == 302, response.data
    return int(re.search(r"/infusions/(\d+)", response.headers["Location"]).group(1))


def check_in(client, infusion_id=None, *, at=None, mood="6", shared="y", **fields):
    """Post a check-in; returns the response (a redirect to the response page on success)."""
    data = {"mood": mood, "at": at or local(NOW), "shared": shared, **fields}
    return client.post(f"/infusions/{infusion_id or client.infusion}/check-in", data={
        key: value for key, value in data.items() if value is not None
    })


def saved(response) -> int:
    assert response.status_code == 302, response.data
    return int(re.search(r"[?&]saved=(\d+)", response.headers["Location"]).group(1))


def response_page(client, response) -> str:
    """The page the patient lands on after saving a check-in."""
    saved(response)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.data.decode()


def before_heading(page: str) -> str:
    """Everything in <main> that comes before the page's own heading: what is shown first."""
    return page[page.index('<main id="main">'):page.index("<h1>")]


def text(fragment: str) -> str:
    words = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" ([.,])", r"\1", words)


def join(patient_client, member_client):
    """The patient invites the member over HTTP and the member accepts the link."""
    kind = member_client.user["role"]
    response = patient_client.post(f"/care-team/invite/{kind}")
    assert response.status_code == 302, response.data
    page = patient_client.get(response.headers["Location"]).data.decode()
    link = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', page).group(1)
    accepted = member_client.post(urlsplit(html_lib.unescape(link)).path)
    assert accepted.status_code == 302, accepted.data


def count(app, table, where="1", params=()):
    return query(app, f"SELECT count(*) FROM {table} WHERE {where}", params)[0][0]


def flag_rows(app):
    return query(app, "SELECT * FROM flags ORDER BY id")


def the_flag(app, kind, symptom="", patient_id=None):
    rows = [row for row in flag_rows(app) if row["kind"] == kind and row["symptom"] == symptom
            and (patient_id is None or row["patient_id"] == patient_id)]
    assert len(rows) == 1, [dict(row) for row in flag_rows(app)]
    return rows[0]


def events(app, flag_id):
    return [row["event"] for row in query(
        app, "SELECT event FROM flag_events WHERE flag_id = ? ORDER BY id", (flag_id,))]


def snapshot(app):
    """Everything a refused request must leave as it was."""
    return ([tuple(row) for row in flag_rows(app)],
            [tuple(row) for row in query(app, "SELECT * FROM flag_events ORDER BY id")],
            [tuple(row) for row in query(app, "SELECT * FROM thresholds ORDER BY symptom")])


def queue(client, path="/clinic/flags"):
    """The clinician's Flags page as (css class, flag id, plain text) per item, in page order."""
    page = client.get(path)
    assert page.status_code == 200
    items = re.findall(r'<li class="card flag ([\w-]+)" id="flag-(\d+)">(.*?)</li>',
                       page.data.decode(), re.S)
    return [(css, int(flag_id), text(body)) for css, flag_id, body in items]


def acknowledge(client, flag_id, note="", confirmed="yes"):
    return client.post(f"/clinic/flags/{flag_id}/acknowledge",
                       data={"note": note, "confirmed": confirmed})


# --- Fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def ada(fake_clock, users):
    """The clinician."""
    fake_clock.set(NOW)
    return users.client(users.create("clinician", name="Dr Ada Moss"))


@pytest.fixture
def new_patient(users, ada):
    """Factory: a New York patient with one infusion, with Ada in the care team unless told."""

    def make(name, clinician=True):
        client = users.client(users.create("patient", name=name))
        if clinician:
            join(client, ada)
        client.infusion = record(client)
        return client

    return make


@pytest.fixture
def pat(new_patient):
    return new_patient("Pat Lee")


@pytest.fixture
def sam(users, pat):
    """Pat's caregiver."""
    client = users.client(users.create("caregiver", name="Sam Lee"))
    join(pat, client)
    return client


@pytest.fixture
def other_clinician(users):
    return users.client(users.create("clinician", name="Dr Otto Vance"))


# --- The question itself ----------------------------------------------------------------------

def test_safety_question_is_asked_with_no_answer_chosen(pat):
    page = pat.get(f"/infusions/{pat.infusion}/check-in").data.decode()
    question = "Since your infusion, have you had thoughts of harming or killing yourself?"
    assert f"<legend>{question}</legend>" in html_lib.unescape(page)  # the first check-in
    labels = re.findall(r'name="safety" type="radio" value="(\w+)"><span>([^<]+)<', page)
    assert [(value, html_lib.unescape(label)) for value, label in labels] == [
        ("no", "No"), ("yes", "Yes"), ("unsaid", "I'd rather not say")]
    assert not re.search(r'checked[^>]*name="safety"|name="safety"[^>]*checked', page)


def test_later_check_ins_ask_since_the_last_one_and_the_first_keeps_since_the_infusion(pat):
    first = saved(check_in(pat, at=at_hour(1), safety="no"))
    later = saved(check_in(pat, at=at_hour(2), safety="no"))
    since_last = "<legend>Since your last check-in, have you had thoughts of harming"
    since_infusion = "<legend>Since your infusion, have you had thoughts of harming"
    page = pat.get(f"/infusions/{pat.infusion}/check-in").data.decode()
    assert since_last in page and since_infusion not in page
    assert since_infusion in pat.get(f"/check-ins/{first}/edit").data.decode()
    assert since_last in pat.get(f"/check-ins/{later}/edit").data.decode()
    diary = pat.get(f"/infusions/{pat.infusion}").data.decode()
    assert "Thoughts of self-harm since the infusion: <strong>No</strong>" in diary
    assert "Thoughts of self-harm since the last check-in: <strong>No</strong>" in diary


def test_nothing_to_report_check_in_still_takes_two_answers(pat, app):
    response = pat.post(f"/infusions/{pat.infusion}/check-in",
                        data={"mood": "7", "at": local(NOW)})
    page = response_page(pat, response)
    assert query(app, "SELECT safety FROM checkins")[0][0] is None
    assert 'class="alert' not in page and count(app, "flags") == 0


def test_a_made_up_safety_answer_is_refused(pat, app):
    response = check_in(pat, safety="maybe")
    assert response.status_code == 200
    assert "Choose No, Yes or I&#39;d rather not say." in response.data.decode()
    assert count(app, "checkins") == 0 and count(app, "flags") == 0


# --- What the patient sees at once ------------------------------------------------------------

URGENT = [
    pytest.param({"safety": "yes"}, "safety", "thoughts of harming or killing yourself",
                 id="safety-yes"),
    pytest.param({"symptom_headache": "4", "at": at_hour(1)}, "severe",
                 "You rated something as very severe", id="very-severe"),
    pytest.param({"mood": "1"}, "low_mood", "You are feeling very low", id="mood-1"),
    pytest.param({"mood": "0"}, "low_mood", "You are feeling very low", id="mood-0"),
    pytest.param({"symptom_thinking": "4", "at": at_hour(0, -10)}, "severe",
                 "You rated something as very severe", id="during-the-infusion"),
]


@pytest.mark.parametrize("answers, kind, sentence", URGENT)
def test_urgent_answer_shows_crisis_help_before_anything_else(pat, app, answers, kind, sentence):
    page = response_page(pat, check_in(pat, **answers))
    first = before_heading(page)
    # The crisis help is the first thing in <main>, ahead of the flash and the diary itself.
    crisis = page.index('<section class="alert urgent" role="alert"')
    assert crisis < page.index('role="status">Check-in saved.') < page.index("<h1>")
    assert page.index("<h1>") < page.index('class="checkins"')
    assert page.index('<main id="main">') < crisis
    words = text(first)
    assert sentence in words
    assert 'href="tel:911"' in first and "Call 911 in an emergency" in words
    assert 'href="tel:988"' in first and 'href="sms:988"' in first
    assert "Call or text 988" in words
    assert "741741" in first
    assert "This diary is not watched around the clock." in words
    assert "Your care team has been alerted: this is now at the top of their list." in words
    assert "lasting longer than usual" not in page
    row = the_flag(app, kind, "headache" if "symptom_headache" in answers
                   else "thinking" if "symptom_thinking" in answers else "")
    assert (row["state"], row["urgent"]) == ("open", 1)


def test_urgent_without_a_clinician_says_no_clinic_sees_it_and_to_call_a_doctor(new_patient, users):
    lone = new_patient("Lou Park", clinician=False)
    join(lone, users.client(users.create("caregiver", name="Kim Park")))  # a caregiver is not a clinician
    first = text(before_heading(response_page(lone, check_in(lone, safety="yes"))))
    assert "Call or text 988" in first and "741741" in first
    assert "alerted" not in first
    assert "No clinic sees this diary, so nobody else has been told." in first
    assert "Please also call your own doctor and tell them." in first


def test_a_clinician_who_left_is_no_longer_said_to_be_alerted(pat, ada):
    patient_id = pat.user["id"]
    assert ada.post(f"/care-team/leave/{patient_id}").status_code == 302
    first = text(before_heading(response_page(pat, check_in(pat, mood="0"))))
    assert "alerted" not in first and "Please also call your own doctor" in first


def test_lasting_symptom_gets_a_calm_note_first(pat, app):
    page = response_page(pat, check_in(pat, symptom_dizziness="2"))  # hour 8; flags after 6
    first = before_heading(page)
    assert first.index('<section class="alert lasting"') < first.index('role="status">Check-in saved.')
    words = text(first)
    assert (f"{DIZZY} is lasting longer than usual. It usually settles within 2-4 hours. "
            "Your clinic will see this in your diary.") in words
    assert "Call your clinic if it gets worse or worries you." in words
    assert "Call 911 if you have trouble breathing" in words
    # Calm: no urgent or danger styling, no alert role, no crisis cards.
    for alarming in ("urgent", "danger", 'role="alert"', "crisis-card", "badge"):
        assert alarming not in first, alarming
    assert "crisis-card" not in page
    row = the_flag(app, "lasting", "dizziness")
    assert (row["state"], row["urgent"], row["hour"], row["flag_after_hours"]) == ("open", 0, 8, 6)


def test_two_lasting_symptoms_get_one_calm_note_each(pat):
    first = text(before_heading(response_page(
        pat, check_in(pat, symptom_dizziness="1", symptom_nausea="3"))))
    assert f"{DIZZY} is lasting longer than usual." in first
    assert "Sick to my stomach is lasting longer than usual." in first


def test_very_severe_and_lasting_show_crisis_help_then_the_calm_note(pat):
    page = response_page(pat, check_in(pat, symptom_dizziness="4"))
    first = before_heading(page)
    assert 0 <= first.index('class="alert urgent"') < first.index('class="alert lasting"')
    assert "You rated something as very severe" in text(first)


@pytest.mark.parametrize("answers", [
    pytest.param({"safety": "no"}, id="safety-no"),
    pytest.param({"mood": "2"}, id="mood-2"),
    pytest.param({"symptom_headache": "3", "at": at_hour(1)}, id="severe-not-very"),
    pytest.param({"symptom_dizziness": "3", "at": at_hour(5, 59)}, id="before-flag-after"),
    pytest.param({"symptom_headache": "2"}, id="headache-hour-8-of-12"),
])
def test_nothing_worrying_shows_no_alert_and_raises_no_flag(pat, app, answers):
    page = response_page(pat, check_in(pat, **answers))
    assert 'class="alert' not in page
    assert count(app, "flags") == 0


def test_rather_not_say_raises_a_quiet_flag_for_a_person_to_follow_up(pat, ada, sam, app):
    page = response_page(pat, check_in(pat, at=at_hour(2, 30), safety="unsaid"))
    assert 'class="alert' not in page and 'role="alert"' not in page  # no alarm for the patient
    assert 'class="crisis' not in page
    assert "Need help now?" in page  # the usual help link, as on every page
    flag = the_flag(app, "safety_unanswered", "")
    assert (flag["urgent"], flag["state"], flag["hour"]) == (0, "open", 2)
    [(css, flag_id, words)] = queue(ada)
    assert (css, flag_id) == ("flag-lasting", flag["id"])
    assert "Urgent" not in words
    assert "Safety question not answered" in words
    assert "Chose not to answer the safety question at hour 2" in words
    assert "Chose not to answer" not in pat.get("/diary").data.decode()
    for path in (f"/patients/{pat.user['id']}", "/shared/"):
        assert "Chose not to answer" not in sam.get(path).data.decode(), path


def test_the_alert_is_only_on_the_response_to_the_check_in(pat, app, users):
    checkin_id = saved(check_in(pat, safety="yes"))
    assert 'class="alert' not in pat.get(f"/infusions/{pat.infusion}").data.decode()
    assert 'id="urgent-heading"' not in pat.get("/diary").data.decode()
    # Saying what another infusion's check-in said is not shown on this infusion's page.
    earlier = record(pat, started="2026-03-05T09:00")
    assert 'class="alert' not in pat.get(f"/infusions/{earlier}?saved={checkin_id}").data.decode()
    # Someone else's check-in id in the address: a plain 404, never their answers.
    stranger = users.client(users.create("patient", name="Ivy Stone"))
    mine = record(stranger)
    assert stranger.get(f"/infusions/{mine}?saved={checkin_id}").status_code == 404


def test_the_response_to_an_edit_says_it_again(pat):
    checkin_id = saved(check_in(pat))
    response = pat.post(f"/check-ins/{checkin_id}/edit",
                        data={"mood": "6", "at": local(NOW), "safety": "yes"})
    assert saved(response) == checkin_id
    assert "Call or text 988" in text(before_heading(response_page(pat, response)))


# --- The clinician's queue --------------------------------------------------------------------

def test_queue_lists_urgent_first_then_newest_evidence_across_patients(pat, new_patient, ada, app):
    bo = new_patient("Bo Chen")
    saved(check_in(pat, at=at_hour(6, 10), symptom_dizziness="2"))  # lasting, oldest
    saved(check_in(pat, at=at_hour(6, 20), mood="1"))  # urgent
    saved(check_in(bo, at=at_hour(6, 40), symptom_dizziness="2"))  # lasting, newer than the urgent
    saved(check_in(bo, at=at_hour(7), safety="yes"))  # urgent, newest

    page = ada.get("/clinic/flags").data.decode()
    assert "4 open flags, urgent first." in page
    items = queue(ada)
    ids = [flag_id for _, flag_id, _ in items]
    bo_id, pat_id = bo.user["id"], pat.user["id"]
    assert ids == [the_flag(app, "safety", patient_id=bo_id)["id"],
                   the_flag(app, "low_mood", patient_id=pat_id)["id"],
                   the_flag(app, "lasting", "dizziness", patient_id=bo_id)["id"],
                   the_flag(app, "lasting", "dizziness", patient_id=pat_id)["id"]]
    assert [css for css, _, _ in items] == ["flag-urgent", "flag-urgent", "flag-lasting",
                                           "flag-lasting"]
    words = [body for _, _, body in items]
    assert words[0].startswith("Urgent Safety answer Bo Chen")
    assert "Answered yes to the safety question at hour 7" in words[0]
    assert "Latest evidence Tue 10 Mar, 9:00 am" in words[0]
    assert words[1].startswith("Urgent Very low mood Pat Lee") and "Mood 1 of 10 at hour 6" in words[1]
    assert words[2].startswith("Lasting longer than usual Bo Chen")
    assert (f"{DIZZY}: Moderate at hour 6; usually settles within 2-4 hours" in words[2])
    assert "Latest evidence Tue 10 Mar, 8:40 am" in words[2]
    assert "Urgent" not in words[2] and "Urgent" not in words[3]
    for _, flag_id, body in items:
        assert body.endswith("Note (optional) Show this note to the patient Acknowledge")
        assert f'action="/clinic/flags/{flag_id}/acknowledge"' in page
    assert f'href="/patients/{bo_id}"' in page and f'href="/patients/{pat_id}"' in page


def test_queue_holds_only_open_flags_of_ones_own_patients(pat, new_patient, ada, other_clinician,
                                                          app):
    saved(check_in(pat, symptom_dizziness="2"))
    assert "No open flags." in other_clinician.get("/clinic/flags").data.decode()
    lone = new_patient("Lou Park", clinician=False)
    saved(check_in(lone, safety="yes"))
    assert [body.split(" Dizzy")[0] for _, _, body in queue(ada)] == [
        "Lasting longer than usual Pat Lee"]
    ada.post(f"/care-team/leave/{pat.user['id']}")
    assert queue(ada) == []
    assert "No open flags. Nothing needs your attention right now." in \
        ada.get("/clinic/flags").data.decode()


def test_patients_and_caregivers_cannot_open_the_queue(pat, sam):
    saved(check_in(pat, safety="yes"))
    for client in (pat, sam):
        assert client.get("/clinic/flags").status_code == 404
        assert client.get("/clinic/patients").status_code == 404


# --- Acknowledgement --------------------------------------------------------------------------

def test_acknowledge_keeps_who_when_and_note_and_leaves_the_queue(pat, ada, app, fake_clock):
    saved(check_in(pat, symptom_dizziness="2"))
    flag_id = the_flag(app, "lasting", "dizziness")["id"]
    fake_clock.advance(minutes=5)
    response = acknowledge(ada, flag_id, "  Called Pat: resting at home <b>ok</b>.  ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/clinic/flags")

    row = the_flag(app, "lasting", "dizziness")
    assert row["state"] == "acknowledged"
    assert row["acknowledged_by"] == ada.user["id"]
    assert row["acknowledged_note"] == "Called Pat: resting at home <b>ok</b>."
    assert row["acknowledged_at"] == "2026-03-10 14:05:00"
    assert row["acknowledged_peak_severity"] == 2
    [event] = query(app, "SELECT * FROM flag_events WHERE event = 'acknowledged'")
    assert (event["flag_id"], event["actor_id"], event["at"], event["note"]) == (
        flag_id, ada.user["id"], "2026-03-10 14:05:00", "Called Pat: resting at home <b>ok</b>.")
    assert events(app, flag_id) == ["raised", "acknowledged"]
    [audit] = query(app, "SELECT * FROM audit WHERE action = 'flag_acknowledged'")
    assert (audit["outcome"], audit["actor_id"], audit["patient_id"], audit["subject"]) == (
        "ok", ada.user["id"], pat.user["id"], f"flag:{flag_id}")

    page = ada.get("/clinic/flags").data.decode()
    assert "Flag acknowledged." in page and "No open flags." in page

    patient_page = ada.get(f"/patients/{pat.user['id']}").data.decode()
    assert "<b>ok</b>" not in patient_page  # the note is escaped
    words = text(patient_page)
    assert ("Lasting longer than usual: Dizzy or spinning: Moderate at hour 8; usually settles "
            "within 2-4 hours. Acknowledged by Dr Ada Moss (“Called Pat: resting at home <b>ok</b>.”)"
            ) in words
    assert "Tue 10 Mar, 10:00 am: raised" in words
    assert "Tue 10 Mar, 10:05 am: acknowledged by Dr Ada Moss" in words


def test_acknowledge_without_a_note_and_with_exactly_500_characters(pat, ada, app):
    saved(check_in(pat, symptom_dizziness="2", safety="yes"))
    lasting = the_flag(app, "lasting", "dizziness")["id"]
    safety = the_flag(app, "safety")["id"]
    assert acknowledge(ada, lasting, "   ").status_code == 302
    assert acknowledge(ada, safety, "n" * 500).status_code == 302
    assert the_flag(app, "lasting", "dizziness")["acknowledged_note"] is None
    assert the_flag(app, "safety")["acknowledged_note"] == "n" * 500
    assert {row["state"] for row in flag_rows(app)} == {"acknowledged"}


def test_a_note_over_500_characters_is_refused_and_nothing_is_written(pat, ada, app):
    saved(check_in(pat, symptom_dizziness="2"))
    flag_id = the_flag(app, "lasting", "dizziness")["id"]
    before = snapshot(app)
    response = acknowledge(ada, flag_id, "n" * 501)
    assert response.status_code == 400
    page = response.data.decode()
    assert "Please keep the note under 500 characters." in page
    assert "n" * 501 in page  # the words are kept to shorten
    assert snapshot(app) == before
    assert count(app, "audit", "action = 'flag_acknowledged'") == 0
    assert the_flag(app, "lasting", "dizziness")["state"] == "open"


def test_the_refused_note_keeps_its_label(pat, ada, app):
    saved(check_in(pat, symptom_dizziness="2"))
    flag_id = the_flag(app, "lasting", "dizziness")["id"]
    page = acknowledge(ada, flag_id, "n" * 501).data.decode()
    assert re.search(rf'<textarea[^>]*id="note-{flag_id}"', page)
    assert f'<label for="note-{flag_id}">' in page


def test_a_long_queue_shows_25_a_page_with_next_and_previous(pat, ada, app):
    saved(check_in(pat, **{f"symptom_{code}": "4" for code in CODES}))  # 14 severe + 12 lasting
    assert count(app, "flags", "state = 'open'") == 26
    page = ada.get("/clinic/flags").data.decode()
    assert "26 open flags, urgent first. 14 of them urgent." in page
    assert "Showing 1 to 25 of 26" in page and 'rel="next"' in page and 'rel="prev"' not in page
    first = queue(ada)
    second_page = ada.get("/clinic/flags?page=2").data.decode()
    assert "Showing 26 to 26 of 26" in second_page and 'rel="prev"' in second_page
    second = [flag_id for _, flag_id, _ in queue(ada, "/clinic/flags?page=2")]
    assert len(first) == 25 and len(second) == 1
    assert set(second).isdisjoint(flag_id for _, flag_id, _ in first)
    assert [urgent for urgent, _, _ in first][:14] == ["flag-urgent"] * 14


def test_a_refused_note_on_a_flag_beyond_the_first_25_is_still_explained(pat, ada, app):
    saved(check_in(pat, **{f"symptom_{code}": "4" for code in CODES}))
    shown = [flag_id for _, flag_id, _ in queue(ada)]
    hidden = next(row["id"] for row in flag_rows(app) if row["id"] not in shown)
    response = acknowledge(ada, hidden, "n" * 501)
    assert response.status_code == 400
    assert "Please keep the note under 500 characters." in response.data.decode()


def test_forged_flag_ids_answer_404_and_write_nothing(pat, ada, app):
    saved(check_in(pat, symptom_dizziness="2"))
    before, audits = snapshot(app), count(app, "audit")
    for path in ("/clinic/flags/9999/acknowledge", "/clinic/flags/0/acknowledge",
                 "/clinic/flags/-1/acknowledge", "/clinic/flags/x/acknowledge",
                 "/clinic/flags/1.0/acknowledge"):
        assert ada.post(path, data={"note": "hi"}).status_code == 404, path
    assert ada.get(f"/clinic/flags/{the_flag(app, 'lasting', 'dizziness')['id']}/acknowledge"
                   ).status_code == 405
    assert snapshot(app) == before and count(app, "audit") == audits


TOO_BIG = 2 ** 63  # one past SQLite's largest INTEGER


@pytest.mark.parametrize("make_request", [
    pytest.param(lambda pat, ada: ada.post(f"/clinic/flags/{TOO_BIG}/acknowledge",
                                           data={"note": "hi"}), id="acknowledge"),
    pytest.param(lambda pat, ada: ada.post(f"/patients/{TOO_BIG}/thresholds",
                                           data={"symptom": "nausea", "hours": "3"}),
                 id="threshold"),
    pytest.param(lambda pat, ada: pat.get(f"/infusions/{pat.infusion}?saved={TOO_BIG}"),
                 id="saved-check-in"),
])
def test_ids_too_large_for_sqlite_are_refused_not_a_500(pat, ada, app, make_request):
    before = snapshot(app)
    assert make_request(pat, ada).status_code in (200, 404)
    assert snapshot(app) == before


def test_the_largest_sqlite_id_is_a_plain_404(pat, ada, app):
    before = snapshot(app)
    largest = 2 ** 63 - 1
    assert ada.post(f"/clinic/flags/{largest}/acknowledge").status_code == 404
    assert ada.post(f"/patients/{largest}/thresholds",
                    data={"symptom": "nausea", "hours": "3"}).status_code == 404
    assert snapshot(app) == before


def test_a_flag_of_a_patient_not_in_ones_care_answers_404_with_an_audit_row(
        pat, ada, other_clinician, app):
    saved(check_in(pat, safety="yes"))
    flag_id = the_flag(app, "safety")["id"]
    before, audits = snapshot(app), count(app, "audit")
    assert acknowledge(other_clinician, flag_id, "not mine").status_code == 404
    assert snapshot(app) == before
    assert count(app, "audit") == audits + 1
    [audit] = query(app, "SELECT * FROM audit ORDER BY id DESC LIMIT 1")
    assert (audit["action"], audit["outcome"], audit["actor_id"], audit["subject"]) == (
        "flag_acknowledged", "denied", other_clinician.user["id"], f"patient:{pat.user['id']}")
    # Ada, once she has left the care team, is a stranger too.
    ada.post(f"/care-team/leave/{pat.user['id']}")
    assert acknowledge(ada, flag_id).status_code == 404
    assert snapshot(app) == before


def test_caregivers_patients_and_strangers_cannot_acknowledge(pat, sam, app):
    saved(check_in(pat, safety="yes"))
    flag_id = the_flag(app, "safety")["id"]
    before, audits = snapshot(app), count(app, "audit")
    assert acknowledge(sam, flag_id, "seen").status_code == 404
    assert acknowledge(pat, flag_id, "seen").status_code == 404
    anonymous = acknowledge(pat.application.test_client(), flag_id, "seen")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    assert snapshot(app) == before and count(app, "audit") == audits


def test_acknowledging_twice_or_a_withdrawn_flag_changes_nothing_more(pat, ada, app):
    checkin_id = saved(check_in(pat, symptom_dizziness="2"))
    flag_id = the_flag(app, "lasting", "dizziness")["id"]
    acknowledge(ada, flag_id, "first")
    assert acknowledge(ada, flag_id, "second").status_code == 302
    row = the_flag(app, "lasting", "dizziness")
    assert (row["state"], row["acknowledged_note"]) == ("acknowledged", "first")
    assert events(app, flag_id) == ["raised", "acknowledged"]
    assert [r["outcome"] for r in query(
        app, "SELECT outcome FROM audit WHERE action = 'flag_acknowledged' ORDER BY id")] == [
        "ok", "not_open"]
    saved(pat.post(f"/check-ins/{checkin_id}/edit", data={"mood": "6", "at": local(NOW)}))
    assert the_flag(app, "lasting", "dizziness")["state"] == "withdrawn"
    acknowledge(ada, flag_id, "third")
    assert the_flag(app, "lasting", "dizziness")["state"] == "withdrawn"


# --- Reopened and withdrawn -------------------------------------------------------------------

def test_an_acknowledged_lasting_flag_reopens_only_when_a_later_check_in_is_worse(
        pat, ada, app, fake_clock):
    saved(check_in(pat, at=at_hour(7), symptom_dizziness="1"))
    flag_id = the_flag(app, "lasting", "dizziness")["id"]
    acknowledge(ada, flag_id, "mild, fine")

    fake_clock.advance(minutes=10)
    saved(check_in(pat, at=at_hour(7, 30), symptom_dizziness="1"))  # the same, later
    row = the_flag(app, "lasting", "dizziness")
    assert row["state"] == "acknowledged" and row["hour"] == 7
    assert events(app, flag_id) == ["raised", "acknowledged", "updated"]
    assert queue(ada) == []

    fake_clock.advance(minutes=10)
    page = response_page(pat, check_in(pat, at=local(fake_clock.current),
                                       symptom_dizziness="2"))
    assert "lasting longer than usual" in page
    row = the_flag(app, "lasting", "dizziness")
    assert (row["state"], row["peak_severity"], row["latest_severity"], row["hour"]) == (
        "open", 2, 2, 8)
    assert row["acknowledged_by"] == ada.user["id"]  # who acknowledged before is kept
    assert events(app, flag_id) == ["raised", "acknowledged", "updated", "reopened"]
    [(_, queued, words)] = queue(ada)
    assert queued == flag_id and f"{DIZZY}: Moderate at hour 8" in words
    history = text(ada.get(f"/patients/{pat.user['id']}").data.decode())
    assert "Open." in history and "acknowledged by Dr Ada Moss (“mild, fine”)" in history
    assert "Tue 10 Mar, 10:20 am: reopened" in history


def test_an_acknowledged_urgent_flag_reopens_on_any_later_yes(pat, ada, app):
    saved(check_in(pat, at=at_hour(1), safety="yes"))
    flag_id = the_flag(app, "safety")["id"]
    acknowledge(ada, flag_id)
    saved(check_in(pat, at=at_hour(2), safety="no"))
    assert the_flag(app, "safety")["state"] == "acknowledged"
    saved(check_in(pat, at=at_hour(3), safety="yes"))
    assert the_flag(app, "safety")["state"] == "open"
    assert events(app, flag_id) == ["raised", "acknowledged", "reopened"]


def test_edited_away_evidence_withdraws_the_flag_and_keeps_the_row(pat, ada, app):
    checkin_id = saved(check_in(pat, symptom_dizziness="2"))
    flag_id = the_flag(app, "lasting", "dizziness")["id"]
    response = pat.post(f"/check-ins/{checkin_id}/edit",
                        data={"mood": "6", "at": local(NOW), "shared": "y"})  # dizziness: None
    page = response_page(pat, response)
    assert 'class="alert' not in page
    row = the_flag(app, "lasting", "dizziness")
    assert row["id"] == flag_id and row["state"] == "withdrawn"
    assert (row["first_checkin_id"], row["peak_severity"]) == (checkin_id, 2)  # evidence kept
    assert events(app, flag_id) == ["raised", "withdrawn"]
    assert queue(ada) == []
    words = text(ada.get(f"/patients/{pat.user['id']}").data.decode())
    assert "Withdrawn." in words and ": withdrawn" in words

    saved(pat.post(f"/check-ins/{checkin_id}/edit",
                   data={"mood": "6", "at": local(NOW), "symptom_dizziness": "3"}))
    row = the_flag(app, "lasting", "dizziness")
    assert (row["id"], row["state"], row["peak_severity"]) == (flag_id, "open", 3)
    assert events(app, flag_id) == ["raised", "withdrawn", "reopened"]


def test_deleting_the_evidence_or_the_infusion_withdraws(pat, ada, app):
    first = saved(check_in(pat, at=at_hour(7), mood="1"))
    saved(check_in(pat, symptom_dizziness="2"))
    acknowledge(ada, the_flag(app, "low_mood")["id"])
    assert pat.post(f"/check-ins/{first}/delete").status_code == 302
    assert the_flag(app, "low_mood")["state"] == "withdrawn"
    assert the_flag(app, "lasting", "dizziness")["state"] == "open"
    assert pat.post(f"/infusions/{pat.infusion}/delete").status_code == 302
    assert [row["state"] for row in flag_rows(app)] == ["withdrawn", "withdrawn"]
    assert count(app, "flags") == 2 and queue(ada) == []


def test_correcting_the_infusion_times_recomputes(pat, ada, app):
    saved(check_in(pat, at=at_hour(6, 10), symptom_dizziness="2"))
    saved(check_in(pat, at=at_hour(5, 30), symptom_vision="1"))
    assert [(row["kind"], row["symptom"]) for row in flag_rows(app)] == [("lasting", "dizziness")]

    def correct(started):
        response = pat.post(f"/infusions/{pat.infusion}/edit",
                            data={"started_at": started, "length_minutes": "40", "note": ""})
        assert response.status_code == 302, response.data

    correct("2026-03-10T02:20")  # an hour later: the dizziness is at hour 5
    assert the_flag(app, "lasting", "dizziness")["state"] == "withdrawn"
    assert count(app, "flags", "symptom = 'vision'") == 0
    correct("2026-03-10T00:20")  # an hour earlier: both are at hour 6 or later
    assert the_flag(app, "lasting", "dizziness")["state"] == "open"
    vision = the_flag(app, "lasting", "vision")
    assert (vision["state"], vision["hour"]) == ("open", 6)
    assert len(queue(ada)) == 2


# --- Thresholds -------------------------------------------------------------------------------

def threshold_row(page: str, label: str) -> str:
    row = re.search(rf"<th scope=\"row\">{re.escape(label)}<span class=\"th-note\">[^<]*</span>"
                    rf"</th>(.*?)</tr>", page, re.S)
    return text(row.group(1))


def test_a_clinician_sets_and_resets_a_patients_threshold(pat, ada, app, fake_clock):
    patient_id = pat.user["id"]
    saved(check_in(pat, at=at_hour(4), symptom_dizziness="1"))
    assert count(app, "flags") == 0
    path = f"/patients/{patient_id}/thresholds"
    page = ada.get(path).data.decode()
    assert threshold_row(page, DIZZY) == "6 h Default"

    fake_clock.advance(minutes=3)
    response = ada.post(path, data={"symptom": "dizziness", "hours": "3"})
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    row = the_flag(app, "lasting", "dizziness")
    assert (row["state"], row["hour"], row["flag_after_hours"]) == ("open", 4, 3)
    [threshold] = query(app, "SELECT * FROM thresholds")
    assert (threshold["symptom"], threshold["hours"], threshold["set_by"], threshold["set_at"]) == (
        "dizziness", 3, ada.user["id"], "2026-03-10 14:03:00")
    page = ada.get(path).data.decode()
    assert "Threshold saved. Flags are updated." in page
    assert threshold_row(page, DIZZY) == (
        "3 h Dr Ada Moss, Tue 10 Mar, 10:03 am Use the default (6 h) for Dizzy or spinning")
    assert threshold_row(page, "Headache") == "12 h Default"
    [audit] = query(app, "SELECT * FROM audit WHERE action = 'threshold_set'")
    assert (audit["actor_id"], audit["patient_id"], audit["subject"]) == (
        ada.user["id"], patient_id, "dizziness:3")

    # The patient's own threshold decides what they are told at once, too.
    first = text(before_heading(response_page(
        pat, check_in(pat, at=at_hour(4, 30), symptom_dizziness="1"))))
    assert f"{DIZZY} is lasting longer than usual." in first

    response = ada.post(f"/patients/{patient_id}/thresholds/dizziness/reset")
    assert response.status_code == 302
    assert count(app, "thresholds") == 0
    assert the_flag(app, "lasting", "dizziness")["state"] == "withdrawn"
    page = ada.get(path).data.decode()
    assert "Back to the default threshold." in page and threshold_row(page, DIZZY) == "6 h Default"
    assert count(app, "audit", "action = 'threshold_reset' AND subject = 'dizziness'") == 1


def test_a_longer_threshold_withdraws_and_the_limits_1_and_48_are_accepted(pat, ada, app):
    saved(check_in(pat, symptom_dizziness="2"))  # hour 8
    path = f"/patients/{pat.user['id']}/thresholds"
    assert ada.post(path, data={"symptom": "dizziness", "hours": "9"}).status_code == 302
    assert the_flag(app, "lasting", "dizziness")["state"] == "withdrawn"
    assert ada.post(path, data={"symptom": "dizziness", "hours": "48"}).status_code == 302
    assert ada.post(path, data={"symptom": "dizziness", "hours": "1"}).status_code == 302
    assert the_flag(app, "lasting", "dizziness")["state"] == "open"
    assert [row["hours"] for row in query(app, "SELECT hours FROM thresholds")] == [1]
    assert events(app, the_flag(app, "lasting", "dizziness")["id"]) == [
        "raised", "withdrawn", "reopened"]


@pytest.mark.parametrize("data, field, message", [
    ({"symptom": "dizziness", "hours": "0"}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness", "hours": "49"}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness", "hours": "-3"}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness", "hours": "3.5"}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness", "hours": "1e1"}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness", "hours": "six"}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness", "hours": ""}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness"}, "hours", "from 1 to 48"),
    ({"symptom": "dizziness", "hours": "9" * 30}, "hours", "from 1 to 48"),
    ({"symptom": "telepathy", "hours": "3"}, "symptom", "Choose a symptom from the list."),
    ({"symptom": "", "hours": "3"}, "symptom", "Choose a symptom from the list."),
    ({"hours": "3"}, "symptom", "Choose a symptom from the list."),
    ({"symptom": "DIZZINESS", "hours": "3"}, "symptom", "Choose a symptom from the list."),
])
def test_bad_thresholds_are_refused_and_nothing_is_written(pat, ada, app, data, field, message):
    saved(check_in(pat, at=at_hour(4), symptom_dizziness="1"))
    before, audits = snapshot(app), count(app, "audit", "action LIKE 'threshold%'")
    response = ada.post(f"/patients/{pat.user['id']}/thresholds", data=data)
    assert response.status_code == 400
    page = response.data.decode()
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page), page
    assert "Please check the answer marked below." in page
    assert snapshot(app) == before
    assert count(app, "audit", "action LIKE 'threshold%'") == audits


def test_only_the_patients_clinicians_may_see_or_change_thresholds(
        pat, sam, ada, other_clinician, app):
    patient_id = pat.user["id"]
    ada.post(f"/patients/{patient_id}/thresholds", data={"symptom": "nausea", "hours": "8"})
    before = snapshot(app)
    path = f"/patients/{patient_id}/thresholds"
    for client in (other_clinician, sam, pat):
        assert client.get(path).status_code == 404
        assert client.post(path, data={"symptom": "dizziness", "hours": "2"}).status_code == 404
        assert client.post(f"{path}/nausea/reset").status_code == 404
    assert snapshot(app) == before
    denied = query(app, "SELECT action, actor_id FROM audit WHERE outcome = 'denied'")
    assert {(row["action"], row["actor_id"]) for row in denied} == {
        ("threshold_set", other_clinician.user["id"]),
        ("threshold_reset", other_clinician.user["id"])}
    assert ada.post(f"{path}/telepathy/reset").status_code == 404
    assert ada.post("/patients/9999/thresholds", data={"symptom": "nausea", "hours": "3"}
                    ).status_code == 404
    assert snapshot(app) == before
    assert ada.post(f"{path}/dizziness/reset").status_code == 302  # no override: nothing to undo
    assert snapshot(app) == before


# --- Who sees the safety answer ---------------------------------------------------------------

SAFETY_WORDS = ("self-harm", "harming", "safety", "Safety", "Rather not say", "rather not say", "Answered yes",
                "Urgent", "urgent", "Flags")


def test_caregivers_never_see_the_safety_answer_even_on_a_shared_check_in(pat, sam, ada, app):
    patient_id, infusion_id = pat.user["id"], pat.infusion
    answers = {"yes": saved(check_in(pat, at=at_hour(1), safety="yes", mood="1",
                                     note="a rough night")),
               "no": saved(check_in(pat, at=at_hour(2), safety="no")),
               "unsaid": saved(check_in(pat, at=at_hour(3), safety="unsaid"))}
    assert query(app, "SELECT count(*) FROM checkins WHERE shared = 1")[0][0] == 3
    pages = [f"/patients/{patient_id}", f"/patients/{patient_id}/infusions/{infusion_id}",
             *[f"/patients/{patient_id}/check-ins/{cid}" for cid in answers.values()], "/shared/"]
    for path in pages:
        response = sam.get(path)
        assert response.status_code == 200, path
        page = response.data.decode()
        if "check-ins/" in path or "infusions/" in path:
            assert "Mood: <strong>" in page, path  # the check-in itself is there
        for word in SAFETY_WORDS:
            assert word not in page, (path, word)
    assert "a rough night" in sam.get(f"/patients/{patient_id}/check-ins/{answers['yes']}"
                                      ).data.decode()

    for path in pages[:-1]:
        page = ada.get(path).data.decode()
        assert "Thoughts of self-harm since the infusion: <strong>Yes</strong>" in page \
            or "check-ins/" in path, path
    for answer, shown, since in (("yes", "Yes", "the infusion"), ("no", "No", "the last check-in"),
                                 ("unsaid", "I&#39;d rather not say", "the last check-in")):
        page = ada.get(f"/patients/{patient_id}/check-ins/{answers[answer]}").data.decode()
        assert f"Thoughts of self-harm since {since}: <strong>{shown}</strong>" in page
    words = text(ada.get(f"/patients/{patient_id}").data.decode())
    assert "Urgent Safety answer: Answered yes to the safety question at hour 1." in words
    assert "Urgent Very low mood: Mood 1 of 10 at hour 1." in words


def test_the_clinician_sees_an_earlier_yes_in_the_changes_to_a_check_in(pat, sam, ada, app):
    checkin_id = saved(check_in(pat, at=at_hour(1), safety="yes"))
    saved(pat.post(f"/check-ins/{checkin_id}/edit",
                   data={"mood": "6", "at": at_hour(1), "safety": "no", "shared": "y"}))
    path = f"/patients/{pat.user['id']}/infusions/{pat.infusion}"
    caregiver_page = sam.get(path).data.decode()
    assert "Changes to check-ins" not in caregiver_page and "self-harm" not in caregiver_page
    changes = text(ada.get(path).data.decode()).split("Changes to check-ins")[1]
    assert "Pat Lee changed a check-in" in changes
    assert "self-harm" in changes and "Yes" in changes


# --- My patients ------------------------------------------------------------------------------

def test_my_patients_puts_open_urgent_flags_on_top_with_counts(new_patient, ada, app):
    pat = new_patient("Pat Lee")
    new_patient("Cy Diaz")
    di = new_patient("Di Evans")
    bo = new_patient("Bo Chen")
    saved(check_in(pat, symptom_dizziness="2"))  # 1 lasting
    saved(check_in(di, safety="yes", symptom_dizziness="1", symptom_vision="2"))  # 1 urgent, 3 in all
    saved(check_in(bo, at=at_hour(1), mood="1", symptom_headache="4"))  # 2 urgent

    def rows():
        page = ada.get("/clinic/patients").data.decode()
        found = re.findall(r'<li class="card">\s*<h2 class="row-title"><a[^>]*>([^<]+)</a></h2>'
                           r'(.*?)</li>', page, re.S)
        return [(name, text(body)) for name, body in found]

    listed = rows()
    assert [name for name, _ in listed] == ["Bo Chen", "Di Evans", "Pat Lee", "Cy Diaz"]
    counts = {name: body.split(" Hour")[0].split(" No current")[0] for name, body in listed}
    assert counts["Bo Chen"] == "2 urgent 2 open flags"
    assert counts["Di Evans"] == "1 urgent 3 open flags"
    assert counts["Pat Lee"] == "1 open flag"
    assert "open flag" not in dict(listed)["Cy Diaz"]

    for flag in query(app, "SELECT id FROM flags WHERE patient_id = ?", (bo.user["id"],)):
        acknowledge(ada, flag["id"])
    listed = rows()
    assert [name for name, _ in listed][:2] == ["Di Evans", "Pat Lee"]
    assert "open flag" not in dict(listed)["Bo Chen"]


# --- Cost of the pages ------------------------------------------------------------------------

def test_flag_pages_cost_the_same_for_one_flag_or_many(pat, new_patient, ada, app, monkeypatch):
    saved(check_in(pat, at=at_hour(7), symptom_dizziness="1"))
    pages = ("/clinic/flags", "/clinic/patients", f"/patients/{pat.user['id']}")
    few = {path: len(sql_statements(ada, path)) for path in pages}

    saved(check_in(pat, at=at_hour(7, 20), safety="yes", mood="0", symptom_headache="4",
                   symptom_nausea="2", symptom_vision="3", symptom_anxiety="1"))
    saved(check_in(pat, symptom_dizziness="2", symptom_fatigue="1"))
    acknowledge(ada, the_flag(app, "safety", patient_id=pat.user["id"])["id"], "called")
    for name in ("Bo Chen", "Cy Diaz"):
        other = new_patient(name)
        saved(check_in(other, at=at_hour(1), mood="1", symptom_heart="4"))
        saved(check_in(other, symptom_dizziness="2", symptom_coordination="2"))
    assert count(app, "flags") >= 15 and count(app, "flag_events") >= 17
    many = {path: len(sql_statements(ada, path)) for path in pages}
    assert many == few


def test_an_urgent_flag_nobody_has_seen_stays_open_when_the_patient_changes_the_answer(pat, ada, app):
    """The clinician must still see a 'yes' that the patient took back before anyone looked."""
    response = pat.post(f"/infusions/{pat.infusion}/check-in",
                        data={"mood": "5", "at": local(NOW), "safety": "yes"})
    checkin_id = int(response.headers["Location"].rsplit("=", 1)[1])
    pat.post(f"/check-ins/{checkin_id}/edit", data={"mood": "5", "at": local(NOW), "safety": "no"})
    pat.post(f"/check-ins/{checkin_id}/delete")
    assert the_flag(app, "safety", "")["state"] == "open"
    assert "Answered yes to the safety question" in ada.get("/clinic/flags").data.decode()


def test_a_threshold_change_leaves_closed_infusions_as_they_were(pat, ada, app, fake_clock, users):
    pat.post(f"/infusions/{pat.infusion}/check-in",
             data={"mood": "5", "at": local(NOW), "symptom_headache": "1"})
    assert query(app, "SELECT count(*) FROM flags")[0][0] == 0
    fake_clock.set(NOW + timedelta(days=10))
    doctor = users.client(ada.user)
    patient_id = pat.user["id"]
    assert doctor.post(f"/patients/{patient_id}/thresholds",
                       data={"symptom": "headache", "hours": "1"}).status_code == 302
    assert query(app, "SELECT count(*) FROM flags")[0][0] == 0


def test_a_caregivers_chart_shows_no_flags(pat, ada, sam, app, users):
    pat.post(f"/infusions/{pat.infusion}/check-in",
             data={"mood": "5", "at": local(NOW), "symptom_headache": "1", "shared": "y"})
    doctor = users.client(ada.user)
    doctor.post(f"/patients/{pat.user['id']}/thresholds", data={"symptom": "headache", "hours": "1"})
    assert "(longer than usual)" in doctor.get(f"/patients/{pat.user['id']}").data.decode()
    carer_page = sam.get(f"/patients/{pat.user['id']}").data.decode()
    assert "<svg" in carer_page and "longer than usual" not in carer_page.lower()


def test_the_queue_says_why_a_symptom_was_flagged(pat, ada):
    saved(check_in(pat, at=at_hour(8), symptom_dizziness="2"))
    page = ada.get("/clinic/flags").data.decode()
    assert "Dizzy or spinning: Moderate at hour 8; usually settles within 2-4 hours" in page
    assert "Flagged after 6 h. Source: Ketamine clinic consent forms" in page
