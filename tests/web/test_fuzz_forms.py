"""Malformed forms on every POST route that takes input: never a 500, and the database stays sound."""

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diary.rules import catalogue

from tests.helpers import join_care_team, query

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)

FIELDS = {
    "/register": ["name", "email", "password", "confirm", "time_zone"],
    "/sign-in": ["email", "password", "next"],
    "/infusions/new": ["started_at", "length_minutes", "note"],
    "/infusions/1/check-in": ["mood", "at", "note", "shared", "note_private", "safety",
                              *(f"symptom_{code}" for code in catalogue.CODES), "symptom_x"],
    "/check-ins/1/edit": ["mood", "at", "note", "shared", "safety", "symptom_nausea"],
    "/check-ins/1/sharing": ["shared"],
    "/settings": ["time_zone", "share_by_default"],
    "/patients/1/thresholds": ["symptom", "hours"],
    "/clinic/flags/1/acknowledge": ["note"],
    "/passkeys/options": ["password"],
    "/passkeys/add": ["password", "response"],
    "/passkeys/sign-in": ["response", "next", "keep_signed_in"],
    "/passkeys/1/remove": ["csrf_token"],
    "/phones/1/sign-out": ["csrf_token"],
}

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "4", "10", "11", "99999999999999999999", "2026-03-10T09:00",
                     "2026-02-30T25:61", "yes", "no", "unsaid", "y", "America/New_York",
                     "../../etc/passwd", "<script>alert(1)</script>", "\x00", "' OR 1=1 --"]),
    st.text(min_size=2001, max_size=2100),
)


@pytest.fixture
def world(app, users, fake_clock):
    """A patient with an infusion and a check-in, and their clinician, signed in."""
    fake_clock.set(NOW)
    patient = users.create("patient")
    clinician = users.create("clinician")
    patient_client = users.client(patient)
    patient_client.post("/infusions/new", data={"started_at": "2026-03-10T07:00",
                                                "length_minutes": "40"})
    patient_client.post("/infusions/1/check-in", data={"mood": "5", "at": "2026-03-10T09:50",
                                                       "symptom_dizziness": "4"})
    with app.app_context():
        join_care_team(patient["id"], clinician["id"])
    return {"patient": patient_client, "clinician": users.client(clinician),
            "anonymous": app.test_client()}


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_malformed_forms_never_fail_the_server(app, world, path):
    client = world["clinician"] if path.startswith(("/patients", "/clinic")) else world["patient"]
    if path in ("/register", "/sign-in"):
        client = world["anonymous"]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(FIELDS[path]), texts, max_size=len(FIELDS[path])))
    def post(form):
        response = client.post(path, data=form)
        assert response.status_code in (200, 302, 400, 403, 404, 413, 429), response.status_code

    post()
    assert query(app, "PRAGMA integrity_check")[0][0] == "ok"
    assert query(app, "PRAGMA foreign_key_check") == []
