"""A patient on a phone reads "My course", opens "For my appointment" and prints it; the report
prints to PDF in Chromium (page.pdf) on A4 and US Letter, with the name and dates on every page.
The clinician reads the same course on the patient's page. axe-core on every page, screenshots of
each at phone size, and at 320 px where a dizzy patient's small phone must not scroll sideways.

The course is made on the server with the test's clock (six infusions three days apart, the last
on 20 March 2026), so the dates and the page counts are the same on every run.
"""

import io
import os
import re
from datetime import datetime, timedelta, timezone

import pypdf
from playwright.sync_api import expect

from tests.browser.conftest import NARROW_PHONE, SCREENSHOTS, assert_accessible, screenshot
from tests.helpers import check_in, join_care_team, record_course

LAST_START = datetime(2026, 3, 20, 14, 0, tzinfo=timezone.utc)
ZONE = "America/New_York"
A4_WIDTH_PX = round((210 - 2 * 13) / 25.4 * 96)  # the printable width print.css leaves on A4
COURSE_PAGES = {"A4": 4, "Letter": 5}
ONE_INFUSION_PAGES = {"A4": 2, "Letter": 2}


def patient_with_course(live_server, fake_clock, count=6):
    app, users = live_server.app, live_server.users
    patient = users.create("patient", name="Pat Lee", time_zone=ZONE)
    doctor = users.create("clinician", name="Dr Ada Moss", time_zone=ZONE)
    with app.app_context():
        join_care_team(patient["id"], doctor["id"])
        infusions = record_course(patient["id"], fake_clock, count=count, last_start=LAST_START)
        check_in(patient["id"], infusions[-1], LAST_START + timedelta(hours=25), mood=1,
                 note="A heavy evening")
    return patient, doctor, infusions


def pdf_pages(page, paper: str) -> list[str]:
    data = page.pdf(format=paper, print_background=True)
    if os.environ.get("DIARY_KEEP_PDF"):
        (SCREENSHOTS / f"{os.environ['DIARY_KEEP_PDF']}-{paper}.pdf").write_bytes(data)
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", pdf_page.extract_text()) for pdf_page in reader.pages]


def fits_sideways(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_my_course_on_a_phone(page, live_server, fake_clock, new_phone_context):
    patient, _, _ = patient_with_course(live_server, fake_clock)
    live_server.sign_in(page, patient)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My course")
    expect(page.locator("#comparison")).to_contain_text("your last infusion (score 1, was 1)")
    chart = page.get_by_role("img", name="Side-effect score and mood, infusion by infusion")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] <= 390
    page.get_by_text("Show the chart as a table").click()
    expect(page.locator(".course-chart table tbody tr")).to_have_count(6)
    assert_accessible(page)
    fits_sideways(page, 390)
    screenshot(page, "course")

    narrow = new_phone_context(**NARROW_PHONE).new_page()
    live_server.sign_in(narrow, patient)
    narrow.goto(live_server.url + "/course")
    fits_sideways(narrow, 320)
    assert_accessible(narrow)
    screenshot(narrow, "course-320")


def test_for_my_appointment_prints_on_a4_and_letter(page, live_server, fake_clock):
    patient, _, _ = patient_with_course(live_server, fake_clock)
    live_server.sign_in(page, patient)
    page.goto(live_server.url + "/course")
    page.get_by_role("link", name="For my appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("For my appointment")
    print_button = page.get_by_role("button", name="Print")
    expect(print_button).to_be_visible()
    page.evaluate("window.print = () => { window.printed = true; }")
    print_button.click()
    assert page.evaluate("window.printed") is True
    assert_accessible(page)
    fits_sideways(page, 390)
    screenshot(page, "report")

    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_WIDTH_PX, "height": 900})
    fits_sideways(page, A4_WIDTH_PX)
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(0, 0, 0)"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") in (
        "rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    assert not page.get_by_role("button", name="Print").is_visible()
    assert not page.get_by_role("navigation", name="Main").is_visible()
    screenshot(page, "report-print")

    for paper, expected in COURSE_PAGES.items():
        pages = pdf_pages(page, paper)
        assert len(pages) == expected, (paper, len(pages))
        for number, text in enumerate(pages, start=1):
            assert "Pat Lee · infusion diary · 5 Mar 2026 to 20 Mar 2026 · printed 21 Mar 2026" in text, (paper, number)
            assert f"Page {number} of {expected}" in text, (paper, number)
        everything = " ".join(pages)
        assert "For my appointment" in pages[0] and "score adds up each symptom" in pages[0]
        for number in range(1, 7):
            assert f"Check-ins after infusion {number}" in everything
        assert "Very low mood: Mood 1 of 10 at hour 24" in everything
        assert "Not seen by your care team yet" in everything
        assert "A heavy evening" in everything and "Not seen by your care team yet" in pages[-1]
        assert "Print" not in everything.replace("printed", "")  # no button on paper


def test_one_infusion_report_and_the_clinicians_course(page, live_server, fake_clock):
    patient, doctor, infusions = patient_with_course(live_server, fake_clock)
    live_server.sign_in(page, patient)
    page.goto(f"{live_server.url}/infusions/{infusions[0]['id']}/report")
    expect(page.get_by_role("heading", level=1)).to_have_text("For my appointment")
    assert_accessible(page)
    screenshot(page, "report-one-infusion")
    for paper, expected in ONE_INFUSION_PAGES.items():
        pages = pdf_pages(page, paper)
        assert len(pages) == expected, (paper, len(pages))
        assert all("Pat Lee · infusion diary · 5 Mar 2026 · printed 21 Mar 2026" in text
                   for text in pages)
        assert "Check-ins after infusion 1" in " ".join(pages)

    page.get_by_role("button", name="Sign out").click()
    live_server.sign_in(page, doctor)
    page.goto(f"{live_server.url}/patients/{patient['id']}")
    page.get_by_role("link", name="Course of infusions, printable report and downloads").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pat Lee: course of infusions")
    expect(page.get_by_text("Very low mood: Mood 1 of 10 at hour 24")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "course-clinician")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as FHIR").click()
    assert download.value.suggested_filename == f"infusion-diary-patient-{patient['id']}-2026-03-21.fhir.json"


def test_without_script_the_print_button_stays_hidden(live_server, fake_clock, new_phone_context):
    patient, _, _ = patient_with_course(live_server, fake_clock, count=1)
    page = new_phone_context(java_script_enabled=False).new_page()
    live_server.sign_in(page, patient)
    page.goto(live_server.url + "/course/report")
    expect(page.get_by_role("heading", level=1)).to_have_text("For my appointment")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    # Playwright turns script execution off but the page is still parsed as if it ran, so the
    # <noscript> words are checked in the markup, not on screen.
    assert "<noscript><p class=\"hint no-print\">To print, use your browser's Print or Share menu." in page.content()
