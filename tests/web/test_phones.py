"""'Keep me signed in on this phone' over HTTP: a patient's phone stays signed in past the idle
limit, for DEVICE_DAYS from its last use; clinicians and caregivers keep today's limits; the
phones are listed on Settings and end with "Sign this phone out", "Sign out" on the phone, a
password change or a reset; and every bad cookie is a plain refusal with only an audit row."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from diary.rules.tokens import token_hash

from tests.helpers import PASSWORD, PHONE_COOKIE, query, record_infusion, sign_in_keeping

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/124.0.0.0 Mobile Safari/537.36")


@pytest.fixture
def clock_now(fake_clock):
    fake_clock.set(NOW)
    return fake_clock


def phone_cookie(client):
    cookie = client.get_cookie(PHONE_COOKIE)
    return cookie.value if cookie else None


def audit(app, action):
    return [tuple(row) for row in query(
        app, "SELECT outcome, actor_id FROM audit WHERE action = ? ORDER BY id", (action,))]


def counts(app):
    return {table: query(app, f"SELECT count(*) FROM {table}")[0][0]
            for table in ("sessions", "devices", "checkins", "infusions")}


def test_the_sign_in_page_offers_it(client):
    html = client.get("/sign-in").data.decode()
    assert re.search(r'<input [^>]*id="keep_signed_in" name="keep_signed_in" type="checkbox"', html)
    assert '<label for="keep_signed_in">Keep me signed in on this phone</label>' in html


def test_a_remembered_phone_stays_signed_in_past_the_idle_limit(app, users, clock_now):
    patient = users.create("patient")
    with app.app_context():
        infusion = record_infusion(patient["id"], NOW - timedelta(hours=3))
    phone = sign_in_keeping(app, patient)
    clock_now.advance(hours=5)  # far past the 30 minutes idle, and past nothing else
    form = phone.get(f"/infusions/{infusion['id']}/check-in")
    assert form.status_code == 200 and "Save check-in" in form.data.decode()
    assert phone.get("/").headers["Location"] == "/diary"
    clock_now.advance(hours=20)  # and past the 12 hours absolute limit of one session
    assert phone.get("/diary").status_code == 200
    assert [outcome for outcome, _ in audit(app, "sign_in")] == ["ok", "ok_phone", "ok_phone"]


def test_without_the_tick_the_idle_limit_still_applies(app, users, clock_now):
    client = users.client(users.create("patient"))
    assert phone_cookie(client) is None
    clock_now.advance(minutes=31)
    assert client.get("/diary").status_code == 302


@pytest.mark.parametrize("role, page", [("clinician", "/clinic/patients"),
                                        ("caregiver", "/shared/")])
def test_clinicians_and_caregivers_are_never_remembered(app, users, clock_now, role, page):
    member = users.create(role)
    client = sign_in_keeping(app, member)
    assert phone_cookie(client) is None
    assert counts(app)["devices"] == 0
    clock_now.advance(minutes=31)
    response = client.get(page)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_cookie_is_its_own_random_token_kept_only_as_a_hash(app, users, clock_now):
    patient = users.create("patient")
    client = app.test_client()
    response = client.post("/sign-in", data={"email": patient["email"], "password": PASSWORD,
                                              "keep_signed_in": "y"})
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith(PHONE_COOKIE + "="))
    assert "HttpOnly" in header and "Secure" in header and "SameSite=Lax" in header
    assert "Path=/" in header and "Max-Age=2592000" in header  # 30 days
    token = phone_cookie(client)
    assert len(token) >= 40 and str(patient["id"]) != token
    rows = query(app, "SELECT * FROM devices")
    assert len(rows) == 1 and rows[0]["user_id"] == patient["id"]
    assert rows[0]["token_hash"] == token_hash(token)
    dump = "\n".join(str(tuple(row)) for table in ("devices", "sessions", "audit")
                     for row in query(app, f"SELECT * FROM {table}"))
    assert token not in dump


def test_the_cookie_without_https(app_config, clock_now):
    from diary import create_app
    from tests.helpers import Users
    app_config["INSECURE_COOKIES"] = True
    app = create_app(app_config)
    client = sign_in_keeping(app, Users(app).create("patient"))
    assert client.get_cookie("diary_phone") is not None
    assert client.get_cookie(PHONE_COOKIE) is None


def test_a_phone_unused_for_device_days_is_signed_out(app, users, clock_now):
    phone = sign_in_keeping(app, users.create("patient"))
    clock_now.advance(days=29, hours=23)
    assert phone.get("/diary").status_code == 200  # its last use now counts again
    clock_now.advance(days=30, minutes=1)
    response = phone.get("/diary")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert phone_cookie(phone) is None  # the refused cookie is dropped
    assert [outcome for outcome, _ in audit(app, "phone_refused")] == ["expired"]


def test_device_days_comes_from_the_settings(app_config, clock_now):
    from diary import create_app
    from tests.helpers import Users
    app_config["DEVICE_DAYS"] = 2
    app = create_app(app_config)
    phone = sign_in_keeping(app, Users(app).create("patient"))
    clock_now.advance(days=2, minutes=1)
    assert phone.get("/diary").status_code == 302


def settings_page(client):
    return client.get("/settings").data.decode()


def test_phones_signed_in_are_listed_with_their_browser_and_last_use(app, users, clock_now):
    patient = users.create("patient")
    iphone = app.test_client()
    iphone.environ_base["HTTP_USER_AGENT"] = SAFARI
    sign_in_keeping(app, patient, client=iphone)
    clock_now.advance(hours=2)
    android = app.test_client()
    android.environ_base["HTTP_USER_AGENT"] = CHROME_ANDROID
    sign_in_keeping(app, patient, client=android)
    page = settings_page(android)
    assert "<h2 id=\"phones-heading\">Phones signed in</h2>" in page
    assert "Chrome on Android</strong> (this phone)" in page
    assert "Safari on iPhone</strong><br>" in page
    assert "Last used Tue 10 Mar, 12:00 pm" in page  # the Android one, in New York time
    assert "Last used Tue 10 Mar, 10:00 am" in page  # the iPhone, two hours before
    assert page.index("Chrome on Android") < page.index("Safari on iPhone")
    assert page.count(">Sign this phone out<") == 2


def test_sign_this_phone_out_from_another_phone(app, users, clock_now):
    patient = users.create("patient")
    lost = sign_in_keeping(app, patient)
    mine = sign_in_keeping(app, patient)
    lost_id = query(app, "SELECT id FROM devices ORDER BY id")[0]["id"]
    response = mine.post(f"/phones/{lost_id}/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/settings"
    assert "That phone is signed out." in settings_page(mine)
    # The lost phone is signed out at once, not only after its idle limit.
    assert lost.get("/diary").status_code == 302
    assert mine.get("/diary").status_code == 200
    assert audit(app, "phone_signed_out") == [("ok", patient["id"])]
    assert settings_page(mine).count(">Sign this phone out<") == 1


def test_sign_this_phone_out_on_this_phone_signs_it_out(app, users, clock_now):
    patient = users.create("patient")
    phone = sign_in_keeping(app, patient)
    device_id = query(app, "SELECT id FROM devices")[0]["id"]
    response = phone.post(f"/phones/{device_id}/sign-out")
    assert response.headers["Location"] == "/sign-in"
    assert phone_cookie(phone) is None
    assert phone.get("/diary").status_code == 302


def test_nobody_signs_out_another_patients_phone(app, users, clock_now):
    owner = sign_in_keeping(app, users.create("patient"))
    other = users.client(users.create("patient"))
    device_id = query(app, "SELECT id FROM devices")[0]["id"]
    before = counts(app)
    other.post(f"/phones/{device_id}/sign-out")
    assert query(app, "SELECT ended_at FROM devices")[0]["ended_at"] is None
    assert counts(app) == before
    clock_now.advance(hours=1)
    assert owner.get("/diary").status_code == 200


def test_sign_out_on_the_phone_ends_it(app, users, clock_now):
    phone = sign_in_keeping(app, users.create("patient"))
    stolen = phone_cookie(phone)
    phone.post("/sign-out")
    assert phone_cookie(phone) is None
    assert query(app, "SELECT ended_why FROM devices")[0]["ended_why"] == "signed_out"
    replay = app.test_client()
    replay.set_cookie(PHONE_COOKIE, stolen)
    assert replay.get("/diary").status_code == 302
    assert [outcome for outcome, _ in audit(app, "phone_refused")] == ["signed_out"]


def test_a_password_change_ends_every_remembered_phone(app, users, clock_now):
    patient = users.create("patient")
    phone = sign_in_keeping(app, patient)
    stolen = phone_cookie(phone)
    new = "a new walk by the sea"
    response = phone.post("/password", data={"current": PASSWORD, "password": new,
                                             "confirm": new})
    assert response.status_code == 302
    assert query(app, "SELECT ended_why FROM devices")[0]["ended_why"] == "password_changed"
    thief = app.test_client()
    thief.set_cookie(PHONE_COOKIE, stolen)
    assert thief.get("/diary").status_code == 302
    page = settings_page(phone)
    assert "Phones signed in" in page and "Sign this phone out" not in page


def test_a_password_reset_ends_every_remembered_phone(app, users, runner, clock_now):
    patient = users.create("patient")
    phone = sign_in_keeping(app, patient)
    result = runner.invoke(args=["reset-password", patient["email"]])
    link = re.search(r"(/reset/\S+)", result.output).group(1)
    app.test_client().post(link, data={"password": "a new walk by the sea",
                                       "confirm": "a new walk by the sea"})
    clock_now.advance(minutes=1)
    assert phone.get("/diary").status_code == 302
    assert query(app, "SELECT ended_why FROM devices")[0]["ended_why"] == "password_reset"


def test_a_cookie_of_an_account_whose_password_changed_is_refused(app, users, clock_now):
    """Even a phone the change did not end (a password set by some other path) stops working."""
    from diary.rules import passwords
    patient = users.create("patient")
    phone = sign_in_keeping(app, patient)
    import sqlite3
    conn = sqlite3.connect(app.config["DATABASE"])
    with conn:
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                     (passwords.hash_password("set some other way here"), patient["id"]))
    conn.close()
    clock_now.advance(minutes=31)
    before = counts(app)
    assert phone.get("/diary").status_code == 302
    assert counts(app) == before
    assert audit(app, "phone_refused") == [("password_changed", patient["id"])]


@pytest.mark.parametrize("value", ["forged-" + "x" * 36, "A" * 43, "", "a" * 500, "../../x",
                                   "\u00e9t\u00e9"])
def test_a_forged_cookie_is_a_plain_refusal_with_only_an_audit_row(app, users, clock_now, value):
    users.create("patient")
    client = app.test_client()
    client.set_cookie(PHONE_COOKIE, value)
    before = counts(app)
    audits = len(query(app, "SELECT id FROM audit"))
    for path in ("/diary", "/", "/sign-in", "/infusions/1/check-in"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        client.set_cookie(PHONE_COOKIE, value)
    assert client.get("/diary").headers["Location"].startswith("/sign-in")
    assert counts(app) == before
    new_audits = query(app, "SELECT action, outcome FROM audit WHERE id > ?", (audits,))
    assert len(new_audits) <= 1 and all(row["action"] == "phone_refused" for row in new_audits)


def test_refusals_are_audited_once_an_hour_per_address(app, users, clock_now):
    client = app.test_client()
    for _ in range(5):
        client.set_cookie(PHONE_COOKIE, "A" * 43)
        client.get("/diary")
    assert len(audit(app, "phone_refused")) == 1
    clock_now.advance(minutes=61)
    client.set_cookie(PHONE_COOKIE, "A" * 43)
    client.get("/diary")
    assert len(audit(app, "phone_refused")) == 2


def test_another_person_signing_in_on_the_browser_ends_the_earlier_phone(app, users, clock_now):
    first, second = users.create("patient"), users.create("patient")
    browser = sign_in_keeping(app, first)
    browser.post("/sign-out")
    browser = sign_in_keeping(app, first, client=browser)
    browser.post("/sign-in", data={"email": second["email"], "password": PASSWORD})
    assert phone_cookie(browser) is None
    clock_now.advance(minutes=31)
    response = browser.get("/diary")  # the second person's session timed out: not the first's
    assert response.status_code == 302
    assert query(app, "SELECT count(*) FROM devices WHERE ended_at IS NULL")[0][0] == 0


def test_a_form_opened_before_the_session_ended_still_saves_on_a_remembered_phone(app_config,
                                                                                   clock_now):
    """The phone starts a new session on the Save itself; the form's token stays good."""
    from diary import create_app
    from tests.helpers import Users
    app_config["WTF_CSRF_ENABLED"] = True
    app = create_app(app_config)
    patient = Users(app).create("patient")
    with app.app_context():
        infusion = record_infusion(patient["id"], NOW - timedelta(hours=3))
    phone = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      phone.get("/sign-in").data.decode()).group(1)
    phone.post("/sign-in", data={"csrf_token": token, "email": patient["email"],
                                 "password": PASSWORD, "keep_signed_in": "y"})
    form = phone.get(f"/infusions/{infusion['id']}/check-in").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', form).group(1)
    clock_now.advance(hours=3)
    response = phone.post(f"/infusions/{infusion['id']}/check-in", data={
        "csrf_token": token, "submission_key": key, "mood": "6", "safety": "no",
        "at": "2026-03-10T10:00"})
    assert response.status_code == 302 and "saved=" in response.headers["Location"]
    assert query(app, "SELECT count(*) FROM checkins")[0][0] == 1
