"""Fixtures in the shape of Flask's tutorial: an app on a temporary database file, clients per role,
a CLI runner, and a clock the test controls."""

from datetime import datetime, timezone

import pytest

from diary import create_app
from diary.rules import clock
from tests.helpers import FakeClock, Users


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
