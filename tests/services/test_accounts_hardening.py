"""Sign-in throttling under parallel guesses, one throttle for every way to ask about an email,
reset links that end each other, the known-device cookie, and a throttle table that stays small."""

import sqlite3
import threading
import time
from contextlib import closing
from datetime import timedelta
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeSerializer

from diary import create_app
from diary.rules import clock, passwords
from diary.rules.tokens import token_hash
from diary.services import accounts, care_team
from diary.store import accounts as store
from diary.store import db

from tests.helpers import PASSWORD, Users, query

WRONG = "not the right password"
GUESSERS = 40


def sign_in(app, email, password, address="10.0.0.1"):
    with app.app_context():
        return accounts.sign_in(email, password, address,
                                per_account=app.config["SIGNIN_FAILURES_PER_ACCOUNT"],
                                per_address=app.config["SIGNIN_FAILURES_PER_ADDRESS"])


def sign_in_over_http(client, email, password=PASSWORD):
    return client.post("/sign-in", data={"email": email, "password": password})


def outcomes(app, action="sign_in"):
    return [row["outcome"] for row in
            query(app, "SELECT outcome FROM audit WHERE action = ? ORDER BY id", (action,))]


# ---------------------------------------------------------------------------------------------
# 3. Parallel guesses check at most the limit


@pytest.fixture
def checked_passwords(monkeypatch):
    """Counts every password check, each held a little to widen any race."""
    checked, lock, real_verify = [], threading.Lock(), passwords.verify

    def counting_verify(password_hash, password):
        with lock:
            checked.append(password)
        time.sleep(0.02)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify", counting_verify)
    return checked


def guess_in_parallel(app, emails):
    start, errors = threading.Barrier(len(emails)), []

    def guess(email):
        start.wait()
        try:
            sign_in(app, email, WRONG)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_parallel_guesses_at_one_account_check_at_most_the_limit(app, users, checked_passwords):
    user = users.create("patient")
    guess_in_parallel(app, [user["email"]] * GUESSERS)
    assert len(checked_passwords) <= app.config["SIGNIN_FAILURES_PER_ACCOUNT"]
    found = outcomes(app)
    assert found.count("failed") == len(checked_passwords)
    assert found.count("throttled") == GUESSERS - len(checked_passwords)


def test_parallel_guesses_from_one_address_check_at_most_its_limit(app, checked_passwords):
    guess_in_parallel(app, [f"ghost{n}@example.com" for n in range(GUESSERS)])
    assert len(checked_passwords) <= app.config["SIGNIN_FAILURES_PER_ADDRESS"]


def test_the_right_password_gives_back_its_place_in_the_address_count(app, users):
    user = users.create("patient")
    for _ in range(app.config["SIGNIN_FAILURES_PER_ADDRESS"] + 5):
        assert sign_in(app, user["email"], PASSWORD).user is not None
    rows = query(app, "SELECT failures, blocked_until FROM signin_throttle")
    assert all(tuple(row) == (0, None) for row in rows)
    assert outcomes(app).count("ok") == app.config["SIGNIN_FAILURES_PER_ADDRESS"] + 5


def test_a_throttled_attempt_is_not_counted_again(app, users, fake_clock):
    user = users.create("patient")
    for _ in range(5):
        assert sign_in(app, user["email"], WRONG).wait_minutes == 0
    assert sign_in(app, user["email"], PASSWORD).wait_minutes == 1
    fake_clock.advance(seconds=31)
    assert sign_in(app, user["email"], PASSWORD).user is not None
    assert outcomes(app) == ["failed"] * 5 + ["throttled", "ok"]


# ---------------------------------------------------------------------------------------------
# 7. Registering through an invitation link obeys the same per-address throttle as /register


@pytest.fixture
def strict_app(app_config):
    app_config["SIGNIN_FAILURES_PER_ADDRESS"] = 3
    return create_app(app_config)


def invitation_token(app, patient_id):
    with app.app_context():
        _, token = care_team.create_invitation(SimpleNamespace(id=patient_id, role="patient"),
                                               "caregiver")
    return token


def register_form(email):
    return {"name": "Kim Park", "email": email, "password": PASSWORD, "confirm": PASSWORD,
            "time_zone": "Europe/Paris"}


def test_an_address_slowed_on_register_is_slowed_on_an_invitation_link(strict_app, fake_clock):
    users = Users(strict_app)
    pat = users.create("patient")
    taken = [users.create("caregiver")["email"] for _ in range(3)]
    client = strict_app.test_client()
    for email in taken:
        assert "already exists" in client.post("/register", data=register_form(email)).data.decode()
    token = invitation_token(strict_app, pat["id"])
    page = client.post(f"/invite/{token}", data=register_form(taken[0])).data.decode()
    assert "Too many attempts. Please wait 1 minute and try again." in page
    assert "already exists" not in page
    page = client.post(f"/invite/{token}", data=register_form("new@example.com")).data.decode()
    assert "Too many attempts" in page
    assert query(strict_app, "SELECT count(*) FROM users")[0][0] == 4
    fake_clock.advance(seconds=31)
    assert client.post(f"/invite/{token}", data=register_form("new@example.com")).status_code == 302


def test_asking_through_an_invitation_link_counts_towards_register(strict_app, fake_clock):
    users = Users(strict_app)
    pat = users.create("patient")
    taken = [users.create("caregiver")["email"] for _ in range(3)]
    client = strict_app.test_client()
    token = invitation_token(strict_app, pat["id"])
    for email in taken:
        page = client.post(f"/invite/{token}", data=register_form(email)).data.decode()
        assert "already exists" in page
    page = client.post("/register", data=register_form("new@example.com")).data.decode()
    assert "Too many attempts" in page
    assert query(strict_app, "SELECT accepted_at FROM invitations")[0][0] is None


def test_parallel_registrations_ask_about_at_most_the_limit(strict_app, monkeypatch):
    users = Users(strict_app)
    taken = [users.create("patient")["email"] for _ in range(GUESSERS)]
    real_lookup = store.user_by_email

    def slow_lookup(email):
        time.sleep(0.02)
        return real_lookup(email)

    monkeypatch.setattr(store, "user_by_email", slow_lookup)
    start, answers = threading.Barrier(GUESSERS), []

    def register(email):
        with strict_app.app_context():
            start.wait()
            try:
                accounts.register_patient(email=email, name="Kim", password=PASSWORD,
                                          time_zone="UTC", address="10.0.0.9", per_address=3)
            except accounts.AccountError as error:
                answers.append(error.message)

    threads = [threading.Thread(target=register, args=(email,)) for email in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == GUESSERS
    assert sum("already exists" in answer for answer in answers) <= 3


# ---------------------------------------------------------------------------------------------
# 8. A reset link ends every other outstanding link of its user


def reset_link(app, email):
    with app.app_context():
        return accounts.create_password_reset(email, app.config["PASSWORD_RESET_MINUTES"])


def usable(app, token):
    with app.app_context():
        return accounts.usable_password_reset(token) is not None


def test_a_new_reset_link_ends_the_older_ones(app, users, fake_clock):
    user = users.create("patient")
    first, second = reset_link(app, user["email"]), reset_link(app, user["email"])
    assert not usable(app, first) and usable(app, second)
    with app.app_context():
        assert not accounts.reset_password(first, "a brand new evening walk", "10.0.0.1")


def test_using_a_reset_link_ends_the_others(app, users, fake_clock):
    user = users.create("patient")
    used = reset_link(app, user["email"])
    older = "an-older-link-made-before-links-ended-each-other"
    with app.app_context(), db.write() as tx:
        store.insert_password_reset(tx, token_hash=token_hash(older), user_id=user["id"],
                                    created_at=clock.db_now(),
                                    expires_at=clock.to_db(clock.now() + timedelta(minutes=60)))
    assert usable(app, older)
    with app.app_context():
        assert accounts.reset_password(used, "a brand new evening walk", "10.0.0.1")
    assert not usable(app, older)


def test_changing_the_password_ends_every_reset_link(app, users, fake_clock):
    user = users.create("patient")
    token = reset_link(app, user["email"])
    with app.app_context():
        accounts.change_password(user["id"], PASSWORD, "a brand new evening walk",
                                 keep_session="no-session")
    assert not usable(app, token)


# ---------------------------------------------------------------------------------------------
# 9. A known device signs in with the right password while guessers are slowed


def device_cookie_name(app):
    return "__Host-diary_device" if app.config["SESSION_COOKIE_SECURE"] else "diary_device"


def lock_out(app, email):
    guesser = app.test_client()
    for _ in range(app.config["SIGNIN_FAILURES_PER_ACCOUNT"]):
        assert sign_in_over_http(guesser, email, WRONG).status_code == 400
    assert sign_in_over_http(guesser, email).status_code == 429


def known_device(app, user):
    """A browser where this user signed in before, and then signed out."""
    browser = app.test_client()
    assert sign_in_over_http(browser, user["email"]).status_code == 302
    browser.post("/sign-out")
    return browser


def test_a_locked_account_refuses_the_right_password_from_an_unknown_browser(app, users):
    user = users.create("patient")
    lock_out(app, user["email"])
    assert sign_in_over_http(app.test_client(), user["email"]).status_code == 429


def test_a_known_device_signs_in_to_a_locked_account(app, users):
    user = users.create("patient")
    browser = known_device(app, user)
    lock_out(app, user["email"])
    assert sign_in_over_http(browser, user["email"]).status_code == 302
    assert browser.get("/diary").status_code == 200
    assert outcomes(app)[-1] == "ok_known_device"


def test_a_known_device_signs_in_when_its_address_is_blocked(app, users):
    user = users.create("patient")
    browser = known_device(app, user)
    guesser = app.test_client()
    for n in range(app.config["SIGNIN_FAILURES_PER_ADDRESS"]):
        sign_in_over_http(guesser, f"ghost{n}@example.com", WRONG)
    assert sign_in_over_http(app.test_client(), user["email"]).status_code == 429
    assert sign_in_over_http(browser, user["email"]).status_code == 302


def test_a_wrong_password_from_a_known_device_still_counts(app, users):
    user = users.create("patient")
    browser = known_device(app, user)
    lock_out(app, user["email"])
    failures = query(app, "SELECT failures FROM signin_throttle WHERE key LIKE 'email:%'")[0][0]
    response = sign_in_over_http(browser, user["email"], WRONG)
    assert response.status_code == 400 and b"Wrong email or password." in response.data
    assert query(app, "SELECT failures FROM signin_throttle WHERE key LIKE 'email:%'")[0][0] \
        == failures + 1


def test_guesses_from_a_known_device_are_slowed_too(app, users):
    user = users.create("patient")
    browser = known_device(app, user)
    lock_out(app, user["email"])
    for _ in range(app.config["SIGNIN_FAILURES_PER_ACCOUNT"]):
        assert sign_in_over_http(browser, user["email"], WRONG).status_code == 400
    assert sign_in_over_http(browser, user["email"]).status_code == 429


def test_the_cookie_of_another_user_does_not_open_a_locked_account(app, users):
    user, other = users.create("patient"), users.create("patient")
    browser = known_device(app, other)
    lock_out(app, user["email"])
    assert sign_in_over_http(browser, user["email"]).status_code == 429


def test_a_device_cookie_ends_with_the_password_it_was_given_with(app, users):
    user = users.create("patient")
    browser = known_device(app, user)
    with app.app_context():
        token = accounts.create_password_reset(user["email"], 60)
        assert accounts.reset_password(token, "a brand new long passphrase", "127.0.0.1")
    lock_out(app, user["email"])
    assert sign_in_over_http(browser, user["email"], "a brand new long passphrase").status_code \
        == 429


def test_a_tampered_cookie_does_not_open_a_locked_account(app, users):
    user = users.create("patient")
    lock_out(app, user["email"])
    name = device_cookie_name(app)
    forged = URLSafeSerializer("a guessed secret", salt="known-device").dumps(user["id"])
    browser = app.test_client()
    for value in (forged, str(user["id"]), forged[:-2] + "xx"):
        browser.set_cookie(name, value)
        assert sign_in_over_http(browser, user["email"]).status_code == 429


def test_the_device_cookie_attributes(app, users):
    user = users.create("patient")
    response = sign_in_over_http(app.test_client(), user["email"])
    cookie = next(header for header in response.headers.getlist("Set-Cookie")
                  if header.startswith("__Host-diary_device="))
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert max_age >= 364 * 24 * 3600


def test_the_device_cookie_without_https(app_config, fake_clock):
    app_config["INSECURE_COOKIES"] = True
    app = create_app(app_config)
    user = Users(app).create("patient")
    response = sign_in_over_http(app.test_client(), user["email"])
    cookie = next(header for header in response.headers.getlist("Set-Cookie")
                  if header.startswith("diary_device="))
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_a_failed_sign_in_sets_no_device_cookie(app, users):
    user = users.create("patient")
    response = sign_in_over_http(app.test_client(), user["email"], WRONG)
    assert not any("diary_device" in header for header in response.headers.getlist("Set-Cookie"))


# ---------------------------------------------------------------------------------------------
# 10. The throttle table keeps about a day of rows


def test_the_throttle_forgets_quiet_keys_after_a_day(app, fake_clock, monkeypatch):
    monkeypatch.setattr(passwords, "verify", lambda password_hash, password: False)
    attempts, spread = 1000, timedelta(days=2)
    for n in range(attempts):
        fake_clock.advance(seconds=spread.total_seconds() / attempts)
        sign_in(app, f"ghost{n}@example.com", WRONG, address=f"10.0.{n // 250}.{n % 250}")
    day_ago = clock.to_db(fake_clock() - timedelta(hours=24))
    rows = query(app, "SELECT key, updated_at FROM signin_throttle")
    assert all(row["updated_at"] >= day_ago for row in rows)
    assert len(rows) <= attempts + 2


def put_throttle(app, key, blocked_until, updated_at):
    with closing(sqlite3.connect(app.config["DATABASE"])) as conn, conn:
        conn.execute("INSERT INTO signin_throttle (key, failures, blocked_until, updated_at)"
                     " VALUES (?, 50, ?, ?)", (key, blocked_until, updated_at))


def test_old_keys_go_at_the_next_save_unless_blocked_now(app, fake_clock):
    now = fake_clock()
    put_throttle(app, "email:old@example.com", None, clock.to_db(now - timedelta(hours=25)))
    put_throttle(app, "email:expired@example.com", clock.to_db(now - timedelta(hours=24)),
                 clock.to_db(now - timedelta(hours=25)))
    put_throttle(app, "email:blocked@example.com", clock.to_db(now + timedelta(minutes=5)),
                 clock.to_db(now - timedelta(hours=25)))
    put_throttle(app, "email:recent@example.com", None, clock.to_db(now - timedelta(hours=23)))
    sign_in(app, "someone@example.com", WRONG)
    keys = {row["key"] for row in query(app, "SELECT key FROM signin_throttle")}
    assert keys == {"email:blocked@example.com", "email:recent@example.com",
                    "email:someone@example.com", "address:10.0.0.1"}


def test_migration_gives_existing_throttle_rows_a_time(tmp_path):
    path = str(tmp_path / "old.sqlite")
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        db.migrate(conn, target=5)
        conn.execute("INSERT INTO signin_throttle (key, failures) VALUES ('email:a@ex.org', 2)")
        db.migrate(conn)
        row = conn.execute("SELECT failures, updated_at FROM signin_throttle").fetchone()
    assert row[0] == 2 and clock.from_db(row[1])
