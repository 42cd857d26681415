"""Issue 11 on a phone: "Keep me signed in on this phone" (a patient's reminder opens the form
with no sign-in; a clinician on the same settings is signed out), no answer lost when the session
ends before Save, and passkeys with Chromium's virtual authenticator.

The server's clock is the tests' fake clock (the live server runs in this process), started at
the real time so the phone's own clock agrees, and moved on to pass the idle limit."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, screenshot
from tests.helpers import record_infusion

ZONE = "America/New_York"
NOT_SAVED = "Your check-in is not saved yet. Check it and press Save check-in."


@pytest.fixture
def now(fake_clock):
    return fake_clock.set(datetime.now(timezone.utc).replace(microsecond=0))


def heading(page):
    return page.get_by_role("heading", level=1)


def status(page, text):
    return page.get_by_role("status").filter(has_text=text)


def sign_in(page, server, user, *, keep=False, next_path=""):
    page.goto(f"{server.url}/sign-in{next_path}")
    page.get_by_label("Email").fill(user["email"])
    page.get_by_label("Password", exact=True).fill(server.password)
    if keep:
        page.get_by_label("Keep me signed in on this phone").check()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))


def patient_with_infusion(server, hours_ago=3):
    from diary.rules import clock
    patient = server.users.create("patient", name="Pat Lee", time_zone=ZONE)
    with server.app.app_context():
        infusion = record_infusion(patient["id"], clock.now() - timedelta(hours=hours_ago))
    return patient, infusion["id"]


# --- Keep me signed in on this phone ----------------------------------------------------------

def test_a_remembered_phone_opens_check_in_now_without_signing_in(live_server, now,
                                                                   new_phone_context):
    patient, infusion_id = patient_with_infusion(live_server)
    page = new_phone_context().new_page()
    page.goto(f"{live_server.url}/sign-in")
    expect(page.get_by_label("Keep me signed in on this phone")).not_to_be_checked()
    assert_accessible(page)
    screenshot(page, "sign-in-keep-me-signed-in")
    sign_in(page, live_server, patient, keep=True)
    expect(heading(page)).to_have_text("My diary")

    # The reminders on the phone's calendar carry the form's address.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add reminders to my calendar").click()
    events = Calendar.from_ical(download_info.value.path().read_bytes()).walk("VEVENT")
    check_in_url = f"{live_server.url}/infusions/{infusion_id}/check-in"
    assert events and all(str(event["url"]) == check_in_url for event in events)
    assert all(check_in_url in str(event["description"]) for event in events)
    assert all(event.decoded("dtstart") >= now for event in events)  # none already past

    # Hours later the phone rings; far past the 30-minute idle limit. The reminder opens the form.
    live_server.app.config["SESSION_IDLE_MINUTES"] = 1  # and the limit is a minute, besides
    now_later = now + timedelta(hours=4)
    from diary.rules import clock
    clock.now.set(now_later)
    page.goto(check_in_url)
    expect(page).to_have_url(check_in_url)
    expect(heading(page)).to_have_text("Check in")
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/diary$"))
    page.get_by_role("link", name="Check in now").click()
    expect(heading(page)).to_have_text("Check in")
    expect(page).to_have_url(check_in_url)

    # Settings lists the phone, with its browser and last use, and "Sign this phone out".
    page.get_by_role("link", name="Settings").click()
    phones = page.get_by_role("region", name="Phones signed in")
    expect(phones.get_by_role("listitem")).to_have_count(1)
    expect(phones).to_contain_text("(this phone)")
    expect(phones).to_contain_text("Last used")
    expect(phones.get_by_role("listitem")).to_contain_text(re.compile(r"(Safari|Chrome) on iPhone"))
    assert_accessible(page)
    screenshot(page, "settings-phones-and-passkeys")
    phones.get_by_role("button", name="Sign this phone out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(status(page, "This phone is signed out.")).to_be_visible()
    page.goto(check_in_url)
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_a_clinician_who_ticks_it_is_still_signed_out_after_the_idle_limit(live_server, now,
                                                                           new_phone_context):
    clinician = live_server.users.create("clinician", name="Dr Ada Moss", time_zone=ZONE)
    page = new_phone_context().new_page()
    sign_in(page, live_server, clinician, keep=True)
    expect(heading(page)).to_have_text("My patients")
    assert live_server.query("SELECT count(*) FROM devices")[0][0] == 0
    from diary.rules import clock
    clock.now.advance(minutes=31)
    page.goto(live_server.url + "/clinic/patients")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(status(page, "signed out after a while")).to_be_visible()


# --- No answer is ever lost -------------------------------------------------------------------

def test_a_check_in_saved_after_the_session_ended_comes_back_after_signing_in(live_server, now,
                                                                             new_phone_context):
    patient, infusion_id = patient_with_infusion(live_server)
    page = new_phone_context().new_page()
    sign_in(page, live_server, patient)
    page.get_by_role("link", name="Check in now").click()
    expect(heading(page)).to_have_text("Check in")
    page.get_by_role("group", name="Mood", exact=True).get_by_role(
        "radio", name="3", exact=True).check()
    page.get_by_role("group", name="Dizzy or spinning", exact=True).get_by_role(
        "radio", name="Moderate", exact=True).check()
    page.get_by_label("Note", exact=True).fill("Still a bit wobbly")

    from diary.rules import clock
    clock.now.advance(minutes=40)  # the phone lay on the table; the session ended
    page.get_by_role("button", name="Save check-in").click()
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(status(page, "your check-in is not saved yet")).to_be_visible()
    assert live_server.query("SELECT count(*) FROM checkins")[0][0] == 0

    page.get_by_label("Email").fill(patient["email"])
    page.get_by_label("Password", exact=True).fill(live_server.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/infusions/{infusion_id}/check-in")
    expect(status(page, NOT_SAVED)).to_be_visible()
    expect(page.get_by_role("group", name="Mood", exact=True).get_by_role(
        "radio", name="3", exact=True)).to_be_checked()
    expect(page.get_by_role("group", name="Dizzy or spinning", exact=True).get_by_role(
        "radio", name="Moderate", exact=True)).to_be_checked()
    expect(page.get_by_label("Note", exact=True)).to_have_value("Still a bit wobbly")
    assert_accessible(page)
    screenshot(page, "checkin-kept-answers")

    page.get_by_role("button", name="Save check-in").click()
    expect(status(page, "Check-in saved.")).to_be_visible()
    rows = live_server.query("SELECT mood, note FROM checkins")
    assert [tuple(row) for row in rows] == [(3, "Still a bit wobbly")]
    assert live_server.query("SELECT count(*) FROM kept_answers")[0][0] == 0
    page.go_back()  # the form again: no kept answers offered any more
    page.reload()
    expect(status(page, NOT_SAVED)).to_have_count(0)
    assert live_server.query("SELECT count(*) FROM checkins")[0][0] == 1


# --- Passkeys with Chromium's virtual authenticator ----------------------------------------------

@pytest.fixture
def localhost_server(live_server):
    """WebAuthn needs a secure context and a domain for its relying party id: http://localhost
    is both, so the diary is opened as http://localhost:PORT, with BASE_URL to match."""
    live_server.url = live_server.url.replace("http://127.0.0.1:", "http://localhost:")
    live_server.app.config["BASE_URL"] = live_server.url
    return live_server


def virtual_authenticator(context, page):
    session = context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    found = session.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    return session, found["authenticatorId"]


@pytest.mark.parametrize("role, landing", [("patient", "My diary"),
                                           ("caregiver", "Shared with me")])
def test_add_a_passkey_sign_out_and_sign_in_with_it(localhost_server, new_phone_context, role,
                                                    landing, browser_problems):
    server = localhost_server
    user = server.users.create(role, name="Sam Lee", time_zone=ZONE)
    context = new_phone_context()
    page = context.new_page()
    session, authenticator = virtual_authenticator(context, page)
    sign_in(page, server, user)
    expect(heading(page)).to_have_text(landing)
    page.goto(server.url + ("/settings" if role == "patient" else "/passkeys"))
    passkeys = page.get_by_role("region", name="Passkeys")
    expect(passkeys).to_contain_text("No passkey yet.")
    assert_accessible(page)
    if role == "caregiver":
        screenshot(page, "passkeys")
        # A wrong password: no passkey is made, and the page says so beside the field.
        passkeys.get_by_label("Your password").fill("not my password at all")
        passkeys.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_text("That is not your password.")).to_be_visible()
        assert session.send("WebAuthn.getCredentials",
                            {"authenticatorId": authenticator})["credentials"] == []
        expected = f"400 for fetch {server.url}/passkeys/options"  # the refused options
        assert expected in browser_problems
        browser_problems.remove(expected)
        assert_accessible(page)
        screenshot(page, "passkeys-wrong-password")
        passkeys = page.get_by_role("region", name="Passkeys")
    passkeys.get_by_label("Your password").fill(server.password)
    passkeys.get_by_role("button", name="Add a passkey").click()
    expect(status(page, "Passkey added.")).to_be_visible()
    expect(page.get_by_role("region", name="Passkeys").get_by_role("listitem")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, f"passkey-added-{role}")
    [stored] = server.query("SELECT user_id FROM passkeys")
    assert stored["user_id"] == user["id"]
    credentials = session.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    [credential] = credentials["credentials"]
    assert credential["isResidentCredential"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    passkey_button = page.get_by_role("button", name="Sign in with a passkey")
    expect(passkey_button).to_be_visible()
    assert_accessible(page)
    screenshot(page, "sign-in-with-a-passkey")
    passkey_button.click()  # no email, no password
    expect(heading(page)).to_have_text(landing)
    outcomes = [row["outcome"] for row in server.query(
        "SELECT outcome FROM audit WHERE action = 'sign_in' ORDER BY id")]
    assert outcomes == ["ok", "ok_passkey"]

    # Remove it: it no longer signs in.
    page.goto(server.url + "/passkeys")
    page.get_by_role("region", name="Passkeys").get_by_role("button", name="Remove").click()
    expect(status(page, "Passkey removed.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("That passkey did not work.")
    expect(page).to_have_url(re.compile(r"/passkeys/sign-in$"))
    assert server.query("SELECT outcome FROM audit WHERE action = 'passkey_refused'")[0][0] == (
        "unknown_passkey")
