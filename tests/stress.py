"""`make stress`: robustness figures from a real run, printed, with PASS/FAIL per figure.

A script, not a pytest test. Four figures:

1. Fuzz: N requests (10,000 by default) in-process through Flask's test client across every route
   in `app.url_map` and every role (anonymous, patient, clinician, caregiver of one care team, and
   a patient outside it): form posts, JSON bodies, oversized bodies, multipart floods of more than
   1,000 parts, wrong methods, junk and other people's ids, junk tokens; half the run with CSRF
   protection off, half with it on. Counts responses with status 500 (target 0), and checks that
   no 4xx response wrote anything to a diary table (every table except audit, signin_throttle and
   sessions): row counts before and after every write-method request, and, for every request,
   per-table write counters kept by triggers this script adds to its own throwaway database (so
   an UPDATE or a DELETE by a 4xx is caught too, not only a new row).
2. 50 concurrent writers: two gunicorn servers (2 sync workers each) on one SQLite file; 50
   patients sign in over HTTP and post check-ins alternately to both, each with a fresh
   `submission_key`; then 10% of the acknowledged ones are sent again with the same key.
   Target: no 500, no acknowledged check-in lost, no key stored twice, no row from a re-send.
3. kill -9: one gunicorn server killed (its whole process group) 50-300 ms after it came up,
   while writers post; restarted at once; every unacknowledged submission is retried with the
   same key until acknowledged. Target: every acknowledged check-in stored exactly once.
4. 40 parallel wrong passwords for one account against one 2-worker server: how many passwords
   were actually checked (audit rows sign_in/failed) next to SIGNIN_FAILURES_PER_ACCOUNT.

Every check-in this script posts over HTTP carries its submission key in its note too
("stress <key>"), so doubles are counted whether or not the app stores the key itself.

    .venv/bin/python -m tests.stress                     # everything, as `make stress`
    .venv/bin/python -m tests.stress --cycles 10         # fewer kill -9 cycles (or STRESS_CYCLES)
    .venv/bin/python -m tests.stress --parts 1 --requests 2000

Servers are bound to 127.0.0.1 on free ports, run in their own process groups and are stopped by
process group at the end, pass or fail; the temporary folder is removed. Exit status 1 when any
figure fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlencode, urlsplit

from diary import create_app
from diary.rules import catalogue, clock
from diary.rules.errors import FieldError
from diary.services import accounts
from diary.services import care_team as care
from diary.services import flags as flagging
from tests.helpers import PASSWORD, Users, check_in, join_care_team, record_infusion

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SEED = 20260310
ALLOWED_TO_GROW = ("audit", "signin_throttle", "sessions")
ZONES = ("America/New_York", "Europe/London", "Asia/Kolkata", "Pacific/Auckland")
SOCKET_TIMEOUT = 20  # a guard against a hung server, never a measurement
STRONG_PASSWORD = "lantern orchard velvet 42"


@dataclass
class Figure:
    number: int
    title: str
    passed: bool
    figure: str
    seconds: float = 0.0


def say(text: str = "") -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------------------------
# Real servers
# --------------------------------------------------------------------------------------------

STARTED: list["Gunicorn"] = []  # every server this run started, stopped in main's finally


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(database: Path, secret: str) -> dict:
    env = dict(os.environ)
    env.update(DIARY_DATABASE=str(database), DIARY_SECRET_KEY=secret, DIARY_INSECURE_COOKIES="1",
               DIARY_WTF_CSRF_ENABLED="false")
    return env


def init_db(database: Path, secret: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "diary", "init-db"], cwd=ROOT, check=True,
                   env=server_env(database, secret), stdout=subprocess.DEVNULL)


class Gunicorn:
    """gunicorn in a process group of its own, so kill -9 reaches the master and every worker."""

    def __init__(self, name: str, port: int, database: Path, secret: str, log_path: Path,
                 workers: int = 2):
        self.name, self.port, self.workers = name, port, workers
        self.env = server_env(database, secret)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.starts = 0
        STARTED.append(self)

    def start(self, timeout: float = 60) -> float:
        """Start and wait until a worker answers; returns the seconds that took."""
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", str(self.workers),
                 "--bind", f"127.0.0.1:{self.port}", "--no-control-socket",
                 "--log-level", "warning", "diary:create_app()"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        self.starts += 1
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   + self.log_text()[-3000:])
            try:
                if request(self.port, "GET", "/help", timeout=2)[0] == 200:
                    return time.monotonic() - began
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s")

    def _signal_group(self, sig) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)  # start_new_session: the group id is the master's pid
        except ProcessLookupError:
            pass

    def kill9(self) -> None:
        self._signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self._signal_group(signal.SIGKILL)  # workers left behind by a master that died first
        self.process.wait()
        self.process = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def stop_all_servers() -> None:
    for server in STARTED:
        try:
            server.stop()
        except Exception as error:  # keep stopping the others
            say(f"  could not stop {server.name}: {error!r}")


# --------------------------------------------------------------------------------------------
# Plain HTTP with the standard library
# --------------------------------------------------------------------------------------------

def request(port, method, path, cookies: dict | None = None, form=None, timeout=SOCKET_TIMEOUT):
    """One request on its own connection; returns (status, Location, [Set-Cookie])."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return (response.status, response.getheader("Location") or "",
                response.headers.get_all("Set-Cookie") or [])
    finally:
        conn.close()


def keep_cookies(jar: dict, set_cookies: list[str]) -> dict:
    """Whatever Set-Cookie gives (diary_session or __Host-diary_session), as a browser keeps it."""
    for header in set_cookies:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        expired = "max-age=0" in attributes.lower().replace(" ", "") or "1970" in attributes
        if not value or expired:
            jar.pop(name, None)
        else:
            jar[name] = value
    return jar


def http_sign_in(port, email, password=PASSWORD) -> dict:
    status, location, set_cookies = request(port, "POST", "/sign-in",
                                            form={"email": email, "password": password})
    if status != 302:
        raise RuntimeError(f"sign-in of {email} on port {port} answered {status}")
    jar = keep_cookies({}, set_cookies)
    if not jar:
        raise RuntimeError(f"sign-in of {email} set no cookie")
    return jar


def local_now_input(zone: str) -> str:
    return clock.local(clock.now(), zone).strftime("%Y-%m-%dT%H:%M")


def saved_id(location: str, infusion_id: int) -> int | None:
    match = re.fullmatch(rf"(?:https?://[^/]+)?/infusions/{infusion_id}\?saved=(\d+)", location)
    return int(match.group(1)) if match else None


def open_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def checkins_by_note(conn) -> Counter:
    return Counter({note: n for note, n in conn.execute(
        "SELECT note, count(*) FROM checkins WHERE note LIKE 'stress %' GROUP BY note")})


def has_submission_key_column(conn) -> bool:
    return any(row[1] == "submission_key" for row in conn.execute("PRAGMA table_info(checkins)"))


def soundness(conn) -> list[str]:
    """Problems with the file itself and with check-ins stored in halves."""
    problems = []
    integrity = conn.execute("PRAGMA integrity_check").fetchall()
    if integrity != [("ok",)]:
        problems.append(f"integrity_check: {integrity[:5]}")
    foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
    if foreign:
        problems.append(f"foreign_key_check: {foreign[:5]}")
    halves = conn.execute(
        "SELECT c.id FROM checkins c WHERE"
        " (SELECT count(*) FROM checkin_symptoms s WHERE s.checkin_id = c.id) != ?"
        " OR (SELECT count(*) FROM audit a WHERE a.action = 'checkin_saved'"
        "     AND a.subject = 'checkin:' || c.id) != 1", (len(catalogue.CODES),)).fetchall()
    if halves:
        problems.append(f"{len(halves)} check-ins without all symptom rows or exactly one audit "
                        f"row, e.g. {[row[0] for row in halves[:5]]}")
    return problems


def make_patients(database: Path, secret: str, count: int, prefix: str) -> list[dict]:
    """Patients made in-process through tests.helpers, each with one infusion two hours old."""
    app = create_app({"DATABASE": str(database), "SECRET_KEY": secret})
    users = Users(app)
    made = []
    with app.app_context():
        started = clock.now() - timedelta(hours=2)
        for index in range(count):
            zone = ZONES[index % len(ZONES)]
            user = users.create("patient", email=f"{prefix}{index}@stress.example", time_zone=zone)
            infusion = record_infusion(user["id"], started)
            made.append({**user, "zone": zone, "infusion": infusion["id"]})
    return made


# --------------------------------------------------------------------------------------------
# Figure 1: fuzz every route and role in-process
# --------------------------------------------------------------------------------------------

FIELDS = {
    "auth.register": ["name", "email", "password", "confirm", "time_zone"],
    "team.invitation_link": ["name", "email", "password", "confirm", "time_zone"],
    "auth.sign_in": ["email", "password", "next"],
    "auth.reset_password": ["password", "confirm"],
    "auth.change_password": ["current", "password", "confirm"],
    "patient.new_infusion": ["started_at", "length_minutes", "note"],
    "patient.edit_infusion": ["started_at", "length_minutes", "note"],
    "patient.new_checkin": ["mood", "at", "note", "shared", "note_private", "safety",
                            "submission_key", *(f"symptom_{code}" for code in catalogue.CODES)],
    "patient.edit_checkin": ["mood", "at", "note", "shared", "note_private", "safety",
                             *(f"symptom_{code}" for code in catalogue.CODES)],
    "patient.set_sharing": ["shared"],
    "patient.settings": ["time_zone", "share_by_default"],
    "clinician.acknowledge": ["note"],
    "reader.thresholds": ["symptom", "hours"],
}
GENERIC_FIELDS = ["note", "mood", "id", "patient_id", "role", "next", "shared"]
EXTRA_FIELDS = ["symptom_unknown", "symptom_", "role", "patient_id", "user_id", "id", "csrf_token",
                "submission_key", "email", "__proto__", "a" * 300, ""]

JUNK_TEXT = [
    "", " ", "0", "-1", "4", "5", "10", "11", "48", "49", "99999999999999999999", "1e3", "NaN",
    "0x10", "\uff15", "2026-03-10T09:00", "2026-02-30T25:61", "0001-01-01T00:00",
    "9999-12-31T23:59", "1999-12-31T23:59", "2100-12-31T23:59", "yes", "no", "unsaid", "maybe", "y",
    "on", "true", "None", "null", "America/New_York", "Mars/Olympus", "UTC", "../../etc/passwd",
    "<script>alert(1)</script>", "\x00", "' OR 1=1 --", "%00", "\u202e", "\U0001f600" * 5,
    "//evil.example", "/\\evil.example", "javascript:alert(1)", "nausea", "dizziness",
    "a@b.c", "clinician", "patient",
]
JUNK_INTS = [0, 1, 2, 3, 2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63, 10**30, 999999]
JUNK_SEGMENTS = ["-1", "abc", "1.5", "01", " 1", "%00", "1;DROP", "0x1", "", "..", "1e3"]
WRONG_METHODS = ["PUT", "DELETE", "PATCH", "TRACE", "PROPFIND", "POST", "GET"]
ID_TABLES = {"infusion_id": "infusions", "checkin_id": "checkins", "flag_id": "flags",
             "patient_id": "users", "invitation_id": "invitations", "membership_id": "care_team"}
SIGNS_IN = ("/sign-in", "/register", "/invite/<token>", "/reset/<token>")
ARGUMENT = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
BODY_KINDS = [("form", 50), ("multipart", 10), ("json", 10), ("oversized", 7), ("flood", 8),
              ("raw", 8), ("empty", 7)]
ROLES = [("patient", 30), ("clinician", 18), ("caregiver", 14), ("stranger", 13),
         ("anonymous", 25)]


def weighted(rng, pairs):
    return rng.choices([item for item, _ in pairs], weights=[w for _, w in pairs])[0]


def junk_value(rng):
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(JUNK_TEXT)
    if roll < 0.65:
        return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0x80, 0x2FFF),
                                       rng.randint(0, 31)])) for _ in range(rng.randint(0, 40)))
    if roll < 0.78:
        return rng.choice("x\u00e9\U0001f600") * rng.randint(2001, 6000)
    if roll < 0.9:
        return str(rng.randint(-10**30, 10**30))
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 30)))  # not UTF-8


class FuzzWorld:
    """The app on a throwaway file, a care team with real entries, and a client per role."""

    def __init__(self, folder: Path, rng: random.Random):
        self.rng = rng
        self.database = folder / "fuzz.sqlite"
        self.app = create_app({"DATABASE": str(self.database), "SECRET_KEY": "stress-fuzz",
                               "WTF_CSRF_ENABLED": False, "INSECURE_COOKIES": False,
                               "CREATE_DATABASE": True})
        self.errors: list[logging.LogRecord] = []
        self._capture_logs()
        self.users = Users(self.app)
        self.people = {
            "patient": self.users.create("patient", name="Pat Stress", email="pat@stress.example"),
            "clinician": self.users.create("clinician", email="doc@stress.example"),
            "caregiver": self.users.create("caregiver", email="care@stress.example"),
            "stranger": self.users.create("patient", email="stranger@stress.example"),
        }
        self.spare = self.users.create("patient", email="spare@stress.example")
        self.invitation_tokens: list[str] = []
        self.reset_tokens: list[str] = []
        self.registered = 0
        self.sign_ins = 0
        self.conn = sqlite3.connect(str(self.database), timeout=30, isolation_level=None)
        self.watched = self._install_write_counters()
        self._seed()
        self.clients: dict = {}
        self.tokens: dict = {}
        self.pools: dict = {}
        self.maintain()

    # ---- set-up -----------------------------------------------------------------------------

    def _capture_logs(self):
        world = self

        class Keep(logging.Handler):
            def emit(self, record):
                world.errors.append(record)

        from flask.logging import default_handler
        self.app.logger.removeHandler(default_handler)
        self.app.logger.addHandler(Keep(level=logging.ERROR))
        self.app.logger.propagate = False

    def _install_write_counters(self) -> list[str]:
        """Triggers on every table except audit, signin_throttle and sessions count each insert,
        update and delete in this script's own table; they commit or roll back with the write."""
        tables = [name for (name,) in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name") if name not in ALLOWED_TO_GROW]
        self.conn.execute("CREATE TABLE stress_writes (tbl TEXT, op TEXT, n INTEGER NOT NULL,"
                          " PRIMARY KEY (tbl, op))")
        for table in tables:
            for op in ("INSERT", "UPDATE", "DELETE"):
                self.conn.execute("INSERT INTO stress_writes VALUES (?, ?, 0)", (table, op))
                self.conn.execute(
                    f"CREATE TRIGGER stress_{table}_{op.lower()} AFTER {op} ON {table} BEGIN"
                    f" UPDATE stress_writes SET n = n + 1 WHERE tbl = '{table}' AND op = '{op}';"
                    f" END")
        return tables

    def _seed(self):
        p, c, g, s = (self.people[r]["id"] for r in ("patient", "clinician", "caregiver",
                                                     "stranger"))
        now = clock.now()
        with self.app.app_context():
            join_care_team(p, c, "clinician")
            join_care_team(p, g, "caregiver")
            record_infusion(p, now - timedelta(days=20))  # closed: DiaryClosed paths
            older = record_infusion(p, now - timedelta(hours=60))
            for hours, severities in ((1, {"nausea": 3}), (6, {"dizziness": 2}), (20, {})):
                check_in(p, older, older_start(older) + timedelta(hours=hours),
                         severities=severities, mood=4)
            self._current_infusion(p, now)
            theirs = record_infusion(s, now - timedelta(hours=3))
            check_in(s, theirs, now - timedelta(hours=1), severities={"headache": 4}, mood=1,
                     safety="yes")
            flagging.set_threshold(c, p, "nausea", 6)
            self._new_tokens()

    def _current_infusion(self, patient_id, now):
        try:
            row = record_infusion(patient_id, now - timedelta(hours=2))
        except FieldError:
            return None  # the fuzz moved an infusion into the way; the older ones still serve
        check_in(patient_id, row, now - timedelta(minutes=70), severities={"nausea": 4}, mood=2)
        check_in(patient_id, row, now - timedelta(minutes=40), mood=1, safety="yes",
                 note="urgent on purpose")
        check_in(patient_id, row, now - timedelta(minutes=10), severities={"headache": 1},
                 shared=False)
        return row

    def _new_tokens(self):
        patient = SimpleNamespace(id=self.people["patient"]["id"], role="patient")
        clinician = SimpleNamespace(id=self.people["clinician"]["id"], role="clinician")
        for creator, kind in ((patient, "caregiver"), (patient, "clinician"),
                              (clinician, "enrolment")):
            self.invitation_tokens.append(care.create_invitation(creator, kind)[1])
        self.reset_tokens.append(accounts.create_password_reset(self.spare["email"], 60))
        self.invitation_tokens = self.invitation_tokens[-12:]
        self.reset_tokens = self.reset_tokens[-4:]

    # ---- upkeep between fuzz requests (never counted) -----------------------------------------

    def maintain(self):
        """Put the world back: care team joined, a current infusion, everyone signed in."""
        p = self.people["patient"]["id"]
        now = clock.now()
        with self.app.app_context():
            for member in ("clinician", "caregiver"):
                active = self.conn.execute(
                    "SELECT 1 FROM care_team WHERE patient_id = ? AND member_id = ?"
                    " AND ended_at IS NULL", (p, self.people[member]["id"])).fetchone()
                if not active:
                    join_care_team(p, self.people[member]["id"], member)
            current = self.conn.execute(
                "SELECT 1 FROM infusions WHERE patient_id = ? AND deleted_at IS NULL"
                " AND started_at > ?", (p, clock.to_db(now - timedelta(hours=20)))).fetchone()
            if not current:
                self._current_infusion(p, now)
            self._new_tokens()
        for role in self.people:
            self._ensure_signed_in(role)
        self.pools = {name: [row[0] for row in self.conn.execute(f"SELECT id FROM {table}")]
                      for name, table in ID_TABLES.items()}

    def _ensure_signed_in(self, role):
        client = self.clients.get(role)
        if client is not None:
            response = client.get("/")
            if response.status_code == 302 and "/sign-in" not in response.headers["Location"]:
                self.tokens[role] = self._token(client, "/help")
                return
        self.clients[role] = self.sign_in(self.people[role])
        self.sign_ins += 1
        self.tokens[role] = self._token(self.clients[role], "/help")

    def sign_in(self, user):
        """Like Users.client, but with the form's CSRF token, so it works in both halves."""
        client = self.app.test_client()
        token = self._token(client, "/sign-in")
        data = {"email": user["email"], "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        response = client.post("/sign-in", data=data)
        if response.status_code != 302:
            raise RuntimeError(f"{user['email']} could not sign in: {response.status_code}")
        return client

    @staticmethod
    def _token(client, path):
        html = client.get(path).get_data(as_text=True)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
        return found.group(1) if found else None

    def mark_signed_out(self, role):
        self.clients.pop(role, None)

    # ---- what the database holds now ----------------------------------------------------------

    def write_counters(self) -> dict:
        return {(table, op): n for table, op, n in self.conn.execute(
            "SELECT tbl, op, n FROM stress_writes")}

    def row_counts(self) -> dict:
        return {t: self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in self.watched}

    def zone_of(self, role) -> str:
        user_id = self.people.get(role, self.people["patient"])["id"]
        row = self.conn.execute("SELECT time_zone FROM users WHERE id = ?", (user_id,)).fetchone()
        return row[0] if row else "America/New_York"


def older_start(infusion_row):
    return clock.from_db(infusion_row["started_at"])


@dataclass
class FuzzRequest:
    role: str
    method: str
    path: str
    query: dict
    kind: str
    body: bytes | None
    content_type: str | None
    address: str
    csrf: bool
    with_token: bool
    rule: str

    def describe(self) -> str:
        body = "" if self.body is None else repr(self.body[:240]) + (
            f"... ({len(self.body)} bytes)" if len(self.body) > 240 else "")
        query = f"?{urlencode(self.query)}" if self.query else ""
        return (f"{self.method} {self.path}{query} as {self.role} (csrf "
                f"{'on' if self.csrf else 'off'}{', real token' if self.with_token else ''}; "
                f"{self.kind} body, Content-Type {self.content_type!r}) {body}")


class Fuzzer:
    def __init__(self, world: FuzzWorld, rng: random.Random):
        self.world, self.rng = world, rng
        self.rules = [rule for rule in world.app.url_map.iter_rules()]
        static = ROOT / "static"
        self.static_files = sorted(p.name for p in static.iterdir()) if static.exists() else []

    # ---- pieces ------------------------------------------------------------------------------

    def pick_int(self, name) -> str:
        rng = self.rng
        roll = rng.random()
        pool = self.world.pools.get(name) or [i for v in self.world.pools.values() for i in v]
        if roll < 0.6 and pool:
            return str(rng.choice(pool))
        if roll < 0.85:
            return str(rng.choice(JUNK_INTS))
        return rng.choice(JUNK_SEGMENTS)

    def fill_path(self, rule) -> str:
        rng = self.rng

        def value(match):
            converter, arguments, name = match.groups()
            if converter == "int":
                return quote(self.pick_int(name), safe="")
            if converter == "any":
                options = [item.strip().strip("'\"") for item in arguments.split(",")]
                text = rng.choice(options) if rng.random() < 0.85 else str(junk_value(rng))
                return quote(text, safe="")
            if converter == "path":
                text = rng.choice(self.static_files + ["../config.py", "..%2fREADME.md",
                                                       "nope.css", "style.css/../../x"])
                return quote(text, safe="/")
            if name == "token":
                roll = rng.random()
                if roll < 0.25 and self.world.invitation_tokens and "invite" in rule.rule:
                    text = rng.choice(self.world.invitation_tokens)
                elif roll < 0.35 and self.world.reset_tokens and "reset" in rule.rule:
                    text = rng.choice(self.world.reset_tokens)
                elif roll < 0.6:
                    text = uuid.UUID(int=rng.getrandbits(128)).hex * rng.randint(1, 4)
                else:
                    text = junk_value(rng)
                    text = text.decode("latin-1") if isinstance(text, bytes) else text
                return quote(text[:3000] or "x", safe="")
            if name == "symptom":
                text = rng.choice(catalogue.CODES) if rng.random() < 0.6 else str(junk_value(rng))
                return quote(text[:500] or "x", safe="")
            text = junk_value(rng)
            return quote((text.decode("latin-1") if isinstance(text, bytes) else text)[:500] or "x",
                         safe="")

        return ARGUMENT.sub(value, rule.rule)

    def plausible(self, name, role):
        rng = self.rng
        zone = self.world.zone_of(role)
        if name in ("mood",):
            return str(rng.randint(0, 10))
        if name.startswith("symptom_"):
            return str(rng.choice([0, 0, 0, 1, 2, 3, 4]))
        if name == "at":
            moment = clock.now() - timedelta(minutes=rng.randint(0, 150))
            return clock.local(moment, zone).strftime("%Y-%m-%dT%H:%M")
        if name == "started_at":
            moment = clock.now() - timedelta(hours=rng.choice([1, 2, 3, 30, 200, 2000]))
            return clock.local(moment, zone).strftime("%Y-%m-%dT%H:%M")
        if name == "length_minutes":
            return str(rng.choice([5, 40, 60, 240]))
        if name == "safety":
            return rng.choice(["no", "yes", "unsaid", ""])
        if name in ("shared", "note_private", "share_by_default"):
            return "y"
        if name == "time_zone":
            return rng.choice(["America/New_York", "Europe/London", "UTC", "Asia/Kolkata"])
        if name == "symptom":
            return rng.choice(catalogue.CODES)
        if name == "hours":
            return str(rng.randint(1, 48))
        if name in ("password", "confirm"):
            return STRONG_PASSWORD
        if name == "current":
            return "not the current password at all"
        if name == "email":
            self.world.registered += 1
            return rng.choice([f"fuzz{self.world.registered}@stress.example",
                               self.world.spare["email"], "nobody@stress.example"])
        if name == "name":
            return "Fuzz Person"
        if name == "next":
            return rng.choice(["/diary", "/clinic/flags", "//evil.example", "https://evil.example"])
        if name == "submission_key":
            return uuid.UUID(int=rng.getrandbits(128)).hex
        return rng.choice(["fine", "a short note", ""])

    def form_items(self, endpoint, role) -> list:
        rng = self.rng
        names = FIELDS.get(endpoint, GENERIC_FIELDS)
        plausible = rng.random() < 0.55
        items = []
        for name in names:
            if rng.random() < 0.12:
                continue
            if plausible and rng.random() < 0.92:
                items.append((name, self.plausible(name, role)))
            else:
                items.append((name, junk_value(rng)))
            if rng.random() < 0.04:
                items.append((name, junk_value(rng)))  # the same field twice
        if rng.random() < 0.2:
            items.append((rng.choice(EXTRA_FIELDS), junk_value(rng)))
        return items

    @staticmethod
    def multipart(items, boundary, files=False) -> bytes:
        out = bytearray()
        for name, value in items:
            raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
            out += f"--{boundary}\r\n".encode()
            if files and name == "note":
                out += (f'Content-Disposition: form-data; name="{name}"; filename="x.txt"\r\n'
                        "Content-Type: text/plain\r\n").encode()
            else:
                safe_name = str(name).replace('"', "").replace("\r", "").replace("\n", "")
                out += f'Content-Disposition: form-data; name="{safe_name}"\r\n'.encode(
                    "utf-8", "replace")
            out += b"\r\n" + raw + b"\r\n"
        out += f"--{boundary}--\r\n".encode()
        return bytes(out)

    def body(self, kind, items):
        rng = self.rng
        if kind == "form":
            return urlencode(items).encode(), "application/x-www-form-urlencoded"
        if kind == "multipart":
            boundary = uuid.UUID(int=rng.getrandbits(128)).hex
            return (self.multipart(items, boundary, files=rng.random() < 0.3),
                    f"multipart/form-data; boundary={boundary}")
        if kind == "json":
            document = {k: (v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in items}
            text = json.dumps(document)
            if rng.random() < 0.25:
                text = text[: rng.randint(0, len(text))]  # cut short: not JSON
            return text.encode(), rng.choice(["application/json",
                                              "application/json; charset=utf-8"])
        if kind == "oversized":
            big = rng.randint(66_000, 400_000)
            if rng.random() < 0.5:
                return (urlencode(items + [("note", "x" * big)]).encode(),
                        "application/x-www-form-urlencoded")
            boundary = "B" * 20
            return (self.multipart(items + [("note", b"y" * big)], boundary),
                    f"multipart/form-data; boundary={boundary}")
        if kind == "flood":
            parts = rng.randint(1001, 1150)
            names = [name for name, _ in items] or ["a"]
            flood = [(rng.choice(names) if rng.random() < 0.2 else "a", "1") for _ in range(parts)]
            return self.multipart(items[:3] + flood, "xB"), "multipart/form-data; boundary=xB"
        if kind == "raw":
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000)))
            return data, rng.choice([
                "text/plain", "multipart/form-data", "application/x-www-form-urlencoded",
                "application/x-www-form-urlencoded; charset=utf-16", "application/octet-stream",
                "multipart/form-data; boundary=zzz", "application/json", "", "x/\x7f",
            ])
        return None, rng.choice([None, "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=q"])

    def method_for(self, rule) -> str:
        rng = self.rng
        allowed = sorted(rule.methods - {"OPTIONS"})
        wrong = [m for m in WRONG_METHODS if m not in rule.methods]
        roll = rng.random()
        if "POST" in rule.methods:
            if roll < 0.65:
                return "POST"
            if roll < 0.85 and any(m in rule.methods for m in ("GET", "HEAD")):
                return rng.choice([m for m in allowed if m != "POST"])
        elif roll < 0.8:
            return rng.choice(["GET"] * 8 + ["HEAD", "OPTIONS"])
        return rng.choice(wrong or allowed)

    def query(self) -> dict:
        rng = self.rng
        if rng.random() > 0.3:
            return {}
        key = rng.choice(["next", "saved", "show", "page", "id", junk_value(rng)])
        value = rng.choice([rng.choice(JUNK_TEXT), str(rng.choice(JUNK_INTS)),
                            str(rng.randint(-5, 200))])
        key = key.decode("latin-1") if isinstance(key, bytes) else key
        return {key[:200]: value}

    def next_request(self, csrf: bool) -> FuzzRequest:
        rng = self.rng
        rule = rng.choice(self.rules)
        role = weighted(rng, ROLES)
        method = self.method_for(rule)
        kind = weighted(rng, BODY_KINDS) if method not in ("GET", "HEAD") or rng.random() < 0.1 \
            else "empty"
        items = self.form_items(rule.endpoint, role)
        with_token = csrf and kind != "empty" and rng.random() < 0.5
        if with_token:
            items.insert(0, ("csrf_token", "<token>"))  # filled at send time, per client
        body, content_type = self.body(kind, items)
        with_token = with_token and body is not None and b"token" in body
        return FuzzRequest(role=role, method=method, path=self.fill_path(rule),
                           query=self.query(), kind=kind, body=body, content_type=content_type,
                           address=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
                                   f"{rng.randint(1, 254)}",
                           csrf=csrf, with_token=with_token, rule=rule.rule)


def fuzz_part(folder: Path, total: int, seed: int) -> Figure:
    rng = random.Random(seed)
    world = FuzzWorld(folder, rng)
    fuzzer = Fuzzer(world, rng)
    say(f"  watching {len(world.watched)} tables for writes by a 4xx: {', '.join(world.watched)}")
    statuses = Counter()
    by_rule = Counter()
    server_errors, wrote_on_4xx = [], []
    four_xx = four_xx_writes = wrote_ok = 0
    started = time.monotonic()
    for number in range(total):
        csrf = number >= total // 2
        if number == total // 2 or number % 250 == 0:
            world.app.config["WTF_CSRF_ENABLED"] = csrf
            world.tokens.clear()
            world.maintain()
        req = fuzzer.next_request(csrf)
        if req.role == "anonymous":
            client = world.app.test_client()
            if fuzzer.rng.random() < 0.1:
                client.set_cookie(world.app.config["SESSION_COOKIE_NAME"],
                                  str(junk_value(fuzzer.rng))[:200] or "x")
            token = FuzzWorld._token(client, "/sign-in") if req.with_token else None
        else:
            if req.role not in world.clients:
                world._ensure_signed_in(req.role)
            client = world.clients[req.role]
            token = world.tokens.get(req.role)
        body = req.body
        if req.with_token and body is not None:
            body = body.replace(b"%3Ctoken%3E", (token or "none").encode()).replace(
                b"<token>", (token or "none").encode())
        write_method = req.method not in ("GET", "HEAD", "OPTIONS")
        counters_before = world.write_counters()
        rows_before = world.row_counts() if write_method else None
        world.errors.clear()
        failure = None
        try:
            response = client.open(req.path, method=req.method, query_string=req.query,
                                   data=body, content_type=req.content_type,
                                   environ_base={"REMOTE_ADDR": req.address})
            status = response.status_code
            location = response.headers.get("Location", "")
            response.close()
        except Exception:  # the app let an exception out: as bad as a 500
            status, location, failure = 500, "", traceback.format_exc(limit=6)
        statuses[status] += 1
        by_rule[req.rule] += 1
        if status >= 500:
            logged = "\n".join(
                (record.getMessage() + ("\n" + logging.Formatter().formatException(record.exc_info)
                                        if record.exc_info else ""))
                for record in world.errors)
            server_errors.append((req, status, failure or logged))
        if status < 400 and world.write_counters() != counters_before:
            wrote_ok += 1
        if 400 <= status < 500:
            four_xx += 1
            four_xx_writes += write_method
            counters_after = world.write_counters()
            changed = {f"{table} {op.lower()}": counters_after[(table, op)] - n
                       for (table, op), n in counters_before.items()
                       if counters_after[(table, op)] != n}
            rows_after = world.row_counts() if write_method else None
            row_changes = {t: rows_after[t] - rows_before[t] for t in world.watched
                           if rows_after[t] != rows_before[t]} if write_method else {}
            if changed or row_changes:
                wrote_on_4xx.append((req, status, changed, row_changes))
        if req.role != "anonymous" and ("/sign-in" in urlsplit(location).path or (
                status == 302 and req.method == "POST" and req.rule in SIGNS_IN)):
            world.mark_signed_out(req.role)  # signed out, or in as someone else, by the fuzz
        if (number + 1) % 2000 == 0:
            say(f"  {number + 1} requests, {time.monotonic() - started:.0f} s, "
                f"500s so far {len(server_errors)}")
    world.app.config["WTF_CSRF_ENABLED"] = False
    never = [rule.rule for rule in fuzzer.rules if by_rule[rule.rule] == 0]
    problems = soundness_light(world.conn)
    world.conn.close()

    say(f"  statuses: {dict(sorted(statuses.items()))}")
    say(f"  routes covered: {len(fuzzer.rules) - len(never)} of {len(fuzzer.rules)}"
        + (f"; never hit: {never}" if never else ""))
    say(f"  4xx responses: {four_xx} ({four_xx_writes} to write methods); requests that changed a "
        f"diary table with a 2xx/3xx: {wrote_ok}; sign-ins to put clients back: "
        f"{world.sign_ins}")
    causes: dict[tuple, list] = {}
    for req, status, error in server_errors:
        causes.setdefault(cause_of(error), []).append((req, status, error))
    for (exceptions, _where), cases in causes.items():
        chain = " <- ".join(reversed(exceptions)) or "no logged exception"
        say(f"  {len(cases)} x 500 from {chain}")
        say("      " + "\n      ".join(app_frames(cases[0][2])))
        for req, status, _error in cases:
            say(f"    {status}: {req.describe()}")
    for req, status, changed, rows in wrote_on_4xx[:50]:
        say(f"  {status} WROTE {changed or ''} rows {rows or ''}: {req.describe()}")
    for problem in problems:
        say(f"  database: {problem}")
    passed = not server_errors and not wrote_on_4xx and not problems
    return Figure(1, f"fuzz, {total} requests", passed,
                  f"{len(server_errors)} responses 500; {len(wrote_on_4xx)} of {four_xx} 4xx "
                  f"wrote to a diary table" + (f"; {'; '.join(problems)}" if problems else ""))


def cause_of(error: str) -> tuple:
    """The exceptions in a traceback's chain and the last frame of the app's own code in it."""
    lines = error.splitlines()
    exceptions = []
    for line in lines:
        name = line.split(":")[0]
        if line and not line[0].isspace() and re.fullmatch(r"[\w.]+", name) and (
                name not in exceptions):
            exceptions.append(name)
    frames = [line for line in lines if 'File "' in line and "site-packages" not in line]
    return tuple(exceptions), frames[-1].strip() if frames else ""


def app_frames(error: str) -> list[str]:
    """The traceback cut to the app's own frames and the exception lines, for reading."""
    kept, lines = [], error.splitlines()
    for index, line in enumerate(lines):
        if 'File "' in line and "site-packages" not in line:
            code = lines[index + 1].strip() if index + 1 < len(lines) else ""
            kept.append(f"{line.strip().replace(str(ROOT) + '/', '')}: {code}")
        elif line and not line[0].isspace() and not line.startswith("Traceback"):
            kept.append(line[:300])
    return kept or ["(no traceback logged)"]


def soundness_light(conn) -> list[str]:
    problems = []
    if conn.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
        problems.append("integrity_check failed")
    if conn.execute("PRAGMA foreign_key_check").fetchall():
        problems.append("foreign_key_check failed")
    return problems


# --------------------------------------------------------------------------------------------
# Figure 2: 50 concurrent writers, two servers, one file
# --------------------------------------------------------------------------------------------

def checkin_form(person, key, rng) -> dict:
    return {"mood": str(rng.randint(0, 10)), "at": local_now_input(person["zone"]),
            "safety": "no", "submission_key": key, "note": f"stress {key}"}


def writers_part(folder: Path, args, seed: int, shared: dict) -> Figure:
    database = folder / "writers.sqlite"
    secret = uuid.uuid4().hex
    init_db(database, secret)
    people = make_patients(database, secret, args.writers, "writer")
    target = make_patients(database, secret, 1, "guessed")[0]  # figure 4's account
    servers = [Gunicorn(f"server {name}", free_port(), database, secret,
                        folder / f"writers-{name}.log") for name in "AB"]
    for server in servers:
        took = server.start()
        say(f"  {server.name}: gunicorn, 2 workers, 127.0.0.1:{server.port}, up in {took:.2f} s")
    shared.update(servers=servers, database=database, target=target)
    ports = [server.port for server in servers]

    results = [[] for _ in people]  # (key, form, status, saved id, error, port)
    jars: dict[int, dict] = {}  # slot -> cookies; a session works on both servers
    signed_in_failures = []
    barrier = threading.Barrier(len(people))

    def write(slot):
        rng = random.Random(seed + slot)
        person = people[slot]
        path = f"/infusions/{person['infusion']}/check-in"
        try:
            jar = jars[slot] = http_sign_in(ports[slot % 2], person["email"])
        except Exception as error:
            signed_in_failures.append(repr(error))
            jar = None
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass
        if jar is None:
            return
        for number in range(args.checkins):
            key = uuid.UUID(int=rng.getrandbits(128)).hex
            form = checkin_form(person, key, rng)
            port = ports[(slot + number) % 2]
            try:
                status, location, _ = request(port, "POST", path, jar, form)
                results[slot].append((key, form, status, saved_id(location, person["infusion"]),
                                      None, port))
            except Exception as error:
                results[slot].append((key, form, None, None, repr(error), port))

    began = time.monotonic()
    threads = [threading.Thread(target=write, args=(slot,), daemon=True)
               for slot in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began

    outcomes = [(slot, *item) for slot, items in enumerate(results) for item in items]
    sent = len(outcomes)
    acknowledged = [o for o in outcomes if o[3] == 302 and o[4] is not None]
    statuses = Counter(o[3] for o in outcomes)
    errors = Counter(o[5] for o in outcomes if o[5])
    five_hundreds = sum(1 for o in outcomes if o[3] == 500)

    conn = open_db(database)
    try:
        stored = checkins_by_note(conn)
        rows = conn.execute("SELECT count(*) FROM checkins").fetchone()[0]
        ids = {note: {row[0] for row in conn.execute(
            "SELECT id FROM checkins WHERE note = ?", (note,))} for note in stored}
        lost = [o for o in acknowledged if o[4] not in ids.get(f"stress {o[1]}", set())]
        doubled = {note: n for note, n in stored.items() if n > 1}
        keyed = has_submission_key_column(conn)
        key_doubles = conn.execute(
            "SELECT count(*) FROM (SELECT submission_key FROM checkins WHERE submission_key IS NOT"
            " NULL GROUP BY patient_id, submission_key HAVING count(*) > 1)").fetchone()[0] \
            if keyed else None
        keys_stored = conn.execute("SELECT count(*) FROM checkins WHERE submission_key IS NOT NULL"
                                   ).fetchone()[0] if keyed else None

        # The same submission again: 10% of the acknowledged, each to the other server.
        rng = random.Random(seed)
        again = rng.sample(acknowledged, max(1, len(acknowledged) // 10)) if acknowledged else []
        rows_before = rows
        resend_statuses, same_id = Counter(), 0
        for slot, key, form, _status, checkin_id, _error, port in again:
            person = people[slot]
            other = ports[1] if port == ports[0] else ports[0]
            status, location, _ = request(
                other, "POST", f"/infusions/{person['infusion']}/check-in", jars[slot], form)
            resend_statuses[status] += 1
            same_id += saved_id(location, person["infusion"]) == checkin_id
        rows_after = conn.execute("SELECT count(*) FROM checkins").fetchone()[0]
        new_from_resend = rows_after - rows_before
        problems = soundness(conn)
    finally:
        conn.close()
    logs = "".join(server.log_text() for server in servers)
    tracebacks, locked = logs.count("Traceback"), logs.count("database is locked")

    say(f"  {len(people)} writers x {args.checkins} check-ins alternating between 2 servers "
        f"in {seconds:.1f} s ({sent / seconds:.0f} posts/s)")
    say(f"  sent {sent}, acknowledged (302) {len(acknowledged)}, statuses "
        f"{dict(sorted((str(k), v) for k, v in statuses.items()))}, 500s {five_hundreds}, "
        f"connection errors {sum(errors.values())}")
    if signed_in_failures:
        say(f"  sign-ins that failed: {len(signed_in_failures)}: {signed_in_failures[:3]}")
    for error, n in errors.most_common(3):
        say(f"    {n} x {error}")
    say(f"  rows in checkins {rows} vs acknowledged {len(acknowledged)}; lost {len(lost)}; "
        f"keys {len(stored)} stored in {sum(stored.values())} rows; keys stored more than once "
        f"{len(doubled)}")
    if keyed:
        say(f"  submission_key column: {keys_stored} rows carry a key, keys stored twice "
            f"{key_doubles}")
    else:
        say("  submission_key column: not in this schema (the app ignores the field)")
    say(f"  re-sent {len(again)} acknowledged submissions with the same key to the other server: "
        f"statuses {dict(resend_statuses)}, same check-in id returned {same_id}, new rows "
        f"{new_from_resend}")
    say(f"  server logs: {tracebacks} tracebacks, {locked} 'database is locked'")
    for problem in problems:
        say(f"  database: {problem}")
    passed = (five_hundreds == 0 and not lost and not doubled and not key_doubles
              and new_from_resend == 0 and len(acknowledged) == sent == len(people) * args.checkins
              and not problems and tracebacks == 0)
    return Figure(2, f"{len(people)} concurrent writers, 2 servers", passed,
                  f"sent {sent}, acknowledged {len(acknowledged)}, 500s {five_hundreds}, "
                  f"other {sent - len(acknowledged) - five_hundreds}; rows {rows}; lost "
                  f"{len(lost)}, doubled {sum(n - 1 for n in doubled.values())}; re-sent "
                  f"{len(again)} -> new rows {new_from_resend}")


# --------------------------------------------------------------------------------------------
# Figure 4: parallel wrong guesses for one account
# --------------------------------------------------------------------------------------------

def guesses_part(shared: dict, guesses: int) -> Figure:
    server = shared["servers"][0]
    database, target = shared["database"], shared["target"]
    limit = create_app({"DATABASE": str(database), "SECRET_KEY": "x"}).config[
        "SIGNIN_FAILURES_PER_ACCOUNT"]
    conn = open_db(database)
    try:
        baseline = conn.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]
    finally:
        conn.close()
    statuses = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(guesses)

    def guess(number):
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        try:
            status = request(server.port, "POST", "/sign-in",
                             form={"email": target["email"],
                                   "password": f"wrong guess number {number} of many"})[0]
        except Exception as error:
            status = type(error).__name__
        with lock:
            statuses[status] += 1

    began = time.monotonic()
    threads = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    conn = open_db(database)
    try:
        outcomes = Counter({outcome: n for outcome, n in conn.execute(
            "SELECT outcome, count(*) FROM audit WHERE id > ? AND action = 'sign_in'"
            " GROUP BY outcome", (baseline,))})
    finally:
        conn.close()
    checked = outcomes.get("failed", 0) + outcomes.get("ok", 0)
    say(f"  {guesses} wrong passwords at once for {target['email']} against {server.name} "
        f"(2 workers) in {seconds:.1f} s; statuses {dict(statuses)}")
    say(f"  audit sign_in outcomes: {dict(outcomes)}; passwords checked {checked}, limit "
        f"SIGNIN_FAILURES_PER_ACCOUNT = {limit}")
    return Figure(4, f"{guesses} parallel wrong guesses", checked <= limit,
                  f"{checked} passwords checked (audit 'failed'), "
                  f"{outcomes.get('throttled', 0)} throttled; limit {limit}")


# --------------------------------------------------------------------------------------------
# Figure 3: kill -9 cycles under load
# --------------------------------------------------------------------------------------------

def kill_part(folder: Path, cycles: int, writers: int, seed: int) -> Figure:
    rng = random.Random(seed)
    database = folder / "kill.sqlite"
    secret = uuid.uuid4().hex
    init_db(database, secret)
    people = make_patients(database, secret, writers, "killed")
    server = Gunicorn("kill server", free_port(), database, secret, folder / "kill.log")
    server.start()
    say(f"  gunicorn, 2 workers, 127.0.0.1:{server.port}; {writers} writers; {cycles} cycles")

    stop = threading.Event()
    lock = threading.Lock()
    sent: dict[str, int] = {}       # key -> slot
    acknowledged: dict[str, int] = {}  # key -> check-in id
    tally = Counter()
    gave_up = []
    cut_off: set[str] = set()  # keys with an attempt the kill cut off after it was sent

    def write(slot):
        wrng = random.Random(seed * 7 + slot)
        person = people[slot]
        path = f"/infusions/{person['infusion']}/check-in"
        jar = None
        pending = None
        refusals = 0
        while True:
            if stop.is_set() and time.monotonic() - stop.when > 60:
                if pending is not None:
                    with lock:
                        gave_up.append((pending[0], "still unacknowledged 60 s after the end"))
                return
            if pending is None:
                if stop.is_set():
                    return
                key = uuid.UUID(int=wrng.getrandbits(128)).hex
                pending = (key, checkin_form(person, key, wrng))
                refusals = 0
                with lock:
                    sent[key] = slot
            try:
                if jar is None:
                    jar = http_sign_in(server.port, person["email"])
                status, location, _ = request(server.port, "POST", path, jar, pending[1],
                                              timeout=10)
            except (OSError, http.client.HTTPException, RuntimeError) as error:
                with lock:
                    tally["connection errors"] += 1
                    tally[type(error).__name__] += 1
                    if not isinstance(error, (ConnectionRefusedError, RuntimeError)):
                        cut_off.add(pending[0])  # sent, then cut off: it may have been saved
                time.sleep(0.01)
                continue
            with lock:
                tally[f"status {status}"] += 1
            checkin_id = saved_id(location, person["infusion"]) if status == 302 else None
            if checkin_id is not None:
                with lock:
                    acknowledged[pending[0]] = checkin_id
                pending = None
            elif status == 302 and "/sign-in" in location:
                jar = None  # session gone: sign in again, same key
            else:
                refusals += 1
                if refusals >= 50:
                    with lock:
                        gave_up.append((pending[0], status))
                    pending = None
                time.sleep(0.02)

    threads = [threading.Thread(target=write, args=(slot,), daemon=True)
               for slot in range(writers)]
    for thread in threads:
        thread.start()
    restarts = []
    began = time.monotonic()
    try:
        for cycle in range(cycles):
            time.sleep(rng.uniform(0.05, 0.3))
            server.kill9()
            restarts.append(server.start())
            if (cycle + 1) % 20 == 0:
                with lock:
                    done = len(acknowledged)
                say(f"  {cycle + 1} kill -9 cycles, {done} acknowledged, "
                    f"{time.monotonic() - began:.0f} s")
    finally:
        stop.when = time.monotonic()
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    stuck = [thread for thread in threads if thread.is_alive()]
    seconds = time.monotonic() - began
    server.stop()

    conn = open_db(database)
    try:
        stored = checkins_by_note(conn)
        ids = {}
        for note, checkin_id in conn.execute(
                "SELECT note, id FROM checkins WHERE note LIKE 'stress %'"):
            ids.setdefault(note, set()).add(checkin_id)
        lost = [key for key, cid in acknowledged.items() if cid not in ids.get(f"stress {key}", ())]
        doubled = {note: n for note, n in stored.items() if n > 1}
        strangers = [note for note in stored if note[len("stress "):] not in sent]
        unacknowledged = [key for key in sent if key not in acknowledged]
        keyed = has_submission_key_column(conn)
        key_doubles = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM checkins WHERE submission_key IS NOT NULL"
            " GROUP BY patient_id, submission_key HAVING count(*) > 1)").fetchone()[0] \
            if keyed else None
        problems = soundness(conn)
        rows = conn.execute("SELECT count(*) FROM checkins").fetchone()[0]
    finally:
        conn.close()
    log = server.log_text()
    tracebacks = log.count("Traceback")

    say(f"  {cycles} cycles in {seconds:.1f} s; restart took median "
        f"{sorted(restarts)[len(restarts) // 2] if restarts else 0:.2f} s, "
        f"max {max(restarts, default=0):.2f} s")
    say(f"  keys sent {len(sent)}, acknowledged {len(acknowledged)}, unacknowledged at the end "
        f"{len(unacknowledged)}, given up {len(gave_up)}; {dict(sorted(tally.items()))}")
    say(f"  {len(cut_off)} keys had an attempt cut off by a kill (reset, no answer) and were "
        f"sent again with the same key ({sum(1 for k in cut_off if k in acknowledged)} then "
        f"acknowledged)")
    say(f"  rows {rows}; acknowledged but missing {len(lost)}; keys stored more than once "
        f"{len(doubled)} ({sum(n - 1 for n in doubled.values())} extra rows); rows from no "
        f"key sent {len(strangers)}" + (f"; submission_key doubles {key_doubles}" if keyed else
                                       "; no submission_key column"))
    say(f"  server log: {tracebacks} tracebacks (kill -9 itself leaves none)")
    for problem in problems:
        say(f"  database: {problem}")
    if stuck:
        say(f"  {len(stuck)} writer threads still running after the end")
    passed = (not lost and not doubled and not unacknowledged and not gave_up and not strangers
              and not key_doubles and not problems and not stuck and len(acknowledged) > 0)
    return Figure(3, f"{cycles} kill -9 cycles", passed,
                  f"acknowledged {len(acknowledged)}, lost {len(lost)}, doubled "
                  f"{sum(n - 1 for n in doubled.values())} (in {len(doubled)} keys), "
                  f"unacknowledged {len(unacknowledged)}, 500s {tally.get('status 500', 0)}")


# --------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stress", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=int(os.environ.get("STRESS_REQUESTS",
                                                                           10_000)))
    parser.add_argument("--writers", type=int, default=int(os.environ.get("STRESS_WRITERS", 50)))
    parser.add_argument("--checkins", type=int, default=int(os.environ.get("STRESS_CHECKINS", 15)))
    parser.add_argument("--cycles", type=int, default=int(os.environ.get("STRESS_CYCLES", 100)))
    parser.add_argument("--kill-writers", type=int, default=8)
    parser.add_argument("--guesses", type=int, default=40)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("STRESS_SEED", SEED)))
    parser.add_argument("--parts", default="1,2,3,4", help="which figures, e.g. 1,3")
    args = parser.parse_args(argv)
    parts = {int(p) for p in args.parts.split(",") if p.strip()}

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="diary-stress-"))
    figures: list[Figure] = []
    total_began = time.monotonic()

    def run(number, title, body):
        say(f"\n== {number}. {title}")
        began = time.monotonic()
        try:
            figure = body()
        except (Exception, SystemExit) as error:  # create_app exits on a database it refuses
            traceback.print_exc()
            figure = Figure(number, title, False, f"the run itself failed: {error!r}")
        figure.seconds = time.monotonic() - began
        say(f"  ({figure.seconds:.1f} s)")
        figures.append(figure)

    try:
        if 1 in parts:
            run(1, f"fuzz: {args.requests} requests, every route and role",
                lambda: fuzz_part(folder, args.requests, args.seed))
        if parts & {2, 4}:
            shared: dict = {}
            try:
                if 2 in parts or 4 in parts:
                    run(2, f"{args.writers} concurrent writers on two servers, one database",
                        lambda: writers_part(folder, args, args.seed, shared))
                    if 2 not in parts:
                        figures.pop()
                if 4 in parts:
                    if shared.get("servers"):
                        run(4, f"{args.guesses} parallel wrong guesses for one account",
                            lambda: guesses_part(shared, args.guesses))
                    else:
                        figures.append(Figure(4, "parallel wrong guesses", False,
                                              "no servers (figure 2's set-up failed)"))
            finally:
                for server in shared.get("servers", []):
                    server.stop()
        if 3 in parts:
            run(3, f"{args.cycles} kill -9 cycles under load",
                lambda: kill_part(folder, args.cycles, args.kill_writers, args.seed))
    finally:
        stop_all_servers()
        shutil.rmtree(folder, ignore_errors=True)

    say("\n== Summary" + f" (total {time.monotonic() - total_began:.0f} s)")
    for figure in sorted(figures, key=lambda f: f.number):
        say(f"  {figure.number}. {'PASS' if figure.passed else 'FAIL'}  {figure.title} "
            f"({figure.seconds:.0f} s): {figure.figure}")
    return 0 if figures and all(figure.passed for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
