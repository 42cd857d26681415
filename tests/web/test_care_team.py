"""The care team over HTTP: invitation links in every state, joining, leaving, revoking, who has
looked, the clinician's enrolment link, and forged ids in every URL and form."""

import re
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from diary import create_app
from diary.rules import clock

from tests import helpers
from tests.helpers import PASSWORD, FakeClock, Users, query, sql_statements

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York
ZONE = "America/New_York"
DIARY_TABLES = ("users", "infusions", "checkins", "checkin_symptoms", "checkin_revisions",
                "invitations", "care_team", "flags", "flag_events", "thresholds")


# ---------------------------------------------------------------------------------------------
# Helpers


def local(moment):
    return clock.local_input_value(moment, ZONE).strftime("%Y-%m-%dT%H:%M")


def invite(client, kind="caregiver"):
    """Make an invitation through the button; returns (invitation id, token, link)."""
    path = "/clinic/enrol" if kind == "enrolment" else f"/care-team/invite/{kind}"
    response = client.post(path)
    assert response.status_code == 302, response.data
    invitation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(response.headers["Location"]).data.decode()
    link = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', page).group(1)
    return invitation_id, link.rsplit("/", 1)[1], link


def join(client, token):
    return client.post(f"/invite/{token}")


def register_through(client, token, name="New Person", email="new@example.com", **extra):
    return client.post(f"/invite/{token}", data={
        "name": name, "email": email, "password": PASSWORD, "confirm": PASSWORD,
        "time_zone": ZONE, **extra,
    })


def main(response) -> str:
    return response.data.decode().split('<main id="main">', 1)[-1].split("</main>", 1)[0]


def diary_rows(app) -> dict:
    """Every row of every diary table, to show that a refused request wrote nothing."""
    return {table: [tuple(row) for row in query(app, f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in DIARY_TABLES}


def last_audit_id(app) -> int:
    return query(app, "SELECT coalesce(max(id), 0) FROM audit")[0][0]


def audit_since(app, audit_id):
    return [(row["action"], row["outcome"]) for row in
            query(app, "SELECT action, outcome FROM audit WHERE id > ? ORDER BY id", (audit_id,))]


def audit_rows(app, action):
    return query(app, "SELECT * FROM audit WHERE action = ? ORDER BY id", (action,))


def membership(app, patient, member):
    rows = query(app, "SELECT * FROM care_team WHERE patient_id = ? AND member_id = ?"
                      " ORDER BY id DESC", (patient["id"], member["id"]))
    return rows[0] if rows else None


def record_infusion(client, started=NOW - timedelta(hours=3)):
    response = client.post("/infusions/new", data={"started_at": local(started),
                                                   "length_minutes": "40"})
    assert response.status_code == 302, response.data
    return int(response.headers["Location"].rsplit("/", 1)[1].split("?")[0])


def check_in(client, app, infusion_id, at, note="", shared=True, private=False):
    form = {"mood": "6", "safety": "no", "at": local(at), "note": note}
    form.update({"shared": "y"} if shared else {})
    form.update({"note_private": "y"} if private else {})
    response = client.post(f"/infusions/{infusion_id}/check-in", data=form)
    assert response.status_code == 302, response.data
    return query(app, "SELECT max(id) FROM checkins")[0][0]


# ---------------------------------------------------------------------------------------------
# Fixtures: Pat (a patient), Sam (a caregiver) and Dr Ada Moss (a clinician), signed in.
#
# Password hashing is slow on purpose, so the three accounts and their sessions are made once,
# through the accounts module and the sign-in page, and every test starts from a copy of that
# database, with the same session cookies.

PEOPLE = {"pat": ("patient", "Pat Lee"), "sam": ("caregiver", "Sam Lee"),
          "ada": ("clinician", "Dr Ada Moss")}


@pytest.fixture(scope="module")
def signed_in_people(tmp_path_factory):
    database = tmp_path_factory.mktemp("care-team") / "people.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", FakeClock(NOW))
        app = create_app({"TESTING": True, "SECRET_KEY": "test-only-secret",
                          "WTF_CSRF_ENABLED": False, "DATABASE": str(database)})
        users, people = Users(app), {}
        for key, (role, name) in PEOPLE.items():
            user = users.create(role, name=name, email=f"{key}@example.com")
            cookie = users.client(user).get_cookie(app.config["SESSION_COOKIE_NAME"]).value
            people[key] = (user, cookie)
    return database, people


@pytest.fixture
def app_config(app_config, signed_in_people):
    database, _ = signed_in_people
    with closing(sqlite3.connect(database)) as source, \
            closing(sqlite3.connect(app_config["DATABASE"])) as copy:
        source.backup(copy)
    return app_config


def person(app, signed_in_people, key):
    user, cookie = signed_in_people[1][key]
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return SimpleNamespace(user=user, client=client)


@pytest.fixture
def pat(app, signed_in_people, fake_clock):
    fake_clock.set(NOW)
    return person(app, signed_in_people, "pat")


@pytest.fixture
def sam(app, signed_in_people, pat):
    return person(app, signed_in_people, "sam")


@pytest.fixture
def ada(app, signed_in_people, pat):
    return person(app, signed_in_people, "ada")


@pytest.fixture
def team(pat, sam, ada):
    """Pat's care team: Dr Ada Moss and Sam Lee, each joined through their own link."""
    for member, kind in ((sam, "caregiver"), (ada, "clinician")):
        _, token, _ = invite(pat.client, kind)
        assert join(member.client, token).status_code == 302
    return SimpleNamespace(pat=pat, sam=sam, ada=ada)


# ---------------------------------------------------------------------------------------------
# The invitation link


def test_the_link_carries_at_least_128_random_bits(pat, app):
    _, token, link = invite(pat.client)
    assert link == f"http://localhost/invite/{token}"
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert len(token) * 6 >= 128  # base64url: 6 bits a character
    stored = query(app, "SELECT token_hash FROM invitations")[0][0]
    assert token not in stored  # only its hash is kept
    assert invite(pat.client)[1] != token


def test_making_an_invitation_is_audited_and_shows_the_link_and_a_revoke_button(pat, app):
    invitation_id, token, _ = invite(pat.client, "clinician")
    row = audit_rows(app, "invitation_created")[0]
    assert (row["actor_id"], row["patient_id"], row["outcome"]) == (pat.user["id"],
                                                                    pat.user["id"], "ok")
    assert row["subject"] == f"invitation:{invitation_id}:clinician"
    page = main(pat.client.get(f"/care-team/invitations/{invitation_id}"))
    assert "Invitation for a clinician" in page and token in page
    assert ">Revoke</button>" in page


def test_signed_out_caregiver_link_offers_registration_then_joins(pat, app):
    _, token, _ = invite(pat.client)
    visitor = app.test_client()
    page = main(visitor.get(f"/invite/{token}"))
    assert "Join Pat Lee's care team" in page
    for label in ("Name", "Email", "Password", "Confirm password", "Time zone"):
        assert re.search(rf"<label[^>]*>{re.escape(label)}</label>", page), label
    assert ">Create account</button>" in page
    response = register_through(visitor, token, name="Kim Park", email="kim@example.com")
    assert response.status_code == 302
    kim = query(app, "SELECT * FROM users WHERE email = 'kim@example.com'")[0]
    assert kim["role"] == "caregiver"
    link = membership(app, pat.user, kim)
    assert (link["role"], link["ended_at"]) == ("caregiver", None)
    assert query(app, "SELECT accepted_by FROM invitations")[0][0] == kim["id"]
    assert [row["actor_id"] for row in audit_rows(app, "invitation_accepted")] == [kim["id"]]
    assert "Pat Lee" in main(visitor.get("/shared/"))  # signed in, and in the team at once


def test_registering_through_a_link_keeps_the_role_of_the_link_whatever_the_form_says(pat, app):
    _, token, _ = invite(pat.client)
    visitor = app.test_client()
    assert register_through(visitor, token, role="clinician", kind="clinician",
                            patient_id="999").status_code == 302
    user = query(app, "SELECT role FROM users WHERE email = 'new@example.com'")[0]
    assert user["role"] == "caregiver"
    assert query(app, "SELECT role FROM care_team")[0][0] == "caregiver"


def test_a_registration_with_mistakes_writes_nothing_and_keeps_the_link_usable(pat, app):
    _, token, _ = invite(pat.client)
    visitor = app.test_client()
    before = diary_rows(app)
    response = visitor.post(f"/invite/{token}", data={"name": "Sam", "email": "not an email",
                                                      "password": "short", "confirm": "x"})
    assert response.status_code == 200 and "Please check the answers" in main(response)
    assert diary_rows(app) == before
    assert register_through(visitor, token).status_code == 302


def test_signed_in_caregiver_sees_accept_invitation_and_joins(pat, sam, app):
    _, token, _ = invite(pat.client)
    page = main(sam.client.get(f"/invite/{token}"))
    assert "Join Pat Lee's care team?" in page and ">Accept invitation</button>" in page
    assert membership(app, pat.user, sam.user) is None  # opening the link is not joining
    assert sam.client.get(f"/patients/{pat.user['id']}").status_code == 404
    assert join(sam.client, token).status_code == 302
    assert membership(app, pat.user, sam.user)["role"] == "caregiver"
    assert sam.client.get(f"/patients/{pat.user['id']}").status_code == 200


def test_clinician_link_signed_out_asks_to_sign_in_and_makes_no_account(pat, app):
    _, token, _ = invite(pat.client, "clinician")
    visitor = app.test_client()
    page = main(visitor.get(f"/invite/{token}"))
    assert "This invitation is for a clinician. Please sign in" in page
    assert f'href="/sign-in?next=/invite/{token}"' in page
    assert "Create account" not in page
    before = diary_rows(app)
    response = register_through(visitor, token, email="doctor@example.com")
    assert response.status_code == 200 and "Please sign in" in main(response)
    assert diary_rows(app) == before


def test_only_a_signed_in_clinician_accepts_a_clinician_link(pat, ada, app):
    _, token, _ = invite(pat.client, "clinician")
    signed_out = app.test_client()
    response = signed_out.post("/sign-in", data={"email": ada.user["email"],
                                                 "password": PASSWORD, "next": f"/invite/{token}"})
    assert response.headers["Location"] == f"/invite/{token}"
    assert ">Accept invitation</button>" in main(signed_out.get(f"/invite/{token}"))
    assert join(signed_out, token).status_code == 302
    assert membership(app, pat.user, ada.user)["role"] == "clinician"
    assert "Pat Lee" in main(ada.client.get("/clinic/patients"))


REFUSALS = {
    "unknown": "This invitation link is not valid",
    "revoked": "This invitation was withdrawn",
    "used": "This invitation has already been used",
    "expired": "This invitation has expired",
    "wrong_role": "This invitation is for",
    "own_invitation": "This is your own invitation",
    "already_member": "You are already in this care team",
}


def check_refused(app, client, token, outcome, status=403):
    """A plain page saying why; nothing changes; an audit row naming the reason for each try
    (for a made-up link from someone not signed in, one an hour from one address)."""
    before, audit_id = diary_rows(app), last_audit_id(app)
    for method in (client.get, client.post):
        response = method(f"/invite/{token}")
        assert response.status_code == status
        page = main(response)
        assert "This invitation cannot be used" in page and REFUSALS[outcome] in page
        assert "<form" not in page
    assert diary_rows(app) == before
    anonymous = client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is None
    tries = 1 if outcome == "unknown" and anonymous else 2
    assert audit_since(app, audit_id) == [("invitation_refused", outcome)] * tries
    return page


def test_a_caregiver_or_patient_account_cannot_take_a_clinician_link(pat, sam, users, app):
    _, token, _ = invite(pat.client, "clinician")
    page = check_refused(app, sam.client, token, "wrong_role")
    assert "This invitation is for a clinician. You are signed in as a caregiver" in page
    other_patient = users.client(users.create("patient"))
    check_refused(app, other_patient, token, "wrong_role")
    assert query(app, "SELECT accepted_at FROM invitations")[0][0] is None


def test_a_clinician_cannot_take_a_caregiver_link(pat, ada, app):
    _, token, _ = invite(pat.client, "caregiver")
    check_refused(app, ada.client, token, "wrong_role")
    join(ada.client, token)
    assert membership(app, pat.user, ada.user) is None


def test_accepting_ones_own_invitation_is_refused(pat, app):
    _, token, _ = invite(pat.client)
    check_refused(app, pat.client, token, "own_invitation")


def test_a_member_cannot_join_twice(team, app):
    _, token, _ = invite(team.pat.client)
    check_refused(app, team.sam.client, token, "already_member")


def test_an_expired_link_is_refused_after_7_days(pat, app, fake_clock):
    _, token, _ = invite(pat.client)
    accounts = query(app, "SELECT count(*) FROM users")[0][0]
    fake_clock.advance(days=7, seconds=-1)
    assert "Create account" in main(app.test_client().get(f"/invite/{token}"))
    fake_clock.advance(seconds=1)
    check_refused(app, app.test_client(), token, "expired")
    assert query(app, "SELECT count(*) FROM users")[0][0] == accounts


def test_a_used_link_is_refused(pat, sam, users, app):
    _, token, _ = invite(pat.client)
    join(sam.client, token)
    other = users.client(users.create("caregiver"))
    check_refused(app, other, token, "used")
    check_refused(app, app.test_client(), token, "used")


def test_a_revoked_link_is_refused_and_revoking_is_audited(pat, sam, app):
    invitation_id, token, _ = invite(pat.client)
    response = pat.client.post(f"/care-team/invitations/{invitation_id}/revoke")
    assert response.headers["Location"] == "/care-team"
    row = audit_rows(app, "invitation_revoked")[0]
    assert (row["actor_id"], row["outcome"]) == (pat.user["id"], "ok")
    check_refused(app, sam.client, token, "revoked")
    check_refused(app, app.test_client(), token, "revoked")
    assert "Invitations not used yet" not in main(pat.client.get("/care-team"))


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
    lambda token: token[:-1],
    lambda token: token + "x" * 100,
    lambda token: "not-a-token",
])
def test_a_tampered_or_unknown_token_is_refused(pat, sam, app, tamper):
    _, token, _ = invite(pat.client)
    check_refused(app, sam.client, tamper(token), "unknown", status=404)
    check_refused(app, app.test_client(), tamper(token), "unknown", status=404)
    assert join(sam.client, token).status_code == 302  # the real one still works


# ---------------------------------------------------------------------------------------------
# The QR code


def test_the_qr_code_is_an_svg_for_its_creator_only(pat, sam, users, app):
    invitation_id, token, _ = invite(pat.client)
    path = f"/care-team/invitations/{invitation_id}/qr.svg"
    response = pat.client.get(path)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.lstrip().startswith(b"<svg")
    assert f'src="{path}"' in main(pat.client.get(f"/care-team/invitations/{invitation_id}"))
    for other in (sam.client, users.client(users.create("patient")),
                  users.client(users.create("clinician"))):
        assert other.get(path).status_code == 404
        assert other.get(f"/care-team/invitations/{invitation_id}").status_code == 404
    assert app.test_client().get(path).status_code == 302
    join(sam.client, token)
    assert pat.client.get(path).status_code == 404  # used: no code to scan any more


# ---------------------------------------------------------------------------------------------
# Leaving and revoking count from the very next request


def test_revoking_a_caregiver_takes_effect_on_their_next_request(team, app):
    pat, sam = team.pat, team.sam
    assert sam.client.get(f"/patients/{pat.user['id']}").status_code == 200
    link = membership(app, pat.user, sam.user)
    response = pat.client.post(f"/care-team/members/{link['id']}/revoke")
    assert response.headers["Location"] == "/care-team"
    assert sam.client.get(f"/patients/{pat.user['id']}").status_code == 404  # same session
    assert "Pat Lee" not in main(sam.client.get("/shared/"))
    ended = membership(app, pat.user, sam.user)
    assert ended["ended_at"] is not None and ended["ended_by"] == pat.user["id"]
    row = audit_rows(app, "member_removed")[0]
    assert (row["actor_id"], row["patient_id"], row["subject"]) == (
        pat.user["id"], pat.user["id"], f"member:{sam.user['id']}")
    assert "Sam Lee" not in main(pat.client.get("/care-team"))


def test_revoke_asks_first_on_a_page_that_says_what_will_happen(team, app):
    pat, ada, sam = team.pat, team.ada, team.sam
    care = main(pat.client.get("/care-team"))
    ada_membership = membership(app, pat.user, ada.user)["id"]
    link = f'href="/care-team/members/{ada_membership}/revoke"'
    assert link in care  # a link to the question, not a button that does it
    page = main(pat.client.get(f"/care-team/members/{ada_membership}/revoke"))
    assert "<h1>Remove Dr Ada Moss from your care team?</h1>" in page
    assert "Dr Ada Moss will no longer see your diary or your flags" in page
    assert ">Remove from my care team</button>" in page
    assert ">Keep Dr Ada Moss</a>" in page
    assert ada.client.get(f"/patients/{pat.user['id']}").status_code == 200  # asking changed nothing
    page = main(pat.client.get(
        f"/care-team/members/{membership(app, pat.user, sam.user)['id']}/revoke"))
    assert "Sam Lee will no longer see the check-ins you shared with them." in page
    assert "your flags" not in page


@pytest.mark.parametrize("who, words", [
    ("ada", "You will no longer see Pat Lee's diary or flags"),
    ("sam", "You will no longer see the check-ins Pat Lee shares with you."),
])
def test_leave_asks_first_on_a_page_that_says_what_will_happen(team, who, words):
    pat, member = team.pat, getattr(team, who)
    patient_page = main(member.client.get(f"/patients/{pat.user['id']}"))
    assert f'href="/care-team/leave/{pat.user["id"]}"' in patient_page
    page = main(member.client.get(f"/care-team/leave/{pat.user['id']}"))
    assert "<h1>Leave Pat Lee's care team?</h1>" in page
    assert words in page
    assert ">Leave the care team</button>" in page
    assert member.client.get(f"/patients/{pat.user['id']}").status_code == 200


def test_revoking_a_clinician_takes_effect_on_their_next_request(team, app):
    pat, ada = team.pat, team.ada
    assert ada.client.get(f"/patients/{pat.user['id']}").status_code == 200
    pat.client.post(f"/care-team/members/{membership(app, pat.user, ada.user)['id']}/revoke")
    assert ada.client.get(f"/patients/{pat.user['id']}").status_code == 404
    assert ada.client.get(f"/patients/{pat.user['id']}/thresholds").status_code == 404
    assert "Pat Lee" not in main(ada.client.get("/clinic/patients"))


@pytest.mark.parametrize("who", ["sam", "ada"])
def test_a_member_who_leaves_loses_access_at_once(team, app, who):
    pat, member = team.pat, getattr(team, who)
    page = main(member.client.get(f"/patients/{pat.user['id']}"))
    assert "Leave Pat Lee's care team" in page
    response = member.client.post(f"/care-team/leave/{pat.user['id']}")
    assert response.status_code == 302
    assert member.client.get(f"/patients/{pat.user['id']}").status_code == 404
    ended = membership(app, pat.user, member.user)
    assert ended["ended_at"] is not None and ended["ended_by"] == member.user["id"]
    row = audit_rows(app, "member_left")[0]
    assert (row["actor_id"], row["patient_id"]) == (member.user["id"], pat.user["id"])
    assert member.user["email"] not in main(pat.client.get("/care-team"))
    assert member.client.post(f"/care-team/leave/{pat.user['id']}").status_code == 404


def test_a_member_who_left_can_be_invited_again(team, app):
    pat, sam = team.pat, team.sam
    sam.client.post(f"/care-team/leave/{pat.user['id']}")
    _, token, _ = invite(pat.client)
    assert join(sam.client, token).status_code == 302
    assert sam.client.get(f"/patients/{pat.user['id']}").status_code == 200


# ---------------------------------------------------------------------------------------------
# What the patient sees of their care team


def test_my_care_team_lists_members_with_name_role_since_and_pending_invitations(team, app,
                                                                                 fake_clock):
    pat = team.pat
    fake_clock.advance(minutes=5)
    invitation_id, _, _ = invite(pat.client, "clinician")
    page = main(pat.client.get("/care-team"))
    assert "<h1>My care team</h1>" in page
    assert re.search(r"<strong>Dr Ada Moss</strong>, clinician<br>"
                     r"<span class=\"hint\">Since Tue 10 Mar, 10:00 am</span>", page)
    assert re.search(r"<strong>Sam Lee</strong>, caregiver<br>"
                     r"<span class=\"hint\">Since Tue 10 Mar, 10:00 am</span>", page)
    assert "Invitations not used yet" in page
    assert f'href="/care-team/invitations/{invitation_id}">Invitation for a clinician' in page
    assert "Works until Tue 17 Mar, 10:05 am" in page
    for words in ("Invite a caregiver", "Invite a clinician", "Who has seen my diary"):
        assert words in page
    assert page.count(">Revoke<span") == 3  # two members, one invitation
    assert '<a href="/care-team"' in pat.client.get("/diary").data.decode()  # in the menu


def test_who_has_seen_my_diary_lists_the_clinicians_and_caregivers_views(team, app,
                                                                         fake_clock):
    pat = team.pat
    assert "Nobody else has opened your diary yet." in main(pat.client.get("/care-team/seen"))
    team.ada.client.get(f"/patients/{pat.user['id']}")
    fake_clock.advance(minutes=1)
    team.sam.client.get(f"/patients/{pat.user['id']}")
    pat.client.get("/diary")  # the patient's own looks are not listed
    page = main(pat.client.get("/care-team/seen"))
    assert "<h1>Who has seen my diary</h1>" in page
    groups = re.findall(r"<summary>([^<]+)</summary>", page)
    assert groups == ["Sam Lee, Tue 10 Mar: 1 look, 10:01 am",
                      "Dr Ada Moss, Tue 10 Mar: 1 look, 10:00 am"]
    views = audit_rows(app, "view_diary")
    assert [(row["actor_id"], row["patient_id"], row["outcome"], row["subject"])
            for row in views] == [
        (team.ada.user["id"], pat.user["id"], "ok", f"/patients/{pat.user['id']}"),
        (team.sam.user["id"], pat.user["id"], "ok", f"/patients/{pat.user['id']}")]


def test_who_has_seen_groups_by_person_and_day_with_each_look_one_tap_away(team, app,
                                                                           fake_clock):
    pat, ada = team.pat, team.ada
    app.config.update(SESSION_IDLE_MINUTES=24 * 60, SESSION_ABSOLUTE_HOURS=48)
    for minutes in (0, 2, 5, 12):  # 10:00 to 10:12 am in New York
        fake_clock.set(NOW + timedelta(minutes=minutes))
        ada.client.get(f"/patients/{pat.user['id']}")
    fake_clock.set(NOW + timedelta(hours=1, minutes=55))  # 11:55 am
    ada.client.get("/clinic/patients")  # a look at the list counts too
    fake_clock.set(NOW + timedelta(hours=2, minutes=10))  # 12:10 pm
    ada.client.get(f"/patients/{pat.user['id']}")
    fake_clock.set(NOW + timedelta(days=1))
    ada.client.get(f"/patients/{pat.user['id']}")
    page = main(pat.client.get("/care-team/seen"))
    assert re.findall(r"<summary>([^<]+)</summary>", page) == [
        "Dr Ada Moss, Wed 11 Mar: 1 look, 10:00 am",
        "Dr Ada Moss, Tue 10 Mar: 6 looks, 10:00 am to 12:10 pm",
    ]
    detail = page.split("Tue 10 Mar: 6 looks")[1].split("</details>")[0]
    assert re.findall(r"<li>([^<]+)</li>", detail) == [
        "10:00 am: opened your diary", "10:02 am: opened your diary",
        "10:05 am: opened your diary", "10:12 am: opened your diary",
        "11:55 am: saw you in their list", "12:10 pm: opened your diary"]


def test_a_same_half_day_span_names_am_or_pm_once(team, fake_clock):
    pat, ada = team.pat, team.ada
    for minutes in (2, 14):
        fake_clock.set(NOW.replace(hour=13) + timedelta(minutes=minutes))  # 9:02, 9:14 am
        ada.client.get(f"/patients/{pat.user['id']}")
    page = main(pat.client.get("/care-team/seen"))
    assert "Dr Ada Moss, Tue 10 Mar: 2 looks, 9:02 to 9:14 am" in page


def test_a_refused_look_is_not_listed_as_a_view(team, users, app):
    pat = team.pat
    infusion_id = record_infusion(pat.client)
    hidden = check_in(pat.client, app, infusion_id, NOW - timedelta(hours=2), shared=False)
    stranger = users.client(users.create("caregiver", name="Stranger Danger"))
    assert stranger.get(f"/patients/{pat.user['id']}").status_code == 404
    assert team.sam.client.get(
        f"/patients/{pat.user['id']}/check-ins/{hidden}").status_code == 404
    page = main(pat.client.get("/care-team/seen"))
    assert "Stranger Danger" not in page and "Sam Lee" not in page
    denied = [row for row in audit_rows(app, "view_diary") if row["outcome"] == "denied"]
    assert [row["patient_id"] for row in denied] == [None, None]


# ---------------------------------------------------------------------------------------------
# What caregivers see, and unsharing


def test_caregiver_cannot_see_an_unshared_checkin_nor_a_private_note(team, app):
    pat, sam = team.pat, team.sam
    infusion_id = record_infusion(pat.client)
    shared = check_in(pat.client, app, infusion_id, NOW - timedelta(hours=2), note="shared words")
    private = check_in(pat.client, app, infusion_id, NOW - timedelta(hours=1, minutes=50),
                       note="private words", private=True)
    hidden = check_in(pat.client, app, infusion_id, NOW - timedelta(hours=1, minutes=40),
                      note="unshared words", shared=False)
    base = f"/patients/{pat.user['id']}"
    for path in (base, f"{base}/infusions/{infusion_id}"):
        page = main(sam.client.get(path))
        assert "shared words" in page and f'id="checkin-{private}"' in page
        assert "private words" not in page and "unshared words" not in page
        assert f'id="checkin-{hidden}"' not in page
    assert "private words" not in main(sam.client.get(f"{base}/check-ins/{private}"))
    assert sam.client.get(f"{base}/check-ins/{hidden}").status_code == 404
    doctor = main(team.ada.client.get(f"{base}/infusions/{infusion_id}"))
    assert all(words in doctor for words in ("shared words", "private words", "unshared words"))
    assert sam.client.get(f"{base}/check-ins/{shared}").status_code == 200


def test_caregiver_stops_seeing_a_checkin_on_the_request_after_it_is_unshared(team, app):
    pat, sam = team.pat, team.sam
    infusion_id = record_infusion(pat.client)
    checkin_id = check_in(pat.client, app, infusion_id, NOW - timedelta(hours=2),
                          note="tired but fine")
    path = f"/patients/{pat.user['id']}/check-ins/{checkin_id}"
    assert "tired but fine" in main(sam.client.get(path))
    assert pat.client.post(f"/check-ins/{checkin_id}/sharing").status_code == 302
    assert sam.client.get(path).status_code == 404
    assert sam.client.get(f"/patients/{pat.user['id']}/infusions/{infusion_id}"
                          ).status_code == 404  # nothing shared of it any more
    page = main(sam.client.get(f"/patients/{pat.user['id']}"))
    assert "tired but fine" not in page and "Nothing shared yet." in page
    assert "0 shared check-ins" in main(sam.client.get("/shared/"))
    pat.client.post(f"/check-ins/{checkin_id}/sharing", data={"shared": "y"})
    assert "tired but fine" in main(sam.client.get(path))


# ---------------------------------------------------------------------------------------------
# The clinician's enrolment link


def test_a_patient_enrolled_by_link_shows_in_my_patients_at_once(ada, app):
    invitation_id, token, link = invite(ada.client, "enrolment")
    page = main(ada.client.get("/clinic/patients"))
    assert "<h1>My patients</h1>" in page and f"/care-team/invitations/{invitation_id}" in page
    visitor = app.test_client()
    form = main(visitor.get(f"/invite/{token}"))
    assert "Create your diary account" in form and "Dr Ada Moss invited you" in form
    assert register_through(visitor, token, name="Nia Obi", email="nia@example.com"
                            ).status_code == 302
    nia = query(app, "SELECT * FROM users WHERE email = 'nia@example.com'")[0]
    assert nia["role"] == "patient"
    link_row = membership(app, nia, ada.user)
    assert (link_row["role"], link_row["ended_at"]) == ("clinician", None)
    assert "Nia Obi" in main(ada.client.get("/clinic/patients"))
    assert ada.client.get(f"/patients/{nia['id']}").status_code == 200
    assert "Dr Ada Moss" in main(visitor.get("/care-team"))
    accepted = audit_rows(app, "invitation_accepted")[0]
    assert (accepted["actor_id"], accepted["patient_id"]) == (nia["id"], nia["id"])


def test_only_clinicians_make_enrolment_links_and_only_patients_invite(pat, sam, ada, app):
    before = diary_rows(app)
    for client in (pat.client, sam.client):
        assert client.post("/clinic/enrol").status_code == 404
    for client in (ada.client, sam.client):
        for kind in ("caregiver", "clinician"):
            assert client.post(f"/care-team/invite/{kind}").status_code == 404
    assert pat.client.post("/care-team/invite/enrolment").status_code == 404
    assert pat.client.post("/care-team/invite/patient").status_code == 404
    assert diary_rows(app) == before


def test_a_clinician_can_revoke_an_enrolment_link(ada, app):
    invitation_id, token, _ = invite(ada.client, "enrolment")
    response = ada.client.post(f"/care-team/invitations/{invitation_id}/revoke")
    assert response.headers["Location"] == "/clinic/patients"
    check_refused(app, app.test_client(), token, "revoked")


def test_an_enrolment_link_is_refused_to_a_patient_already_in_that_clinicians_care(team, app):
    _, token, _ = invite(team.ada.client, "enrolment")
    check_refused(app, team.pat.client, token, "already_member")


def test_an_existing_patient_opening_an_enrolment_link_is_told_who_will_see_what(pat, ada):
    _, token, _ = invite(ada.client, "enrolment")
    page = main(pat.client.get(f"/invite/{token}"))
    assert ">Accept invitation</button>" in page
    assert "Join Dr Ada Moss's care team" not in page
    assert "You will see Dr Ada Moss's whole diary" not in page


# ---------------------------------------------------------------------------------------------
# Words where they belong


def test_each_role_finds_its_own_words(team, app):
    pat, sam, ada = team.pat, team.sam, team.ada
    infusion_id = record_infusion(pat.client)
    assert "Hide this note from my caregivers" in main(
        pat.client.get(f"/infusions/{infusion_id}/check-in"))
    menu = {"patient": pat.client, "clinician": ada.client, "caregiver": sam.client}
    words = {"patient": "My care team", "clinician": "My patients", "caregiver": "Shared with me"}
    for role, client in menu.items():
        landing = client.get("/").headers["Location"]
        page = client.get(landing).data.decode()
        for other_role, label in words.items():
            assert (f">{label}</a>" in page) == (role == other_role), (role, label)
    assert "<h1>Shared with me</h1>" in main(sam.client.get("/shared/"))
    assert "<h1>My patients</h1>" in main(ada.client.get("/clinic/patients"))
    _, token, _ = invite(pat.client)
    assert "Accept invitation" not in main(app.test_client().get(f"/invite/{token}"))


# ---------------------------------------------------------------------------------------------
# Forged ids in every URL and form


def test_forged_invitation_and_member_ids_answer_404_and_write_nothing(team, users, app):
    pat = team.pat
    invitation_id, token, _ = invite(pat.client)
    sam_link = membership(app, pat.user, team.sam.user)["id"]
    other = users.create("patient", name="Olga Other")
    olga = users.client(other)
    olga_invitation, _, _ = invite(olga)
    before, audit_id = diary_rows(app), last_audit_id(app)
    for client in (olga, team.ada.client):  # another patient; a clinician of pat's
        for path in (f"/care-team/invitations/{invitation_id}",
                     f"/care-team/invitations/{invitation_id}/qr.svg"):
            assert client.get(path).status_code == 404, path
        for path in (f"/care-team/invitations/{invitation_id}/revoke",
                     f"/care-team/members/{sam_link}/revoke",
                     "/care-team/invitations/999999/revoke", "/care-team/members/999999/revoke"):
            assert client.post(path).status_code == 404, path
    for path in (f"/care-team/invitations/{olga_invitation}/revoke",
                 f"/care-team/members/{sam_link + 1000}/revoke"):
        assert pat.client.post(path).status_code == 404, path
    for client in (team.sam.client, team.ada.client):  # not in olga's team
        assert client.post(f"/care-team/leave/{other['id']}").status_code == 404
        assert client.post("/care-team/leave/999999").status_code == 404
    assert pat.client.post(f"/care-team/leave/{pat.user['id']}").status_code == 404
    assert diary_rows(app) == before
    assert all(outcome != "ok" for _, outcome in audit_since(app, audit_id))
    assert join(team.sam.client, token).status_code == 403  # already in: still refused


def test_a_patient_cannot_revoke_a_membership_that_already_ended(team, app):
    pat = team.pat
    link = membership(app, pat.user, team.sam.user)["id"]
    assert pat.client.post(f"/care-team/members/{link}/revoke").status_code == 302
    before = diary_rows(app)
    assert pat.client.post(f"/care-team/members/{link}/revoke").status_code == 404
    assert diary_rows(app) == before
    assert len(audit_rows(app, "member_removed")) == 1


# ---------------------------------------------------------------------------------------------
# "My patients" costs the same for 1 patient as for 4


def add_patient_in_care(app, users, clinician, number):
    """A patient with an infusion and two check-ins, with this clinician in the care team."""
    patient = users.create("patient", name=f"Patient {number}")
    with app.app_context():
        helpers.join_care_team(patient["id"], clinician["id"])
        infusion = helpers.record_infusion(patient["id"], NOW - timedelta(hours=3))
        for minutes, mood in ((60, 6), (90, 1)):
            helpers.check_in(patient["id"], infusion, NOW - timedelta(minutes=minutes), mood)


def test_my_patients_does_not_issue_more_queries_as_patients_grow(ada, users, app):
    counts, added = [], 0
    for total in (1, 4):
        while added < total:
            added += 1
            add_patient_in_care(app, users, ada.user, added)
        page = main(ada.client.get("/clinic/patients"))
        assert page.count('<li class="card">') == total and "1 urgent" in page
        counts.append(len(sql_statements(ada.client, "/clinic/patients")))
    assert counts[0] == counts[1], counts


def test_list_pages_record_a_view_of_each_patient_they_show(users, app):
    patient = users.create("patient", name="Lin Park")
    clinician = users.create("clinician", name="Dr Ada Moss")
    with app.app_context():
        helpers.join_care_team(patient["id"], clinician["id"])
    doctor = users.client(clinician)
    doctor.get("/clinic/patients")
    rows = query(app, "SELECT actor_id, patient_id, outcome FROM audit WHERE action = 'view_list'")
    assert [tuple(row) for row in rows] == [(clinician["id"], patient["id"], "ok")]
    seen = users.client(patient).get("/care-team/seen").data.decode()
    assert re.search(r"Dr Ada Moss, \w+ \d+ \w+: 1 look,", seen)
    assert "saw you in their list" in seen


def test_made_up_links_do_not_grow_the_audit_trail(client, app, fake_clock):
    """Made-up links from someone not signed in: one audit row an hour per address."""
    before = last_audit_id(app)
    for number in range(50):
        client.get(f"/invite/junk-{number}")
    assert len(audit_since(app, before)) == 1
    fake_clock.advance(hours=1)
    client.get("/invite/junk-again")
    assert len(audit_since(app, before)) == 2
