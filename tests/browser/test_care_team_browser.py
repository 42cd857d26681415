"""A patient brings a caregiver into the care team from a phone, and later takes them out again.

Two phones: the patient's (`page`) and the caregiver's (a second context with its own cookies).
The caregiver sees only the check-ins the patient shared; after "Revoke" the diary is gone.
Driven through the words on screen, with axe-core on every page in both contexts.
"""

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_diary_browser import (browser_local_time, check_in, heading,
                                              new_york_patient, record_infusion, status)

PATIENT = "Pat Lee"
CAREGIVER = "Sam Rivera"
CAREGIVER_EMAIL = "sam.rivera@example.com"
CAREGIVER_PASSWORD = "kettle on the windowsill"
SHARED_NOTE = "Slept for an hour, feeling steadier"
UNSHARED_NOTE = "Argued with my sister on the phone"


def nav(page, name):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def patient_with_two_check_ins(page, live_server, check=True):
    """Through the patient's own phone: an infusion 3 hours ago (40 minutes, so now is hour 2),
    a shared check-in now and an unshared one at hour 1. `check`: axe-core on every page."""
    patient = new_york_patient(live_server, name=PATIENT)
    live_server.sign_in(page, patient)
    if check:
        assert_accessible(page)
    record_infusion(page, check=check)
    check_in(page, check=check, mood=6, note=SHARED_NOTE, shared=True)
    check_in(page, check=check, mood=3, note=UNSHARED_NOTE, shared=False,
             at=browser_local_time(page, hours_ago=1))
    # No caregiver yet: no words about sharing, and nothing to share with.
    expect(page.get_by_role("button", name=re.compile(r"[Ss]har(e|ing) this check-in"))
           ).to_have_count(0)
    expect(page.get_by_role("main")).not_to_contain_text("Shared with your caregivers")
    if check:
        assert_accessible(page)
    shared = dict(live_server.query("SELECT note, shared FROM checkins"))
    assert shared == {SHARED_NOTE: 1, UNSHARED_NOTE: 0}
    return patient


def open_invitation(carer, link):
    carer.goto(link)
    expect(heading(carer)).to_have_text(f"Join {PATIENT}'s care team")


def caregiver_registers(carer):
    """On the invitation link's page: create the caregiver's account, which joins the team."""
    carer.get_by_label("Name").fill(CAREGIVER)
    carer.get_by_label("Email").fill(CAREGIVER_EMAIL)
    carer.get_by_label("Password", exact=True).fill(CAREGIVER_PASSWORD)
    carer.get_by_label("Confirm password").fill(CAREGIVER_PASSWORD)
    carer.get_by_role("button", name="Create account").click()
    expect(status(carer, "Your account is ready, and you are in the care team.")).to_be_visible()


def test_caregiver_sees_only_shared_check_ins_until_the_patient_revokes(
        page, live_server, new_phone_context):
    patient_with_two_check_ins(page, live_server)

    nav(page, "My care team").click()
    expect(page).to_have_url(re.compile(r"/care-team$"))
    expect(heading(page)).to_have_text("My care team")
    members = page.get_by_role("region", name="Members")
    expect(members).to_contain_text("Nobody yet.")
    assert_accessible(page)

    page.get_by_role("button", name="Invite a caregiver").click()
    expect(page).to_have_url(re.compile(r"/care-team/invitations/\d+$"))
    expect(heading(page)).to_have_text("Invitation for a caregiver")
    link_box = page.get_by_label("Invitation link")
    expect(link_box).to_have_attribute("readonly", "")
    expect(link_box).not_to_be_editable()
    link = link_box.input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/invite/[A-Za-z0-9_\-]{20,}", link), link
    qr = page.get_by_role("img", name="QR code of the invitation link")
    expect(qr).to_be_visible()
    expect(qr).to_have_js_property("complete", True)
    assert qr.evaluate("img => img.naturalWidth") > 0, "the QR code did not load"
    qr_response = page.request.get(live_server.url + qr.get_attribute("src"))
    assert qr_response.ok and qr_response.headers["content-type"].startswith("image/svg+xml")
    assert_accessible(page)
    screenshot(page, "invitation")

    # The caregiver's phone: open the link, register, and land on "Shared with me".
    carer = new_phone_context().new_page()
    open_invitation(carer, link)
    expect(carer.get_by_label("Time zone")).to_have_value("America/New_York")  # the phone's zone
    assert_accessible(carer)
    screenshot(carer, "caregiver-register")
    caregiver_registers(carer)
    assert_accessible(carer)

    nav(carer, "Shared with me").click()
    expect(carer).to_have_url(re.compile(r"/shared/?$"))
    expect(heading(carer)).to_have_text("Shared with me")
    expect(nav(carer, "Shared with me")).to_have_attribute("aria-current", "page")
    row = carer.get_by_role("listitem").filter(has=carer.get_by_role("link", name=PATIENT))
    expect(row).to_contain_text("1 shared check-in")
    assert_accessible(carer)

    carer.get_by_role("link", name=PATIENT, exact=True).click()
    expect(carer).to_have_url(re.compile(r"/patients/\d+$"))
    patient_page = carer.url
    expect(heading(carer)).to_have_text(PATIENT)
    expect(carer.get_by_text(f"You see the check-ins {PATIENT} shared with you.")).to_be_visible()
    expect(carer.locator(".checkin")).to_have_count(1)
    expect(carer.get_by_text(SHARED_NOTE)).to_be_visible()
    expect(carer.get_by_text(UNSHARED_NOTE)).to_have_count(0)
    expect(carer.get_by_role("main")).not_to_contain_text(UNSHARED_NOTE)
    expect(carer.get_by_role("main")).not_to_contain_text("Mood: 3 of 10")
    assert_accessible(carer)
    screenshot(carer, "caregiver-view")

    # The patient sees the new member, and who has looked.
    nav(page, "My care team").click()
    expect(members.get_by_role("listitem")).to_have_count(1)
    expect(members.get_by_role("listitem")).to_contain_text(f"{CAREGIVER}, caregiver")
    expect(page.get_by_role("region", name="Invitations not used yet")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "care-team")
    page.get_by_role("link", name="Who has seen my diary").click()
    looks = page.locator("details summary").filter(has_text=CAREGIVER)
    expect(looks).to_have_count(1)
    expect(looks).to_contain_text(re.compile(rf"^{CAREGIVER}, \w+ \d+ \w+: \d+ looks?, "))
    looks.click()  # the detail, one tap away
    expect(page.locator("details[open] li").filter(has_text="opened your diary")).not_to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="Back to my care team").click()

    # Now there is someone to share with: the patient can change what they see.
    nav(page, "My diary").click()
    expect(page.get_by_role("button", name="Share this check-in")).to_have_count(1)
    expect(page.get_by_role("button", name="Stop sharing this check-in")).to_have_count(1)
    nav(page, "My care team").click()

    # "Revoke" asks first, and says what will happen; then the caregiver's next look finds nothing.
    page.get_by_role("link", name=f"Revoke {CAREGIVER}").click()
    expect(heading(page)).to_have_text(f"Remove {CAREGIVER} from your care team?")
    expect(page.get_by_role("main")).to_contain_text(
        f"{CAREGIVER} will no longer see the check-ins you shared with them.")
    assert_accessible(page)
    page.get_by_role("link", name=f"Keep {CAREGIVER}").click()
    expect(members.get_by_role("listitem")).to_have_count(1)  # keeping changed nothing
    page.get_by_role("link", name=f"Revoke {CAREGIVER}").click()
    page.get_by_role("button", name="Remove from my care team").click()
    expect(status(page, "Removed from your care team. They can no longer see your diary.")).to_be_visible()
    expect(members).to_contain_text("Nobody yet.")
    assert_accessible(page)

    response = carer.reload()
    assert response.status == 404
    assert carer.url == patient_page
    expect(heading(carer)).to_have_text("Page not found")
    expect(carer.get_by_role("main")).not_to_contain_text(SHARED_NOTE)
    expect(carer.get_by_role("main")).not_to_contain_text(PATIENT)
    assert_accessible(carer)
    screenshot(carer, "caregiver-after-revoke")

    nav(carer, "Shared with me").click()
    expect(carer.get_by_text("Nobody has shared a diary with you yet.")).to_be_visible()
    assert_accessible(carer)


def test_caregiver_is_not_told_an_unshared_check_in_was_missed(page, live_server, new_phone_context):
    patient_with_two_check_ins(page, live_server, check=False)
    nav(page, "My care team").click()
    page.get_by_role("button", name="Invite a caregiver").click()
    link = page.get_by_label("Invitation link").input_value()
    carer = new_phone_context().new_page()
    open_invitation(carer, link)
    caregiver_registers(carer)
    carer.get_by_role("link", name=PATIENT, exact=True).click()
    expect(heading(carer)).to_have_text(PATIENT)
    expect(carer.get_by_text(SHARED_NOTE)).to_be_visible()
    # The patient did check in at hour 1 (privately); nothing was missed.
    expect(carer.get_by_role("main")).not_to_contain_text("Missed", timeout=1000)
