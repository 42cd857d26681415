"""Registration, sign-in, sessions, throttling, password resets and the CLI."""

import re

import pytest

from diary.services import accounts

from tests.helpers import PASSWORD, query


def register(client, **fields):
    data = {"name": "Pat Lee", "email": "pat@example.com", "password": PASSWORD,
            "confirm": PASSWORD, "time_zone": "Europe/Paris"}
    data.update(fields)
    return client.post("/register", data=data)


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/sign-in", data={"email": email, "password": password, **extra})


def test_register_creates_patient_and_signs_in(client, app):
    response = register(client)
    assert response.status_code == 302
    rows = query(app, "SELECT role, time_zone, password_hash FROM users")
    assert [(r["role"], r["time_zone"]) for r in rows] == [("patient", "Europe/Paris")]
    assert PASSWORD not in rows[0]["password_hash"] and rows[0]["password_hash"].startswith("scrypt")
    assert b"No infusion recorded yet" in client.get("/", follow_redirects=True).data
    assert query(app, "SELECT action FROM audit ORDER BY id")[0]["action"] == "account_created"


def test_register_page_has_the_words_users_see(client, app):
    html = client.get("/register").data.decode()
    for label in ("Name", "Email", "Password", "Confirm password", "Time zone"):
        assert re.search(rf"<label[^>]*>{label}</label>", html), label
    assert "Create account" in html
    assert '<option selected value="America/New_York">' in html  # the configured default


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"name": ""}, "name", "Enter your name."),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"email": "not-an-email"}, "email", "Enter an email address"),
        ({"password": "short", "confirm": "short"}, "password", "at least 12"),
        ({"password": "x" * 257, "confirm": "x" * 257}, "password", "at most 256"),
        ({"password": "password1234", "confirm": "password1234"}, "password", "too common"),
        ({"confirm": "something else entirely"}, "confirm", "not the same"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Choose a time zone"),
    ],
)
def test_register_bad_input_is_shown_beside_the_field(client, app, fields, field, message):
    response = register(client, **fields)
    assert response.status_code == 200
    html = response.data.decode()
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html), html
    if "name" not in fields:
        assert 'value="Pat Lee"' in html
    assert query(app, "SELECT count(*) FROM users")[0][0] == 0


def test_register_duplicate_email(client, users, app):
    users.create("patient", email="pat@example.com")
    response = register(client, email="PAT@example.com")
    assert "already exists" in response.data.decode()
    assert query(app, "SELECT count(*) FROM users")[0][0] == 1


def test_unicode_password_of_twelve_characters_is_fine(client, app):
    assert register(client, password="ñandú-über-弟", confirm="ñandú-über-弟").status_code == 302


def test_sign_in_and_out(client, users, app):
    user = users.create("clinician")
    response = sign_in(client, user["email"])
    assert response.status_code == 302
    assert b"My patients" in client.get("/clinic/patients").data
    client.post("/sign-out")
    assert client.get("/clinic/patients").status_code == 302
    actions = [r["action"] for r in query(app, "SELECT action FROM audit ORDER BY id")]
    assert actions == ["account_created", "sign_in", "sign_out"]


def test_wrong_password_and_unknown_email_get_the_same_answer(client, users):
    user = users.create("patient")
    wrong = sign_in(client, user["email"], "not the right password")
    unknown = sign_in(client, "nobody@example.com", "not the right password")
    assert wrong.status_code == unknown.status_code == 400
    assert b"Wrong email or password." in wrong.data
    assert wrong.data.replace(user["email"].encode(), b"") == unknown.data.replace(
        b"nobody@example.com", b""
    )


def test_failed_sign_ins_are_throttled_with_growing_delays(client, users, fake_clock, app):
    user = users.create("patient")
    for _ in range(5):
        assert sign_in(client, user["email"], "wrong password here").status_code == 400
    blocked = sign_in(client, user["email"])
    assert blocked.status_code == 429
    assert b"Too many attempts" in blocked.data
    fake_clock.advance(seconds=31)
    assert sign_in(client, user["email"], "wrong again, sadly").status_code == 400
    assert sign_in(client, user["email"]).status_code == 429
    fake_clock.advance(seconds=59)
    assert sign_in(client, user["email"]).status_code == 429  # the second wait is longer
    fake_clock.advance(seconds=2)
    assert sign_in(client, user["email"]).status_code == 302
    outcomes = [r["outcome"] for r in query(app, "SELECT outcome FROM audit WHERE action='sign_in' ORDER BY id")]
    assert outcomes.count("throttled") == 3 and outcomes[-1] == "ok"


def test_unknown_emails_are_throttled_too(client, fake_clock):
    for _ in range(5):
        sign_in(client, "ghost@example.com", "guessing away here")
    assert sign_in(client, "ghost@example.com", "guessing away here").status_code == 429


def test_throttle_per_address(app_config, users, fake_clock):
    app_config["SIGNIN_FAILURES_PER_ADDRESS"] = 3
    from diary import create_app
    app = create_app(app_config)
    client = app.test_client()
    for n in range(3):
        sign_in(client, f"someone{n}@example.com", "guessing away here")
    assert sign_in(client, "fresh@example.com", "guessing away here").status_code == 429


def test_replayed_cookie_after_sign_out_lands_on_sign_in(app, users):
    user = users.create("patient")
    client = users.client(user)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    client.post("/sign-out")
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    response = replay.get("/diary")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_new_session_id_at_sign_in(app, users):
    user = users.create("patient")
    client = app.test_client()
    client.get("/sign-in")
    sign_in(client, user["email"])
    sign_in(client, user["email"])
    tokens = query(app, "SELECT id FROM sessions")
    assert len({row["id"] for row in tokens}) == 2


@pytest.mark.parametrize("minutes, signed_in", [(29, True), (31, False)])
def test_idle_timeout(app, users, fake_clock, minutes, signed_in):
    client = users.client(users.create("patient"))
    fake_clock.advance(minutes=minutes)
    response = client.get("/diary")
    assert (response.status_code == 200) is signed_in
    if not signed_in:
        assert b"signed out after a while" in client.get("/sign-in").data


def test_absolute_timeout_after_twelve_hours_of_activity(users, fake_clock):
    client = users.client(users.create("patient"))
    for _ in range(24):
        fake_clock.advance(minutes=29)
        assert client.get("/diary").status_code == 200
    fake_clock.advance(minutes=29)
    assert client.get("/diary").status_code == 302


def test_cookie_attributes(app, users):
    client = app.test_client()
    user = users.create("patient")
    response = client.post("/sign-in", data={"email": user["email"], "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/diary", "/diary"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"),
    ],
)
def test_next_only_accepts_paths_on_this_site(client, users, target, expected):
    user = users.create("patient")
    response = sign_in(client, user["email"], next=target)
    assert response.headers["Location"] == expected


def test_sign_in_form_carries_a_safe_next(client):
    html = client.get("/sign-in?next=//evil.example").data.decode()
    assert "evil" not in html
    assert 'value="/diary"' in client.get("/sign-in?next=/diary").data.decode()


def test_roles_cannot_open_each_others_pages(users):
    patient = users.client(users.create("patient"))
    clinician = users.client(users.create("clinician"))
    caregiver = users.client(users.create("caregiver"))
    assert patient.get("/clinic/patients").status_code == 404
    assert caregiver.get("/clinic/patients").status_code == 404
    assert clinician.get("/diary").status_code == 404
    assert patient.get("/shared/").status_code == 404


def test_create_user_command(runner, app):
    result = runner.invoke(
        args=["create-user", "doc@example.com", "--role", "clinician", "--name", "Dr Ada"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert [tuple(r) for r in query(app, "SELECT email, role, name FROM users")] == [
        ("doc@example.com", "clinician", "Dr Ada")
    ]


@pytest.mark.parametrize(
    "password_input, message",
    [("short\nshort\n", "at least 12"), (f"{PASSWORD}\nother words here\n", "not the same")],
)
def test_create_user_command_refuses_bad_passwords(runner, app, password_input, message):
    result = runner.invoke(
        args=["create-user", "doc@example.com", "--name", "Dr Ada"], input=password_input
    )
    assert result.exit_code != 0 and message in result.output
    assert query(app, "SELECT count(*) FROM users")[0][0] == 0


def test_reset_password_link_works_once_and_ends_sessions(runner, app, users, fake_clock):
    user = users.create("patient")
    old_session = users.client(user)
    result = runner.invoke(args=["reset-password", user["email"]])
    assert result.exit_code == 0
    link = re.search(r"http://\S+/reset/(\S+)", result.output)
    path = f"/reset/{link.group(1)}"
    client = app.test_client()
    assert client.get(path).status_code == 200
    new = "a brand new evening walk"
    bad = client.post(path, data={"password": "short", "confirm": "short"})
    assert b"at least 12" in bad.data
    assert client.post(path, data={"password": new, "confirm": new}).status_code == 302
    assert old_session.get("/diary").status_code == 302
    assert sign_in(app.test_client(), user["email"], new).status_code == 302
    assert client.get(path).status_code == 404  # used once


def test_reset_link_expires_after_an_hour(runner, app, users, fake_clock):
    user = users.create("patient")
    token = re.search(r"/reset/(\S+)", runner.invoke(args=["reset-password", user["email"]]).output)
    fake_clock.advance(minutes=61)
    response = app.test_client().get(f"/reset/{token.group(1)}")
    assert response.status_code == 404 and b"does not work any more" in response.data


def test_reset_password_for_unknown_email(runner):
    result = runner.invoke(args=["reset-password", "nobody@example.com"])
    assert result.exit_code != 0


def test_password_policy_plain_function():
    from diary.rules import passwords
    assert passwords.problem("a" * 11)
    assert passwords.problem("aaaaaaaaaaaaaaa")
    assert passwords.problem("Password1234")
    assert passwords.problem("a long and unusual phrase") is None


def test_accounts_refuse_unknown_role(app):
    with app.app_context(), pytest.raises(accounts.AccountError):
        accounts.create_user(email="x@example.com", name="X", role="admin", password=PASSWORD,
                             time_zone="UTC")


def test_signing_in_again_ends_the_previous_session(app, users):
    user = users.create("patient")
    client = users.client(user)
    old_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    client.post("/sign-in", data={"email": user["email"], "password": PASSWORD})
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], old_cookie)
    assert replay.get("/diary").status_code == 302
    assert client.get("/diary").status_code == 200


def test_a_post_after_time_out_does_not_send_the_patient_back_to_a_post_only_page(users, fake_clock):
    client = users.client(users.create("patient"))
    fake_clock.advance(minutes=31)
    response = client.post("/check-ins/1/sharing")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"


def test_changing_the_password_ends_every_other_session(app, users):
    user = users.create("caregiver")
    here, elsewhere = users.client(user), users.client(user)
    new = "a different evening by the sea"
    wrong = here.post("/password", data={"current": "not my password at all", "password": new,
                                         "confirm": new})
    assert "not your current password" in wrong.data.decode()
    short = here.post("/password", data={"current": PASSWORD, "password": "short",
                                         "confirm": "short"})
    assert "at least 12" in short.data.decode()
    assert here.post("/password", data={"current": PASSWORD, "password": new,
                                        "confirm": new}).status_code == 302
    assert here.get("/shared/").status_code == 200
    assert elsewhere.get("/shared/").status_code == 302
    assert sign_in(app.test_client(), user["email"], new).status_code == 302
    assert sign_in(app.test_client(), user["email"], PASSWORD).status_code == 400
    outcomes = [r["outcome"] for r in query(app, "SELECT outcome FROM audit WHERE action = 'password_changed' ORDER BY id")]
    assert outcomes == ["wrong_current", "ok"]


def test_asking_about_one_taken_email_after_another_is_slowed_down(app_config, fake_clock):
    app_config["SIGNIN_FAILURES_PER_ADDRESS"] = 3
    from diary import create_app

    from tests.helpers import Users
    app = create_app(app_config)
    users = Users(app)
    for n in range(3):
        users.create("patient", email=f"taken{n}@example.com")
    client = app.test_client()
    for n in range(3):
        assert "already exists" in register(client, email=f"taken{n}@example.com").data.decode()
    blocked = register(client, email="brand.new@example.com").data.decode()
    assert "Too many attempts" in blocked
    assert query(app, "SELECT count(*) FROM users")[0][0] == 3
    fake_clock.advance(seconds=31)
    assert register(client, email="brand.new@example.com").status_code == 302
