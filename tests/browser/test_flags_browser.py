"""Flags on a phone: a dizzy patient is told calmly, their clinician sees and acknowledges the flag,
and a patient who answers "Yes" to the safety question sees crisis help at the top of the page.

Driven through the words on screen, with axe-core on every page. Patients and the phones are in
America/New_York; times typed into forms are computed by the browser in its own zone.
"""

import re

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, assert_accessible, screenshot

ZONE = "America/New_York"
LENGTH_MINUTES = 40
INFUSION_PAGE = re.compile(r"/infusions/(\d+)$")
RESPONSE_PAGE = re.compile(r"/infusions/(\d+)\?saved=(\d+)$")

# A datetime-local value for "now minus `ms`", written by the browser in the browser's own zone.
LOCAL_INPUT_JS = """(ms) => {
    const d = new Date(Date.now() - ms);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}"""


# The note's own colours, and the app's danger colours resolved the same way (as rgb()).
COLOURS_JS = """(el) => {
    const resolve = (value) => {
        const probe = document.createElement("span");
        document.body.append(probe);
        probe.style.color = value;
        const colour = getComputedStyle(probe).color;
        probe.remove();
        return colour;
    };
    const style = getComputedStyle(el);
    return {border: style.borderTopColor, background: style.backgroundColor,
            danger: resolve("var(--danger)"), dangerWash: resolve("var(--danger-wash)")};
}"""


def heading(page):
    return page.get_by_role("heading", level=1)


def status(page, words):
    return page.get_by_role("status").filter(has_text=words)


def box(locator):
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def viewport_shot(page, name):
    """Only what the phone shows without scrolling."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def invite_clinician(patient_page, clinician_page):
    """The patient makes a clinician invitation; the clinician, signed in, accepts the link."""
    patient_page.get_by_role("link", name="My care team").click()
    patient_page.get_by_role("button", name="Invite a clinician").click()
    expect(heading(patient_page)).to_have_text("Invitation for a clinician")
    link = patient_page.get_by_label("Invitation link").input_value()
    clinician_page.goto(link)
    clinician_page.get_by_role("button", name="Accept invitation").click()
    expect(status(clinician_page, "You are now in the care team.")).to_be_visible()


def record_infusion(page, *, hours_ago):
    """Through the form; the infusion ends `hours_ago` hours before now on the phone's clock."""
    page.get_by_role("link", name="My diary").click()
    page.get_by_role("link", name="Record an infusion").click()
    expect(heading(page)).to_have_text("Record an infusion")
    started = page.evaluate(LOCAL_INPUT_JS, int((hours_ago * 60 + LENGTH_MINUTES) * 60 * 1000))
    page.get_by_label("Infusion started").fill(started)
    page.get_by_label("Length (minutes)").fill(str(LENGTH_MINUTES))
    page.get_by_role("button", name="Save infusion").click()
    expect(page).to_have_url(INFUSION_PAGE)
    expect(status(page, "Infusion saved.")).to_be_visible()


def check_in(page, *, mood, symptoms=(), safety=None):
    """From the infusion page, through the real form; ends on the response page."""
    page.get_by_role("link", name="Check in now").click()
    expect(heading(page)).to_have_text("Check in")
    page.get_by_role("group", name="Mood", exact=True).get_by_role(
        "radio", name=str(mood), exact=True).check()
    if safety:
        page.get_by_role("group", name=re.compile(r"thoughts of harming or killing yourself")
                         ).get_by_label(safety, exact=True).check()
    for label, severity in symptoms:
        page.get_by_role("group", name=label, exact=True).get_by_label(severity, exact=True).check()
    page.get_by_role("button", name="Save check-in").click()
    expect(page).to_have_url(RESPONSE_PAGE)
    expect(status(page, "Check-in saved.")).to_be_visible()


def queue_items(page):
    return page.locator("ol.flag-queue > li")


def test_a_dizzy_patient_is_told_calmly_and_the_clinician_acknowledges_the_flag(
        page, live_server, new_phone_context):
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == ZONE
    pat = live_server.users.create("patient", name="Pat Lee", time_zone=ZONE)
    ada = live_server.users.create("clinician", name="Dr Ada Moss", time_zone=ZONE)
    doctor = new_phone_context().new_page()
    live_server.sign_in(doctor, ada)
    live_server.sign_in(page, pat)
    invite_clinician(page, doctor)

    record_infusion(page, hours_ago=8)
    page.get_by_role("link", name="Check in now").click()
    assert_accessible(page)  # the form, with the safety question unanswered
    safety = page.get_by_role("group", name=re.compile(r"thoughts of harming or killing yourself"))
    expect(safety.get_by_role("radio")).to_have_count(3)
    for choice in ("No", "Yes", "I'd rather not say"):
        expect(safety.get_by_label(choice, exact=True)).not_to_be_checked()
    page.go_back()
    check_in(page, mood=5, symptoms=[("Dizzy or spinning", "Moderate")])

    # The response: a calm note, first on the page, no crisis styling.
    note = page.get_by_role("region", name="Something is taking longer to settle")
    expect(note).to_contain_text("Dizzy or spinning is lasting longer than usual.")
    expect(note).to_contain_text("It usually settles within 2-4 hours.")
    expect(note).to_contain_text("Your clinic will see this in your diary.")
    expect(note).to_contain_text("Call your clinic if it gets worse")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".alert.urgent, .crisis-card")).to_have_count(0)
    assert box(note)["y"] < box(heading(page))["y"]
    assert box(note)["y"] + box(note)["height"] <= page.viewport_size["height"]  # seen at once
    # Not red: neither the note's border nor its background is a danger colour.
    colours = note.evaluate(COLOURS_JS)
    assert colours["border"] not in (colours["danger"], colours["dangerWash"]), colours
    assert colours["background"] not in (colours["danger"], colours["dangerWash"]), colours
    assert_accessible(page)
    screenshot(page, "flag-lasting-response")
    viewport_shot(page, "flag-lasting-response-first-screen")

    # The clinician's queue, on their own phone.
    doctor.get_by_role("link", name="Flags").click()
    expect(heading(doctor)).to_have_text("Flags")
    first = queue_items(doctor).first
    expect(first).to_contain_text("Pat Lee")
    expect(first).to_contain_text("Lasting longer than usual")
    expect(first).to_contain_text(re.compile(r"Dizzy or spinning: Moderate at hour 8; usually "
                                             r"settles within 2-4 hours"))
    expect(first.get_by_role("button", name="Acknowledge")).to_be_visible()
    assert_accessible(doctor)
    screenshot(doctor, "flags-queue-lasting")

    first.get_by_text("Add a note").click()
    first.get_by_label("Note (optional)").fill("Rang Pat: resting, will check in again.")
    first.get_by_role("button", name="Acknowledge").click()
    expect(status(doctor, "Flag acknowledged.")).to_be_visible()
    expect(queue_items(doctor)).to_have_count(0)
    expect(doctor.get_by_text("No open flags.")).to_be_visible()
    assert_accessible(doctor)
    screenshot(doctor, "flags-queue-empty")
    [row] = live_server.query("SELECT state, acknowledged_by, acknowledged_note FROM flags")
    assert tuple(row) == ("acknowledged", ada["id"], "Rang Pat: resting, will check in again.")

    # A second patient answers "Yes" to the safety question.
    jo = live_server.users.create("patient", name="Jo Park", time_zone=ZONE)
    phone = new_phone_context().new_page()
    live_server.sign_in(phone, jo)
    invite_clinician(phone, doctor)
    record_infusion(phone, hours_ago=3)
    check_in(phone, mood=4, safety="Yes")

    crisis = phone.get_by_role("alert")
    expect(crisis).to_have_count(1)
    expect(crisis).to_contain_text("988")
    expect(crisis).to_contain_text("741741")
    expect(crisis).to_contain_text("This diary is not watched around the clock.")
    expect(crisis).to_contain_text("Your care team has been alerted")
    call_988 = crisis.get_by_role("link", name="Call 988")
    expect(call_988).to_have_attribute("href", "tel:988")
    expect(crisis.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    expect(crisis.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    checkins = phone.get_by_role("heading", name="Check-ins", exact=True)
    assert box(crisis)["y"] < box(heading(phone))["y"] < box(checkins)["y"]
    assert box(crisis)["y"] < 200  # at the top, right under the header and menu
    assert box(call_988)["y"] + box(call_988)["height"] <= phone.viewport_size["height"] * 2
    assert_accessible(phone)
    screenshot(phone, "flag-urgent-response")
    viewport_shot(phone, "flag-urgent-response-first-screen")

    # The busy clinician: the urgent flag is on top.
    doctor.get_by_role("link", name="Flags").click()
    expect(heading(doctor)).to_have_text("Flags")
    expect(queue_items(doctor)).to_have_count(1)
    top = queue_items(doctor).first
    expect(top).to_contain_text("Urgent")
    expect(top).to_contain_text("Jo Park")
    expect(top).to_contain_text("Answered yes to the safety question at hour 3")
    assert_accessible(doctor)
    screenshot(doctor, "flags-queue-urgent")
