"""A new patient on a phone: register, reach the diary, sign out and in, and find crisis help.

Driven through the words on screen (labels, button and link names), with axe-core on every page.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import NARROW_PHONE, assert_accessible, screenshot

NAME = "Jordan Rivera"
EMAIL = "jordan.rivera@example.com"
NEW_PASSWORD = "lanterns over the harbour"


def fill_registration(page, *, name=NAME, email=EMAIL, password=NEW_PASSWORD, confirm=None):
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password if confirm is None else confirm)


def test_new_patient_registers_signs_out_and_in_and_finds_crisis_help(new_phone_context, live_server):
    # A phone in Chicago: the time zone list should pick that up by itself (static/timezone.js).
    page = new_phone_context(timezone_id="America/Chicago").new_page()

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your diary for the day after an infusion")
    assert_accessible(page)
    screenshot(page, "welcome")

    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    expect(page.get_by_label("Time zone")).to_have_value("America/Chicago")
    assert_accessible(page)
    screenshot(page, "register")

    fill_registration(page)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/diary$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My diary")
    expect(page.get_by_role("status").filter(has_text="Your account is ready.")).to_be_visible()
    expect(page.get_by_role("link", name="My diary")).to_have_attribute("aria-current", "page")
    assert_accessible(page)
    screenshot(page, "diary")
    [row] = live_server.query("SELECT name, email, role, time_zone FROM users")
    assert tuple(row) == (NAME, EMAIL, "patient", "America/Chicago")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("status").filter(has_text="You are signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "sign-in")

    page.goto(live_server.url + "/diary")  # signed out for real: the diary asks to sign in
    expect(page).to_have_url(re.compile(r"/sign-in\?next=(%2F|/)diary$"))

    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/diary$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My diary")
    assert_accessible(page)

    page.get_by_role("link", name="Need help now?").click()
    expect(page).to_have_url(re.compile(r"/help$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Need help now?")
    call_911 = page.get_by_role("link", name="Call 911")
    call_988 = page.get_by_role("link", name="Call 988")
    expect(call_911).to_have_attribute("href", "tel:911")
    expect(call_988).to_have_attribute("href", "tel:988")
    expect(page.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    expect(call_911).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("988 Suicide & Crisis Lifeline")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in
    assert_accessible(page)
    screenshot(page, "crisis")


def test_bad_registration_explains_beside_each_field_and_keeps_answers(page, live_server):
    page.goto(live_server.url + "/register")
    fill_registration(page, password="too short", confirm="not the same at all")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("alert")).to_have_text("Please check the answers marked below.")
    password = page.get_by_label("Password", exact=True)
    confirm = page.get_by_label("Confirm password")
    expect(password).to_have_accessible_description(re.compile(r"use at least 12 characters"))
    expect(confirm).to_have_accessible_description("The two passwords are not the same.")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(confirm).to_have_attribute("aria-invalid", "true")
    # Beside the field: the message sits in the same field block, right above its box.
    for field, message in ((password, "use at least 12 characters"),
                           (confirm, "The two passwords are not the same.")):
        block = page.locator(".field").filter(has=field)
        expect(block.locator(".error")).to_contain_text(message)
        error_box = block.locator(".error").bounding_box()
        field_box = field.bounding_box()
        assert 0 <= field_box["y"] - (error_box["y"] + error_box["height"]) < 40

    expect(page.get_by_label("Name")).to_have_value(NAME)
    expect(page.get_by_label("Email")).to_have_value(EMAIL)
    expect(password).to_have_value("")  # a password is never sent back into the page
    expect(page.locator(".field.has-error")).to_have_count(2)
    assert live_server.query("SELECT COUNT(*) FROM users")[0][0] == 0
    assert_accessible(page)
    screenshot(page, "register-errors")


def test_every_page_fits_a_320px_phone_without_sideways_scrolling(new_phone_context, live_server):
    page = new_phone_context(**NARROW_PHONE).new_page()

    def fits(path_or_none=None):
        if path_or_none:
            page.goto(live_server.url + path_or_none)
        page.wait_for_load_state("load")
        assert page.evaluate("window.innerWidth") == 320  # the page's own viewport, not 980
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{page.url} is {width}px wide at 320px: it scrolls sideways"
        assert_accessible(page)

    for path in ("/", "/register", "/sign-in", "/help"):
        fits(path)

    page.goto(live_server.url + "/register")
    fill_registration(page, name="Alexandrina Featherstonehaugh-Montgomery",
                      email="alexandrina.featherstonehaugh-montgomery@example.com",
                      password="short", confirm="other")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_be_visible()
    fits()
    screenshot(page, "register-errors-320")

    live_server.sign_in(page, live_server.users.create("patient", name="Pat Lee"))
    expect(page).to_have_url(re.compile(r"/diary$"))
    fits()
    fits("/help")
    screenshot(page, "crisis-320")


def test_live_server_checks_csrf_like_production(page, live_server, patient):
    """The browser tests run with CSRF on: a sign-in posted without the form's token is refused."""
    user = patient  # tests/conftest.py's fixture, made on the served database
    response = page.request.post(
        live_server.url + "/sign-in", form={"email": user["email"], "password": live_server.password},
        max_redirects=0,
    )
    assert response.status == 400
    assert "This page was open for a long time" in response.text()
    page.goto(live_server.url + "/diary")
    expect(page).to_have_url(re.compile(r"/sign-in"))

    live_server.sign_in(page, user)  # the real form carries its token
    expect(page).to_have_url(re.compile(r"/diary$"))



def test_two_phones_keep_their_own_sessions(page, live_server, new_phone_context, patient):
    """A second phone (new_phone_context) has its own cookies; signing out there ends only its session."""
    live_server.sign_in(page, patient)
    other = new_phone_context().new_page()
    other.goto(live_server.url + "/diary")
    expect(other).to_have_url(re.compile(r"/sign-in"))

    live_server.sign_in(other, patient)
    expect(other).to_have_url(re.compile(r"/diary$"))
    other.get_by_role("button", name="Sign out").click()
    expect(other).to_have_url(re.compile(r"/sign-in$"))

    page.reload()
    expect(page).to_have_url(re.compile(r"/diary$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

# --- The checks themselves work under the app's strict Content-Security-Policy -------------------

def test_axe_runs_under_the_strict_csp_and_catches_an_unlabelled_field(page, live_server):
    response = page.goto(live_server.url + "/sign-in")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert_accessible(page)
    page.evaluate("document.querySelector('form').append(document.createElement('input'))")
    with pytest.raises(pytest.fail.Exception, match=r"label"):
        assert_accessible(page)


def test_browser_problems_catch_blocked_scripts_and_missing_files(page, live_server, browser_problems):
    page.goto(live_server.url + "/help")
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.ran = true';   // inline: the CSP must refuse it
        document.body.append(script);
        const img = document.createElement('img');
        img.src = '/static/no-such-file.png';
        img.alt = '';
        document.body.append(img);
    }""")
    expect(page.locator("img[src$='no-such-file.png']")).to_have_js_property("complete", True)
    assert page.evaluate("window.ran") is None
    page.wait_for_timeout(100)  # let the console and response events arrive
    assert any("Content Security Policy" in problem for problem in browser_problems), browser_problems
    assert any("404 for image" in problem for problem in browser_problems), browser_problems
    browser_problems.clear()  # expected here; any other test would fail at teardown
