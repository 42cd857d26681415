"""What tests share: the clock they control, accounts, and the few steps every diary needs
(join a care team, record an infusion, check in), made straight through the services."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from diary import access
from diary.services import accounts, entries
from diary.services import care_team
from diary.store import db
from diary.store.db import connect

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


def join_care_team(patient_id: int, member_id: int, role: str = "clinician") -> None:
    """The patient invites, the member accepts; call inside an app context."""
    _, token = care_team.create_invitation(SimpleNamespace(id=patient_id, role="patient"), role)
    care_team.accept(access.usable_invitation(token), member_id, role)


def record_infusion(patient_id: int, start: datetime, length_minutes: int = 40, note: str = ""):
    """A new infusion, returned as its row; call inside an app context."""
    infusion_id = entries.record_infusion(patient_id, entries.InfusionInput(start, length_minutes,
                                                                            note))
    return access.own_infusion(SimpleNamespace(id=patient_id, role="patient"), infusion_id)


def check_in(patient_id: int, infusion, at: datetime, mood: int = 5, severities=None,
             note: str = "", shared: bool = True, safety: str = "no") -> int:
    return entries.save_checkin(patient_id, infusion, entries.CheckinInput(
        at=at, mood=mood, severities=severities or {}, note=note, shared=shared, safety=safety))


def query(app, sql, params=()):
    """Read the test database directly, the way an auditor would."""
    conn = connect(app.config["DATABASE"])
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def sql_statements(client, path) -> list[str]:
    """Every SQL statement one GET runs, to show a page's queries do not grow with its rows."""
    seen = []
    original = db.connect

    def tracing(database, create=False):
        conn = original(database, create)
        conn.set_trace_callback(seen.append)
        return conn

    db.forget_kept_connection()
    db.connect = tracing
    try:
        response = client.get(path)
    finally:
        db.connect = original
        db.forget_kept_connection()
    assert response.status_code == 200, (path, response.status_code)
    assert seen, "no statement was traced"
    return seen
