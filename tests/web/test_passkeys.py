"""Passkeys over HTTP, with a software authenticator standing in for the phone: "Add a passkey"
for every role, list and remove, "Sign in with a passkey" with no email or password (a full
sign-in: the account's throttle count ends), and every bad answer a plain refusal that writes
only an audit row. The browser test does the same with Chromium's virtual authenticator."""

import json
import re

import pytest

from diary import create_app
from diary.rules.passkeys import relying_party

from tests.helpers import PASSWORD, SoftAuthenticator, Users, query

ORIGIN = "http://localhost:5000"  # BASE_URL http://127.0.0.1:5000: passkeys live on localhost


@pytest.fixture
def phone():
    return SoftAuthenticator(rp_id="localhost", origin=ORIGIN)


def add_passkey(client, authenticator, password=PASSWORD, **create_args):
    options = client.post("/passkeys/options", data={"password": password})
    assert options.status_code == 200, options.data
    response = authenticator.create(options.get_json(), **create_args)
    return client.post("/passkeys/add", data={"password": password, "response": response})


def passkey_sign_in(client, authenticator, **get_args):
    options = client.post("/passkeys/sign-in/options")
    assert options.status_code == 200
    response = authenticator.get(options.get_json(), **get_args)
    return client.post("/passkeys/sign-in", data={"response": response, "next": "/diary"}), response


def table(app, name):
    return [dict(row) for row in query(app, f"SELECT * FROM {name}")]


def writes(app):
    return {name: len(table(app, name)) for name in ("passkeys", "sessions", "devices",
                                                     "signin_throttle")}


def refusals(app):
    return [row["outcome"] for row in query(
        app, "SELECT outcome FROM audit WHERE action = 'passkey_refused' ORDER BY id")]


def test_the_relying_party_comes_from_base_url():
    assert relying_party("https://diary.clinic.example") == (
        relying_party("https://diary.clinic.example/"))
    rp = relying_party("https://diary.clinic.example")
    assert (rp.id, rp.origin) == ("diary.clinic.example", "https://diary.clinic.example")
    rp = relying_party("https://diary.clinic.example:8443/")
    assert (rp.id, rp.origin) == ("diary.clinic.example", "https://diary.clinic.example:8443")
    rp = relying_party("http://127.0.0.1:5000")
    assert (rp.id, rp.origin) == ("localhost", "http://localhost:5000")


@pytest.mark.parametrize("role", ["patient", "clinician", "caregiver"])
def test_every_role_adds_a_passkey_and_signs_in_with_it(app, users, phone, role):
    user = users.create(role)
    client = users.client(user)
    page = client.get("/passkeys").data.decode()
    assert '<h1 id="passkeys-heading">Passkeys</h1>' in page and "<h2" not in page
    assert "Add a passkey" in page and "No passkey yet." in page
    response = add_passkey(client, phone)
    assert response.status_code == 302
    rows = table(app, "passkeys")
    assert len(rows) == 1 and rows[0]["user_id"] == user["id"]
    assert rows[0]["credential_id"] == phone.b64(phone.credential_id)
    client.post("/sign-out")
    assert client.get("/diary").status_code == 302
    fresh = app.test_client()
    signed_in, _ = passkey_sign_in(fresh, phone)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/diary"  # the `next` it was sent with
    home = fresh.get("/")
    assert home.status_code == 302 and "/sign-in" not in home.headers["Location"]
    outcomes = [row["outcome"] for row in query(
        app, "SELECT outcome FROM audit WHERE action = 'sign_in' ORDER BY id")]
    assert outcomes[-1] == "ok_passkey"


def test_the_patients_settings_list_and_add_passkeys(app, users, phone):
    client = users.client(users.create("patient"))
    page = client.get("/settings").data.decode()
    assert '<h2 id="passkeys-heading">Passkeys</h2>' in page and ">Add a passkey</button>" in page
    assert add_passkey(client, phone).headers["Location"] == "/settings"
    page = client.get("/settings").data.decode()
    assert "Passkey added." in page and "No passkey yet." not in page
    assert re.search(r"<strong>[^<]+</strong><br><span class=\"hint\">Added Tue 10 Mar|"
                     r"<strong>[^<]+</strong><br><span class=\"hint\">Added ", page)


def test_a_passkey_needs_the_password_to_be_added(app, users, phone):
    user = users.create("patient")
    client = users.client(user)
    refused = client.post("/passkeys/options", data={"password": "not my password at all"})
    assert refused.status_code == 400 and "error" in refused.get_json()
    page = client.post("/passkeys/add", data={"password": "not my password at all",
                                              "response": "-"})
    assert page.status_code == 400 and "That is not your password." in page.data.decode()
    assert table(app, "passkeys") == []
    outcomes = [row["outcome"] for row in query(
        app, "SELECT outcome FROM audit WHERE action = 'passkey_added'")]
    assert outcomes == ["wrong_password", "wrong_password"]


def test_removing_a_passkey(app, users, phone):
    user = users.create("clinician")
    client = users.client(user)
    add_passkey(client, phone)
    passkey_id = table(app, "passkeys")[0]["id"]
    stranger = users.client(users.create("patient"))
    assert stranger.post(f"/passkeys/{passkey_id}/remove").status_code == 404
    assert len(table(app, "passkeys")) == 1
    response = client.post(f"/passkeys/{passkey_id}/remove")
    assert response.status_code == 302 and response.headers["Location"] == "/passkeys"
    assert table(app, "passkeys") == []
    assert "Passkey removed." in client.get("/passkeys").data.decode()
    before = writes(app)
    refused, _ = passkey_sign_in(app.test_client(), phone)
    assert refused.status_code == 400 and writes(app) == before
    assert refusals(app) == ["unknown_passkey"]


def test_a_passkey_sign_in_ends_the_accounts_throttle_count(app, users, phone):
    user = users.create("patient")
    add_passkey(users.client(user), phone)
    guesser = app.test_client()
    for _ in range(6):
        guesser.post("/sign-in", data={"email": user["email"], "password": "wrong guess here"})
    blocked = query(app, "SELECT failures, blocked_until FROM signin_throttle WHERE key = ?",
                    (f"email:{user['email']}",))[0]
    assert blocked["failures"] == 5 and blocked["blocked_until"]
    assert app.test_client().post("/sign-in", data={"email": user["email"],
                                                    "password": PASSWORD}).status_code == 429
    response, _ = passkey_sign_in(app.test_client(), phone)
    assert response.status_code == 302
    assert query(app, "SELECT count(*) FROM signin_throttle WHERE key = ?",
                 (f"email:{user['email']}",))[0][0] == 0
    # The owner's password works again at once from any browser.
    assert app.test_client().post("/sign-in", data={"email": user["email"],
                                                    "password": PASSWORD}).status_code == 302


def test_a_passkey_sign_in_can_keep_a_patients_phone_signed_in(app, users, phone):
    user = users.create("patient")
    add_passkey(users.client(user), phone)
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options").get_json()
    client.post("/passkeys/sign-in", data={"response": phone.get(options), "keep_signed_in": "y"})
    assert client.get_cookie("__Host-diary_phone") is not None
    assert len(table(app, "devices")) == 1


# --- Bad input: a plain refusal, nothing written but an audit row ---------------------------

@pytest.fixture
def registered(app, users, phone):
    user = users.create("patient")
    add_passkey(users.client(user), phone)
    return user


def refused_with_only_an_audit_row(app, send, reason):
    before, audit_before = writes(app), len(table(app, "audit"))
    response = send()
    assert response.status_code == 400
    assert "That passkey did not work." in response.data.decode()
    assert writes(app) == before
    assert len(table(app, "audit")) == audit_before + 1
    assert refusals(app)[-1] == reason


def test_a_replayed_answer_is_refused(app, registered, phone):
    """Synced passkeys often keep their counter at 0: the challenge, used once, refuses a copy."""
    phone.counting = False
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options").get_json()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    answer = phone.get(options)
    assert client.post("/passkeys/sign-in", data={"response": answer}).status_code == 302
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    refused_with_only_an_audit_row(
        app, lambda: thief.post("/passkeys/sign-in", data={"response": answer}), "replayed")


def test_an_answer_to_another_challenge_is_refused(app, registered, phone):
    client = app.test_client()
    first = client.post("/passkeys/sign-in/options").get_json()
    client.post("/passkeys/sign-in/options")  # the browser's challenge is now another one
    refused_with_only_an_audit_row(
        app, lambda: client.post("/passkeys/sign-in", data={"response": phone.get(first)}),
        "assertion_not_verified")


def test_an_answer_without_any_challenge_is_refused(app, registered, phone):
    options = app.test_client().post("/passkeys/sign-in/options").get_json()
    refused_with_only_an_audit_row(
        app, lambda: app.test_client().post("/passkeys/sign-in",
                                            data={"response": phone.get(options)}),
        "no_challenge")


def test_an_answer_made_for_another_origin_is_refused(app, registered, phone):
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options").get_json()
    answer = phone.get(options, origin="https://diary.evil.example")
    refused_with_only_an_audit_row(
        app, lambda: client.post("/passkeys/sign-in", data={"response": answer}),
        "assertion_not_verified")


def test_an_answer_for_another_account_is_refused(app, users, registered, phone):
    other = users.create("patient")
    other_phone = SoftAuthenticator(rp_id="localhost", origin=ORIGIN)
    add_passkey(users.client(other), other_phone)
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options").get_json()
    answer = phone.get(options, user_handle=other_phone.user_handle)
    refused_with_only_an_audit_row(
        app, lambda: client.post("/passkeys/sign-in", data={"response": answer}),
        "another_account")


def test_a_challenge_older_than_five_minutes_is_refused(app, registered, phone, fake_clock):
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options").get_json()
    fake_clock.advance(minutes=6)
    refused_with_only_an_audit_row(
        app, lambda: client.post("/passkeys/sign-in", data={"response": phone.get(options)}),
        "challenge_expired")


def test_a_copied_authenticator_whose_counter_went_back_is_refused(app, registered, phone):
    assert passkey_sign_in(app.test_client(), phone)[0].status_code == 302
    assert passkey_sign_in(app.test_client(), phone)[0].status_code == 302
    phone.sign_count = 0  # a clone that has not seen the last two signatures
    client = app.test_client()
    options = client.post("/passkeys/sign-in/options").get_json()
    refused_with_only_an_audit_row(
        app, lambda: client.post("/passkeys/sign-in", data={"response": phone.get(options)}),
        "assertion_not_verified")


@pytest.mark.parametrize("answer", ["", "{}", "[]", "null", "x" * 20_000, "{\"id\": 5}",
                                    json.dumps({"id": "AA", "rawId": "AA", "type": "public-key",
                                                "response": {"clientDataJSON": "e30"}}),
                                    json.dumps({"id": "\u00e9", "response": []})])
def test_malformed_answers_are_refused_never_a_500(app, registered, answer):
    client = app.test_client()
    client.post("/passkeys/sign-in/options")
    before = writes(app)
    response = client.post("/passkeys/sign-in", data={"response": answer})
    assert response.status_code == 400
    assert writes(app) == before


def test_a_registration_answer_for_another_account_is_refused(app, users, phone):
    """An answer made for one person's options cannot add a passkey to another account."""
    ada, ben = users.create("clinician"), users.create("clinician")
    ada_client, ben_client = users.client(ada), users.client(ben)
    ada_options = ada_client.post("/passkeys/options", data={"password": PASSWORD}).get_json()
    ben_client.post("/passkeys/options", data={"password": PASSWORD})
    answer = phone.create(ada_options)
    response = ben_client.post("/passkeys/add", data={"password": PASSWORD, "response": answer})
    assert response.status_code == 400
    assert "That passkey could not be added." in response.data.decode()
    assert table(app, "passkeys") == []
    assert refusals(app) == ["registration_not_verified"]


def test_a_registration_from_another_origin_is_refused(app, users, phone):
    client = users.client(users.create("caregiver"))
    response = add_passkey(client, phone, origin="https://diary.evil.example")
    assert response.status_code == 400 and table(app, "passkeys") == []


def test_a_registration_replayed_is_refused(app, users, phone):
    client = users.client(users.create("patient"))
    options = client.post("/passkeys/options", data={"password": PASSWORD})
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    answer = phone.create(options.get_json())
    client.post("/passkeys/add", data={"password": PASSWORD, "response": answer})
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    again = client.post("/passkeys/add", data={"password": PASSWORD, "response": answer})
    assert again.status_code == 400 and len(table(app, "passkeys")) == 1
    assert refusals(app) == ["replayed"]


@pytest.fixture
def csrf_app(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return create_app(app_config)


def test_options_need_the_pages_token(csrf_app):
    client = csrf_app.test_client()
    assert client.post("/passkeys/sign-in/options").status_code == 400
    page = client.get("/sign-in").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert f'<input type="hidden" name="csrf_token" value="{token}">' in page
    answer = client.post("/passkeys/sign-in/options", data={"csrf_token": token})
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    options = answer.get_json()
    assert options["rpId"] == "localhost" and options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []  # no account named: no email needed
    user = Users(csrf_app).create("patient")
    assert client.post("/passkeys/sign-in", data={"response": "{}"}).status_code == 400
    assert query(csrf_app, "SELECT count(*) FROM sessions")[0][0] == 0
    assert user


def test_the_sign_in_page_offers_a_passkey_only_where_passkeys_can_work(app, client):
    page = client.get("/sign-in").data.decode()
    assert ">Sign in with a passkey</button>" in page and "passkeys.js" in page
    elsewhere = client.get("/sign-in", headers={"Host": "127.0.0.1:5000"}).data.decode()
    assert "Sign in with a passkey" not in elsewhere
