"""A patient on a phone keeps the diary: records an infusion, checks in, corrects a check-in,
reads the diary and takes the reminders into the phone's calendar.

Driven through the words on screen (labels, button and link names), with axe-core on every page.
The phone and the patient's account are both in America/New_York, and times typed into the
forms are computed by the browser itself, in its own zone.
"""

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.browser.conftest import NARROW_PHONE, SCREENSHOTS, assert_accessible, screenshot

ZONE = "America/New_York"
LENGTH_MINUTES = 40
SYMPTOM = "Dizzy or spinning"
INFUSION_PAGE = re.compile(r"/infusions/(\d+)(?:\?[^/]*)?$")  # after a save: ?saved=<id>
SEVERITIES = ("None", "Mild", "Moderate", "Severe", "Very severe")

# A datetime-local value for "now minus `ms`", written by the browser in the browser's own zone.
LOCAL_INPUT_JS = """(ms) => {
    const d = new Date(Date.now() - ms);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}"""


# --- Helpers (also used by test_care_team_browser.py) ---------------------------------------

def browser_local_time(page, *, hours_ago: float) -> str:
    """A value for a datetime-local field, `hours_ago` before now on the phone's own clock."""
    return page.evaluate(LOCAL_INPUT_JS, int(hours_ago * 3600 * 1000))


def new_york_patient(live_server, name="Pat Lee"):
    return live_server.users.create("patient", name=name, time_zone=ZONE)


def heading(page):
    return page.get_by_role("heading", level=1)


def status(page, text):
    return page.get_by_role("status").filter(has_text=text)


def mood_group(page):
    return page.get_by_role("group", name="Mood", exact=True)


def symptom_group(page, label):
    return page.get_by_role("group", name=label, exact=True)


def record_infusion(page, *, hours_ago=3, length=LENGTH_MINUTES, note="", check=True) -> tuple[int, str]:
    """From any signed-in patient page with the link: record an infusion through the form.

    Returns the new infusion's id and the start time as typed (the phone's local wall clock)."""
    page.get_by_role("link", name="Record an infusion").click()
    expect(page).to_have_url(re.compile(r"/infusions/new$"))
    expect(heading(page)).to_have_text("Record an infusion")
    if check:
        assert_accessible(page)
    started = browser_local_time(page, hours_ago=hours_ago)
    page.get_by_label("Infusion started").fill(started)
    page.get_by_label("Length (minutes)").fill(str(length))
    page.get_by_label("Note", exact=True).fill(note)
    page.get_by_role("button", name="Save infusion").click()
    expect(page).to_have_url(INFUSION_PAGE)
    expect(status(page, "Infusion saved.")).to_be_visible()
    return int(INFUSION_PAGE.search(page.url).group(1)), started


def fill_checkin(page, *, mood=None, symptoms=None, note=None, shared=None, at=None):
    if mood is not None:
        mood_group(page).get_by_role("radio", name=str(mood), exact=True).check()
    for label, severity in (symptoms or {}).items():
        symptom_group(page, label).get_by_role("radio", name=severity, exact=True).check()
    if note is not None:
        page.get_by_label("Note", exact=True).fill(note)
    if shared is not None:
        page.get_by_label("Share with my caregivers").set_checked(shared)
    if at is not None:
        page.get_by_label("Time of check-in").fill(at)


def check_in(page, *, check=True, **answers):
    """From an infusion page: "Check in now", answer, "Save check-in"; ends on the infusion page."""
    page.get_by_role("link", name="Check in now").click()
    expect(page).to_have_url(re.compile(r"/infusions/\d+/check-in$"))
    expect(heading(page)).to_have_text("Check in")
    if check:
        assert_accessible(page)
    fill_checkin(page, **answers)
    page.get_by_role("button", name="Save check-in").click()
    expect(page).to_have_url(INFUSION_PAGE)
    expect(status(page, "Check-in saved.")).to_be_visible()


def checkin_cards(page):
    return page.locator("li.checkin")


def in_viewport(page, locator) -> bool:
    """Wholly inside the visible part of the screen, without scrolling."""
    box = locator.bounding_box()
    view = page.viewport_size
    return (box is not None and box["x"] >= 0 and box["y"] >= 0
            and box["x"] + box["width"] <= view["width"]
            and box["y"] + box["height"] <= view["height"])


def centre(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def on_top_at(page, locator, x, y) -> bool:
    """The element a finger at (x, y) would touch is `locator` (or inside it): nothing covers it."""
    return locator.evaluate("(el, [x, y]) => { const hit = document.elementFromPoint(x, y);"
                            " return hit === el || el.contains(hit) || (el.labels &&"
                            " [...el.labels].some((l) => l.contains(hit))); }", [x, y])


def viewport_shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def to_utc(local_value: str) -> datetime:
    naive = datetime.strptime(local_value, "%Y-%m-%dT%H:%M")
    return naive.replace(tzinfo=ZoneInfo(ZONE)).astimezone(timezone.utc)


def db_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


# --- The whole day, start to end --------------------------------------------------------------

def test_patient_records_infusion_checks_in_corrects_and_takes_reminders(page, live_server):
    patient = new_york_patient(live_server)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == ZONE
    live_server.sign_in(page, patient)
    expect(page).to_have_url(re.compile(r"/diary$"))
    expect(page.get_by_text("No infusion recorded yet.")).to_be_visible()
    assert_accessible(page)

    # An infusion that started 3 hours ago and lasted 40 minutes: it ended 2 h 20 min ago.
    infusion_id, started = record_infusion(page, hours_ago=3, note="Clinic room 4")
    expect(heading(page)).to_contain_text("Infusion of")
    expect(page.get_by_text("It is 2 hours since your infusion ended.")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("(40 minutes). Note: Clinic room 4")
    assert_accessible(page)
    [row] = live_server.query(
        "SELECT started_at, ends_at, length_minutes, note FROM infusions WHERE patient_id = ?",
        (patient["id"],))
    # Typed on a New York phone, kept as New York time by a New York account.
    assert db_time(row["started_at"]) == to_utc(started)
    assert db_time(row["ends_at"]) == to_utc(started) + timedelta(minutes=LENGTH_MINUTES)
    assert (row["length_minutes"], row["note"]) == (LENGTH_MINUTES, "Clinic room 4")

    # A check-in now (hour 2): a mood and one symptom.
    page.get_by_role("link", name="Check in now").click()
    expect(heading(page)).to_have_text("Check in")
    # Filled in with now by the server, in the account's zone: the phone's own wall clock.
    assert page.get_by_label("Time of check-in").input_value() in (
        browser_local_time(page, hours_ago=0), browser_local_time(page, hours_ago=1 / 60))
    expect(page.get_by_label("Share with my caregivers")).to_be_checked()  # the account's default
    for choice in SEVERITIES:
        expect(symptom_group(page, SYMPTOM).get_by_role("radio", name=choice, exact=True)).to_be_visible()
    expect(symptom_group(page, SYMPTOM).get_by_role("radio", name="None", exact=True)).to_be_checked()
    expect(mood_group(page).get_by_role("radio")).to_have_count(11)
    expect(mood_group(page)).to_have_accessible_description(
        "0 = the worst I have felt, 10 = the best")
    assert_accessible(page)
    viewport_shot(page, "checkin-top")
    screenshot(page, "checkin-full")
    page.get_by_label("Time of check-in").scroll_into_view_if_needed()
    viewport_shot(page, "checkin-bottom")
    page.evaluate("window.scrollTo(0, 0)")
    fill_checkin(page, mood=5, symptoms={SYMPTOM: "Moderate"}, note="Dizzy when I stood up")
    page.get_by_role("button", name="Save check-in").click()
    expect(status(page, "Check-in saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/infusions/{infusion_id}(\?[^/]*)?$"))
    assert_accessible(page)

    # One set back to hour 1: an hour ago was 1 h 20 min after the end.
    earlier = browser_local_time(page, hours_ago=1)
    check_in(page, mood=4, note="In the car home", at=earlier)
    cards = checkin_cards(page)
    expect(cards).to_have_count(2)
    expect(cards.nth(0).locator(".hour")).to_have_text("Hour 2")
    expect(cards.nth(1).locator(".hour")).to_have_text("Hour 1")
    assert_accessible(page)

    # Edit the hour-1 check-in: the form opens with its answers, and the mood changes to 6.
    hour_1 = cards.filter(has=page.locator(".hour", has_text="Hour 1"))
    edit = hour_1.get_by_role("link", name=re.compile(r"^Edit check-in of "))
    expect(edit).to_have_text("Edit check-in of " + hour_1.locator(".when").inner_text())
    edit.click()
    expect(heading(page)).to_have_text("Change check-in")
    expect(mood_group(page).get_by_role("radio", name="4", exact=True)).to_be_checked()
    expect(page.get_by_label("Time of check-in")).to_have_value(earlier)
    expect(page.get_by_label("Note", exact=True)).to_have_value("In the car home")
    assert_accessible(page)
    fill_checkin(page, mood=6)
    page.get_by_role("button", name="Save check-in").click()
    expect(status(page, "Check-in changed.")).to_be_visible()
    assert_accessible(page)

    # Both in the diary, newest first, with the right hours.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My diary").click()
    expect(page).to_have_url(re.compile(r"/diary$"))
    cards = checkin_cards(page)
    expect(cards).to_have_count(2)
    expect(cards.nth(0).get_by_role("heading", level=3)).to_contain_text("Hour 2")
    expect(cards.nth(0)).to_contain_text("Mood: 5 of 10")
    expect(cards.nth(0).get_by_role("listitem")).to_have_text([f"{SYMPTOM}: Moderate"])
    expect(cards.nth(0).locator(".note")).to_have_text("Dizzy when I stood up")
    expect(cards.nth(1).get_by_role("heading", level=3)).to_contain_text("Hour 1")
    expect(cards.nth(1)).to_contain_text("Mood: 6 of 10")
    expect(cards.nth(1)).to_contain_text("No symptoms.")
    expect(cards.nth(1).locator(".note")).to_have_text("In the car home")
    slots = page.locator(".slot")
    expect(slots.locator(".slot-hour")).to_have_text([f"Hour {h}" for h in (1, 2, 4, 8, 12, 24)])
    expect(slots.locator(".slot-state")).to_have_text(["Done", "Done", "Next", "Later", "Later", "Later"])
    assert_accessible(page)
    screenshot(page, "diary-two-checkins")
    rows = live_server.query("SELECT at, mood FROM checkins WHERE patient_id = ? ORDER BY at",
                             (patient["id"],))
    assert [r["mood"] for r in rows] == [6, 5]
    assert db_time(rows[0]["at"]) == to_utc(earlier)

    # Reminders: a calendar file with one event per suggested check-in still to come (the
    # infusion ended 2 h 20 min ago, so hours 1 and 2 are left out), each opening the form.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add reminders to my calendar").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"diary-reminders-{infusion_id}.ics"
    calendar = Calendar.from_ical(download.path().read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == 4
    end = to_utc(started) + timedelta(minutes=LENGTH_MINUTES)
    assert [str(event["summary"]) for event in events] == [
        f"Diary check-in (hour {h})" for h in (4, 8, 12, 24)]
    assert [event.decoded("dtstart") for event in events] == [
        end + timedelta(hours=h) for h in (4, 8, 12, 24)]
    assert all(event.walk("VALARM") for event in events)
    assert len({str(event["uid"]) for event in events}) == 4
    check_in_url = f"{live_server.url}/infusions/{infusion_id}/check-in"
    assert all(str(event["url"]) == check_in_url for event in events)
    assert all(check_in_url in str(event["description"]) for event in events)
    expect(page).to_have_url(re.compile(r"/diary$"))  # the page stays where it was


# --- "Nothing to report": the fewest taps -----------------------------------------------------



@pytest.mark.parametrize("phone", [
    "iphone13",
    "320px",
])
def test_nothing_to_report_check_in_takes_two_taps_without_scrolling(
        phone, new_phone_context, live_server):
    context = new_phone_context(**(NARROW_PHONE if phone == "320px" else {}))  # else iPhone 13
    page = context.new_page()
    patient = new_york_patient(live_server)
    live_server.sign_in(page, patient)
    record_infusion(page, check=False)

    # Weigh the check-in page as a first visit: routing turns the browser's cache off.
    context.route("**/*", lambda route: route.continue_())
    responses = []

    def collect(response):
        responses.append(response)

    page.on("response", collect)
    page.get_by_role("link", name="Check in now").click()
    expect(heading(page)).to_have_text("Check in")
    page.wait_for_load_state("load")
    page.remove_listener("response", collect)
    context.unroute("**/*")
    weights = {}
    for response in responses:
        kind = response.request.resource_type
        if kind not in ("document", "stylesheet", "script"):
            continue  # a late icon of the page before has no body left to read
        weights[kind] = weights.get(kind, 0) + len(response.body())
    page_bytes = sum(weights.get(kind, 0) for kind in ("document", "stylesheet", "script"))
    print(f"\n[{phone}] check-in page: {page_bytes} bytes of HTML + CSS + JS ({weights})")
    assert weights.get("document") and weights.get("stylesheet")
    assert page_bytes < 30_000, weights  # issue 13: under 30 KB with its stylesheet

    # The opened page, as it first appears: a mood choice and the Save button are both on screen.
    assert_accessible(page)
    assert page.evaluate("window.scrollY") == 0
    layout = page.evaluate("""() => {
        const box = (s) => document.querySelector(s).getBoundingClientRect();
        return {viewport: innerHeight, nav_bottom: Math.round(box('.nav').bottom),
                mood_top: Math.round(box('.mood').top), mood_bottom: Math.round(box('.mood').bottom),
                save_bar_top: Math.round(box('.sticky-save').top)};
    }""")
    print(f"[{phone}] first screen, px from the top: {layout}")
    seven = mood_group(page).get_by_role("radio", name="7", exact=True)
    save = page.get_by_role("button", name="Save check-in")
    assert in_viewport(page, seven), f"the mood choices are below the fold on a {phone} phone"
    assert in_viewport(page, save), "the Save button is off screen before scrolling"
    viewport_shot(page, f"checkin-first-screen-{phone}")

    taps = 0

    def tap(locator):
        nonlocal taps
        x, y = centre(locator)
        assert on_top_at(page, locator, x, y), f"something covers the place to tap: {layout}"
        page.touchscreen.tap(x, y)  # a finger at a point: unlike .click(), never scrolls
        taps += 1

    tap(seven)
    expect(seven).to_be_checked()
    assert page.evaluate("window.scrollY") == 0
    assert in_viewport(page, save)
    tap(save)

    expect(status(page, "Check-in saved.")).to_be_visible()
    expect(page).to_have_url(INFUSION_PAGE)
    assert taps == 2
    [checkin] = live_server.query("SELECT id, mood, shared FROM checkins WHERE patient_id = ?",
                                  (patient["id"],))
    assert (checkin["mood"], checkin["shared"]) == (7, 1)
    severities = live_server.query(
        "SELECT severity FROM checkin_symptoms WHERE checkin_id = ?", (checkin["id"],))
    assert len(severities) == 14 and {r["severity"] for r in severities} == {0}
    expect(checkin_cards(page)).to_contain_text(["No symptoms."])


# --- Bad input ---------------------------------------------------------------------------------

def test_check_in_without_mood_explains_beside_mood_and_keeps_answers(page, live_server):
    patient = new_york_patient(live_server)
    live_server.sign_in(page, patient)
    record_infusion(page, check=False)
    page.get_by_role("link", name="Check in now").click()
    earlier = browser_local_time(page, hours_ago=1)
    fill_checkin(page, symptoms={SYMPTOM: "Severe", "Headache": "Mild"},
                 note="Woozy, forgot the mood", shared=False, at=earlier)
    page.get_by_role("button", name="Save check-in").click()

    expect(page).to_have_url(re.compile(r"/infusions/\d+/check-in$"))
    expect(page.get_by_role("alert")).to_have_text("Please check the answer marked below.")
    mood = mood_group(page)
    expect(mood).to_have_accessible_description(re.compile(r"Choose your mood"))
    error = mood.locator(".error")
    expect(error).to_have_text("Choose your mood, from 0 to 10.")
    expect(mood).to_have_class(re.compile(r"\bhas-error\b"))
    # Next to the Mood group: inside it, just above its choices.
    error_box, choices_box = error.bounding_box(), mood.locator(".choices").bounding_box()
    assert 0 <= choices_box["y"] - (error_box["y"] + error_box["height"]) < 40
    expect(page.locator(".error")).to_have_count(1)
    for value in range(11):
        expect(mood.get_by_role("radio", name=str(value), exact=True)).not_to_be_checked()

    # Every other answer is still there.
    expect(symptom_group(page, SYMPTOM).get_by_role("radio", name="Severe", exact=True)).to_be_checked()
    expect(symptom_group(page, "Headache").get_by_role("radio", name="Mild", exact=True)).to_be_checked()
    expect(symptom_group(page, "Throwing up").get_by_role("radio", name="None", exact=True)).to_be_checked()
    expect(page.get_by_label("Note", exact=True)).to_have_value("Woozy, forgot the mood")
    expect(page.get_by_label("Share with my caregivers")).not_to_be_checked()
    expect(page.get_by_label("Time of check-in")).to_have_value(earlier)
    assert live_server.query("SELECT COUNT(*) FROM checkins")[0][0] == 0
    assert_accessible(page)
    screenshot(page, "checkin-no-mood")

    # Choosing a mood is then all it takes.
    mood.get_by_role("radio", name="3", exact=True).check()
    page.get_by_role("button", name="Save check-in").click()
    expect(status(page, "Check-in saved.")).to_be_visible()
    [row] = live_server.query("SELECT id, mood, shared, note FROM checkins")
    assert (row["mood"], row["shared"], row["note"]) == (3, 0, "Woozy, forgot the mood")
