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


def course_story(index: int) -> list[tuple]:
    """Six check-ins after the index-th infusion of a course (0 = first), as (hours after the
    end, mood, severities, note, shared): side effects fade and mood lifts as the course goes on,
    and the hour-8 check-in is kept from caregivers, with a note that looks like a formula."""
    dizzy = max(3 - index, 0)
    return [
        (1, 3 + min(index, 4), {"dizziness": dizzy, "nausea": 1 if index < 2 else 0}, "Floaty", True),
        (2, 4 + min(index, 4), {"dizziness": max(dizzy - 1, 0)}, "", True),
        (4, 5 + min(index, 4), {"dizziness": 1 if index < 2 else 0, "headache": 1}, "", True),
        (8, 5 + min(index, 4), {}, "=private thought", False),
        (12, 6, {}, "", True),
        (24, 6 + min(index, 3), {}, "Slept well", True),
    ]


def record_course(patient_id: int, fake_clock, *, count: int, last_start: datetime,
                  every_days: int = 3, story=course_story) -> list:
    """A course of `count` infusions `every_days` apart, the last starting at `last_start`, each
    with the check-ins `story(index)` gives, made with the clock moved to each moment (the diary
    refuses entries from the future). The clock is left 30 hours after the last start. Returns
    the infusion rows, oldest first; call inside an app context."""
    made = []
    for index in range(count):
        start = last_start - timedelta(days=every_days * (count - 1 - index))
        fake_clock.set(start + timedelta(hours=1))
        infusion = record_infusion(patient_id, start)
        end = start + timedelta(minutes=infusion["length_minutes"])
        for hours, mood, severities, note, shared in story(index):
            at = end + timedelta(hours=hours)
            fake_clock.set(at + timedelta(minutes=1))
            check_in(patient_id, infusion, at, mood=mood, severities=severities, note=note,
                     shared=shared)
        made.append(infusion)
    fake_clock.set(last_start + timedelta(hours=30))
    return made


# --- Remembered phones and passkeys (issue 11) -------------------------------------------------

PHONE_COOKIE = "__Host-diary_phone"
"""The remembered phone's cookie under the tests' HTTPS settings (INSECURE_COOKIES off)."""


def sign_in_keeping(app, user, client=None, **extra):
    """Sign in over HTTP with "Keep me signed in on this phone" ticked; returns the client."""
    client = client or app.test_client()
    response = client.post("/sign-in", data={"email": user["email"], "password": PASSWORD,
                                              "keep_signed_in": "y", **extra})
    assert response.status_code == 302, response.data
    client.user = user
    return client


class SoftAuthenticator:
    """A passkey authenticator in software, for tests over HTTP: an ES256 key, a "none"
    attestation and assertions signed as a phone would sign them (the browser tests use
    Chromium's own virtual authenticator instead). Test scaffolding only: the app checks every
    answer with the webauthn library."""

    def __init__(self, rp_id="localhost", origin="http://localhost"):
        import os
        from cryptography.hazmat.primitives.asymmetric import ec
        self.rp_id, self.origin = rp_id, origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0
        self.counting = True  # False: a synced passkey, whose counter stays at 0
        self.user_handle = None

    @staticmethod
    def b64(data: bytes) -> str:
        import base64
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def _rp_hash(self) -> bytes:
        import hashlib
        return hashlib.sha256(self.rp_id.encode()).digest()

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        import json
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def create(self, options: dict, origin: str | None = None) -> str:
        """The answer to navigator.credentials.create(options), as the page's script sends it."""
        import json
        import cbor2
        numbers = self.key.public_key().public_numbers()
        cose_key = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                    -3: numbers.y.to_bytes(32, "big")}
        self.user_handle = options["user"]["id"]
        auth_data = (self._rp_hash() + bytes([0x45]) + self.sign_count.to_bytes(4, "big")
                     + bytes(16) + len(self.credential_id).to_bytes(2, "big")
                     + self.credential_id + cbor2.dumps(cose_key))
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return json.dumps({
            "id": self.b64(self.credential_id), "rawId": self.b64(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": self.b64(client_data),
                         "attestationObject": self.b64(attestation), "transports": ["internal"]},
        })

    def get(self, options: dict, origin: str | None = None, user_handle: str | None = None) -> str:
        """The answer to navigator.credentials.get(options)."""
        import hashlib
        import json
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        self.sign_count += 1 if self.counting else 0
        auth_data = self._rp_hash() + bytes([0x05]) + self.sign_count.to_bytes(4, "big")
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": self.b64(self.credential_id), "rawId": self.b64(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": self.b64(client_data),
                         "authenticatorData": self.b64(auth_data),
                         "signature": self.b64(signature),
                         "userHandle": user_handle or self.user_handle},
        })
