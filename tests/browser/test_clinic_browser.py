"""The clinic on a phone: "Add your clinic" for a patient alone, the clinician's phone on the help
page after they join, the flag's state on the patient's diary, and "Reopen" of an
acknowledgement. axe-core on every page."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_flags_browser import (ZONE, check_in, heading, invite_clinician,
                                              queue_items, record_infusion, status)


def test_the_clinic_is_on_every_help_screen_and_the_patient_sees_who_looked(
        page, live_server, new_phone_context):
    pat = live_server.users.create("patient", name="Pat Lee", time_zone=ZONE)
    ada = live_server.users.create("clinician", name="Dr Ada Moss", time_zone=ZONE)
    live_server.sign_in(page, pat)
    expect(page.get_by_role("heading", name="Add your clinic")).to_be_visible()
    assert_accessible(page)

    doctor = new_phone_context().new_page()
    live_server.sign_in(doctor, ada)
    doctor.get_by_role("link", name="Settings").click()
    doctor.get_by_label("Phone for patients").fill("+1 617 555 0100")
    expect(doctor.get_by_label("E-mail me about flags")).to_be_checked()
    assert_accessible(doctor)
    doctor.get_by_role("button", name="Save settings").click()
    expect(status(doctor, "Settings saved.")).to_be_visible()

    invite_clinician(page, doctor)
    page.get_by_role("link", name="Need help now?").click()
    clinic = page.get_by_role("region", name="Your clinic")
    expect(clinic).to_contain_text("Dr Ada Moss")
    expect(clinic.get_by_role("link", name="Call +1 617 555 0100")).to_have_attribute(
        "href", "tel:+16175550100")
    assert_accessible(page)

    record_infusion(page, hours_ago=2)
    check_in(page, mood=1)
    expect(page.get_by_role("alert")).to_contain_text("Your care team has been alerted")
    expect(page.get_by_role("region", name="Your clinic").first).to_be_visible()
    page.get_by_role("link", name="My diary", exact=True).click()
    expect(page.get_by_role("heading", name="Help is there, right now")).to_be_visible()
    expect(page.get_by_text("Your care team has not seen this yet.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "clinic-patient-home-after-urgent")

    doctor.goto(live_server.url + "/clinic/flags")
    item = queue_items(doctor).first
    item.get_by_role("button", name="Acknowledge").click()
    expect(heading(doctor)).to_have_text("Acknowledge without looking?")
    assert_accessible(doctor)
    doctor.get_by_role("button", name="Acknowledge it anyway").click()
    expect(status(doctor, "Flag acknowledged.")).to_be_visible()
    recent = doctor.get_by_role("region", name="Acknowledged in the last 24 hours")
    expect(recent).to_contain_text("Pat Lee")
    assert_accessible(doctor)
    screenshot(doctor, "clinic-flags-reopen")

    page.reload()
    expect(page.get_by_text(re.compile(r"Seen by Dr Ada Moss at"))).to_be_visible()
    expect(page.get_by_role("heading", name="Help is there, right now")).to_have_count(0)

    recent.get_by_role("button", name="Reopen").click()
    expect(status(doctor, "Flag reopened.")).to_be_visible()
    expect(queue_items(doctor)).to_have_count(1)
    page.reload()
    expect(page.get_by_text("Your care team has not seen this yet.")).to_be_visible()
