"""Fixtures in the shape of Flask's tutorial: an app on a temporary database file, clients per role,
a CLI runner, and a clock the test controls."""

from datetime import datetime, timedelta, timezone

import pytest

from diary import accounts, clock, create_app

PASSWORD = "a quiet walk by the river"


class FakeClock:
    """Stands in for diary.clock.now; tests move it forward by hand."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> datetime:
        self.current = moment
        return moment


@pytest.fixture
def fake_clock(monkeypatch):
    fake = FakeClock(datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc))
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture
def app_config(tmp_path):
    """The test mapping; a test may change it before asking for `app`."""
    return {
        "TESTING": True,
        "DATABASE": str(tmp_path / "diary.sqlite"),
        "SECRET_KEY": "test-only-secret",
        "WTF_CSRF_ENABLED": False,
        "INSECURE_COOKIES": False,
    }


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Users:
    """Makes accounts straight through the accounts module and signs clients in over HTTP."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def create(self, role="patient", name=None, email=None, time_zone="America/New_York"):
        self.count += 1
        email = email or f"{role}{self.count}@example.com"
        with self.app.app_context():
            user_id = accounts.create_user(
                email=email, name=name or f"{role.title()} {self.count}", role=role,
                password=PASSWORD, time_zone=time_zone,
            )
        return {"id": user_id, "email": email, "role": role}

    def client(self, user):
        signed_in = self.app.test_client()
        response = signed_in.post("/sign-in", data={"email": user["email"], "password": PASSWORD})
        assert response.status_code == 302, response.data
        signed_in.user = user
        return signed_in


@pytest.fixture
def users(app):
    return Users(app)


@pytest.fixture
def patient(users):
    return users.create("patient", name="Pat Lee")


@pytest.fixture
def patient_client(users, patient):
    return users.client(patient)


@pytest.fixture
def clinician_client(users):
    return users.client(users.create("clinician", name="Dr Ada Moss"))


@pytest.fixture
def caregiver_client(users):
    return users.client(users.create("caregiver", name="Sam Lee"))


def query(app, sql, params=()):
    """Read the test database directly, the way an auditor would."""
    from diary.db import connect
    conn = connect(app.config["DATABASE"])
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def sql_statements(client, path) -> list[str]:
    """Every SQL statement one GET runs, to show a page's queries do not grow with its rows."""
    from diary import db
    seen = []
    original = db.connect

    def tracing(database):
        conn = original(database)
        conn.set_trace_callback(seen.append)
        return conn

    db.connect = tracing
    try:
        response = client.get(path)
    finally:
        db.connect = original
    assert response.status_code == 200, (path, response.status_code)
    return seen
