"""Headers on every route, CSRF with kept answers, friendly errors, request size."""

import re

import pytest

from diary import create_app

from tests.helpers import PASSWORD, query


def concrete_paths(app):
    """Every GET route of the app, with made-up values for its parameters."""
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            values = {name: 1 if "id" in name else "x" for name in rule.arguments}
            yield rule.endpoint, urls.build(rule.endpoint, values)


def test_security_headers_on_every_route(app, users):
    signed_in = users.client(users.create("patient"))
    for _endpoint, path in concrete_paths(app):
        for client in (app.test_client(), signed_in):
            response = client.get(path)
            headers = response.headers
            csp = headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp and "object-src 'none'" in csp, path
            assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["Referrer-Policy"] == "same-origin"
            if not path.startswith("/static/"):
                assert headers["Cache-Control"] == "no-store", path


def test_no_inline_script_in_pages(client):
    for path in ("/", "/register", "/sign-in", "/help"):
        html = client.get(path).data.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " onclick=" not in html and "style=" not in html


@pytest.fixture
def csrf_app(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return create_app(app_config)


TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def form_token(client, path) -> str:
    return TOKEN.search(client.get(path).data.decode()).group(1)


def signed_in_patient(app):
    """A patient signed in through the real form, token and all."""
    from tests.helpers import Users
    user = Users(app).create("patient")
    client = app.test_client()
    client.post("/sign-in", data={"csrf_token": form_token(client, "/sign-in"),
                                  "email": user["email"], "password": PASSWORD})
    return client


def test_csrf_is_enforced_and_the_answers_are_kept(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/register", data={
        "name": "Pat Lee", "email": "pat@example.com", "password": PASSWORD,
        "confirm": PASSWORD, "time_zone": "Europe/Paris",
    })
    assert response.status_code == 400
    html = response.data.decode()
    assert "was not saved yet" in html and 'value="Pat Lee"' in html
    assert 'value="pat@example.com"' in html
    assert query(csrf_app, "SELECT count(*) FROM users")[0][0] == 0
    token = TOKEN.search(html).group(1)
    again = client.post("/register", data={
        "csrf_token": token, "name": "Pat Lee", "email": "pat@example.com",
        "password": PASSWORD, "confirm": PASSWORD, "time_zone": "Europe/Paris",
    })
    assert again.status_code == 302
    assert query(csrf_app, "SELECT count(*) FROM users")[0][0] == 1


def test_sign_out_without_token_does_not_sign_out(csrf_app):
    client = signed_in_patient(csrf_app)
    forged = client.post("/sign-out")
    assert forged.status_code == 400 and b"Sign out" in forged.data
    assert client.get("/diary").status_code == 200


def test_csrf_token_does_not_expire_after_an_hour(csrf_app):
    assert csrf_app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_unexpected_error_shows_a_reference_and_logs_the_details(app_config, caplog):
    app = create_app(app_config)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.data.decode()
    assert "secret detail" not in html and "Traceback" not in html
    reference = re.search(r"reference: <strong>([0-9a-f]{10})</strong>", html).group(1)
    assert reference in caplog.text and "secret detail" in caplog.text


def test_friendly_not_found(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and b"Page not found" in response.data
    assert b"Need help now?" in response.data


def test_request_size_is_limited(client):
    response = client.post("/sign-in", data={"email": "x" * 100_000, "password": "y"})
    assert response.status_code == 413


def test_crisis_link_on_every_page_signed_in_or_not(app, users):
    signed_in = users.client(users.create("patient"))
    for client in (app.test_client(), signed_in):
        for path in ("/", "/help", "/sign-in", "/register", "/diary", "/nowhere"):
            html = client.get(path, follow_redirects=True).data.decode()
            assert re.search(r'<a [^>]*href="/help"[^>]*>Need help now\?</a>', html), path


def test_crisis_page_words_come_from_configuration(app_config):
    app_config.update(CRISIS_LINE_NUMBER="116 123", CRISIS_EMERGENCY_NUMBER="999",
                      CRISIS_TEXT_NUMBER="85258", CRISIS_TEXT_WORD="SHOUT")
    html = create_app(app_config).test_client().get("/help").data.decode()
    assert "Call 999 in an emergency" in html and "116 123" in html
    assert "Text SHOUT to 85258" in html and "911" not in html
    assert "not watched around the clock" in html


def test_crisis_page_default_wording(client):
    html = client.get("/help").data.decode()
    for words in ("911", "988", "988lifeline.org", "HOME", "741741",
                  "This diary is not watched around the clock"):
        assert words in html
    for sign in ("trouble breathing", "chest pain", "fainting", "seizure", "cannot stay awake"):
        assert sign in html


def test_configuration_from_environment(app_config, monkeypatch):
    monkeypatch.setenv("DIARY_CRISIS_LINE_NUMBER", "13 11 14")
    app = create_app(app_config)
    assert app.config["CRISIS_LINE_NUMBER"] == "13 11 14"


def test_a_stale_check_in_form_keeps_every_answer(csrf_app, fake_clock):
    """A patient who answered slowly and lost the form's token sees their answers again, unsaved."""
    from datetime import datetime, timezone

    fake_clock.set(datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc))
    client = signed_in_patient(csrf_app)
    client.post("/infusions/new", data={"csrf_token": form_token(client, "/infusions/new"),
                                        "started_at": "2026-03-10T07:00", "length_minutes": "40"})
    response = client.post("/infusions/1/check-in", data={
        "csrf_token": "stale", "mood": "3", "symptom_nausea": "2", "note": "Still queasy",
        "at": "2026-03-10T09:55", "safety": "no",
    })
    html = response.data.decode()
    assert response.status_code == 400 and "was not saved yet" in html
    assert re.search(r'checked[^>]*name="mood"[^>]*value="3"', html)
    assert re.search(r'checked[^>]*name="symptom_nausea"[^>]*value="2"', html)
    assert "Still queasy" in html and 'value="2026-03-10T09:55"' in html
    assert query(csrf_app, "SELECT count(*) FROM checkins")[0][0] == 0


def test_a_stale_token_on_a_refused_request_is_a_plain_404_not_a_500(app_config):
    app_config.update(WTF_CSRF_ENABLED=True, TESTING=False, CREATE_DATABASE=True)
    client = signed_in_patient(create_app(app_config))
    for path in ("/care-team/members/999/revoke", "/check-ins/999/sharing",
                 "/care-team/invitations/999/revoke"):
        assert client.post(path, data={"csrf_token": "stale"}).status_code == 404, path
