"""Durability with real parts: the app in its own process serving real HTTP on a real SQLite file.

Two tests that trusted systems run (reference/security.md), scaled to this app:

* concurrent writers: many patients posting check-ins at once; no request fails, no "database is
  locked" reaches anyone, and the file holds exactly the check-ins that were acknowledged;
* kill -9 of the server during concurrent writes: every check-in acknowledged with a redirect before
  the kill is in the file exactly once, each whole (its symptoms and audit row too), and the app
  starts again on the same file and serves the diary.

Outcomes only: nothing here measures how long anything took. The socket time-outs and the wait
for the server only stop a broken run from hanging.
"""

import http.client
import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from diary.rules import catalogue, clock

from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]

# Zones with and without daylight saving, so local form times are read per patient.
ZONES = ("America/New_York", "Europe/London", "Asia/Kolkata", "Pacific/Auckland")

SERVER_SCRIPT = """
import json, logging, sys
from werkzeug.serving import make_server
from diary import create_app

app = create_app(json.loads(sys.argv[1]))
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log; app errors still print
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.port, flush=True)
server.serve_forever()
"""

SOCKET_TIMEOUT = 30  # a guard against a hung server, never an assertion


class Server:
    """The app in a child process on a free port the child chose itself (port 0, no race)."""

    def __init__(self, config: dict, log_path: Path):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, json.dumps(config)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"server did not start: {self.log_text()}")
        self.port = int(line)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.log.close()

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def servers(app_config, tmp_path):
    """Starts servers on the test's database file; every one is killed at teardown, pass or fail."""
    started = []
    config = {key: value for key, value in app_config.items() if key != "TESTING"}
    config["MIGRATE_ON_START"] = True

    def start():
        server = Server(config, tmp_path / f"server-{len(started)}.log")
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def request(port, method, path, cookie=None, form=None):
    """One request on its own connection; returns (status, Location, Set-Cookie headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location"), response.headers.get_all(
            "Set-Cookie") or []
    finally:
        conn.close()


def sign_in(port, email) -> str:
    status, _, cookies = request(port, "POST", "/sign-in",
                                 form={"email": email, "password": PASSWORD})
    assert status == 302, status
    pairs = [c.split(";", 1)[0] for c in cookies if c.startswith(("diary_session=", "__Host-diary_session="))]
    assert pairs, cookies
    return pairs[-1]


def local_input(moment, zone) -> str:
    return clock.local(moment, zone).strftime("%Y-%m-%dT%H:%M")


def record_infusion(port, cookie, zone) -> int:
    """An infusion that started two hours ago on the patient's wall clock, so "now" is accepted."""
    started = local_input(clock.now() - timedelta(hours=2), zone)
    status, location, _ = request(port, "POST", "/infusions/new", cookie, {
        "started_at": started, "length_minutes": "40", "note": "durability",
    })
    assert status == 302, status
    return int(re.fullmatch(r"/infusions/(\d+)", location).group(1))


def checkin_form(zone, note) -> dict:
    return {"mood": "6", "at": local_input(clock.now(), zone), "note": note, "shared": "y",
            "symptom_" + catalogue.CODES[0]: "1"}


def saved_id(location, infusion_id):
    match = re.fullmatch(rf"/infusions/{infusion_id}\?saved=(\d+)", location or "")
    return int(match.group(1)) if match else None


def patients(users, server, count):
    """Patients made through the accounts module, each signed in over HTTP with one infusion."""
    made = []
    for index in range(count):
        zone = ZONES[index % len(ZONES)]
        user = users.create("patient", time_zone=zone)
        cookie = sign_in(server.port, user["email"])
        made.append({**user, "zone": zone, "cookie": cookie,
                     "infusion": record_infusion(server.port, cookie, zone)})
    return made


def open_file(path) -> sqlite3.Connection:
    """The database file read directly, not through the app."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def assert_sound(conn):
    assert conn.execute("PRAGMA integrity_check").fetchall()[0][0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def assert_checkins_whole(conn):
    """Every stored check-in has all its symptom rows and exactly one audit row: no half writes."""
    broken = conn.execute(
        "SELECT c.id,"
        " (SELECT count(*) FROM checkin_symptoms s WHERE s.checkin_id = c.id) AS symptoms,"
        " (SELECT count(*) FROM audit a WHERE a.action = 'checkin_saved'"
        "   AND a.subject = 'checkin:' || c.id) AS audits"
        " FROM checkins c"
    ).fetchall()
    assert [tuple(row) for row in broken if row["symptoms"] != len(catalogue.CODES)
            or row["audits"] != 1] == []
    assert conn.execute(
        "SELECT count(*) FROM audit WHERE action = 'checkin_saved'").fetchone()[0] == len(broken)


THREADS = 8
PATIENTS = 4
CHECKINS_PER_THREAD = 15


def test_concurrent_writers_all_saved_none_locked(servers, users, app_config):
    server = servers()
    people = patients(users, server, PATIENTS)
    results = [[] for _ in range(THREADS)]  # per thread: (patient index, status, Location or error)
    barrier = threading.Barrier(THREADS)

    def post_many(slot):
        index = slot % PATIENTS
        person = people[index]
        try:
            barrier.wait(timeout=SOCKET_TIMEOUT)
        except threading.BrokenBarrierError:
            pass
        for seq in range(CHECKINS_PER_THREAD):
            try:
                status, location, _ = request(
                    server.port, "POST", f"/infusions/{person['infusion']}/check-in",
                    person["cookie"], checkin_form(person["zone"], f"thread {slot} #{seq}"),
                )
            except Exception as error:  # recorded, so the assertion below names it
                results[slot].append((index, None, repr(error)))
            else:
                results[slot].append((index, status, location))

    threads = [threading.Thread(target=post_many, args=(slot,)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    outcomes = [item for per_thread in results for item in per_thread]
    assert len(outcomes) == THREADS * CHECKINS_PER_THREAD
    assert [o for o in outcomes if o[1] != 302] == []
    acknowledged = {index: [] for index in range(PATIENTS)}
    for index, _status, location in outcomes:
        checkin_id = saved_id(location, people[index]["infusion"])
        assert checkin_id is not None, location
        acknowledged[index].append(checkin_id)

    log = server.log_text()
    assert "database is locked" not in log and "Traceback" not in log, log

    conn = open_file(app_config["DATABASE"])
    try:
        assert_sound(conn)
        for index, person in enumerate(people):
            stored = [row["id"] for row in conn.execute(
                "SELECT id FROM checkins WHERE patient_id = ? AND infusion_id = ?"
                " AND deleted_at IS NULL ORDER BY id", (person["id"], person["infusion"]))]
            assert stored == sorted(acknowledged[index])
            assert len(stored) == CHECKINS_PER_THREAD * THREADS // PATIENTS
        assert conn.execute("SELECT count(*) FROM checkins").fetchone()[0] == len(outcomes)
        assert_checkins_whole(conn)
    finally:
        conn.close()


ACKS_BEFORE_KILL = 40
MAX_ATTEMPTS_PER_THREAD = 2000  # only a guard if the kill somehow never happened


def test_kill_9_keeps_every_acknowledged_checkin(servers, users, app_config):
    server = servers()
    people = patients(users, server, PATIENTS)
    lock = threading.Lock()
    sent, acknowledged, refused, ended_by = [], [], [], []
    enough = threading.Event()

    def post_until_the_server_dies(slot):
        person = people[slot % PATIENTS]
        for seq in range(MAX_ATTEMPTS_PER_THREAD):
            note = f"kill-9 {slot}-{seq} {uuid.uuid4().hex}"
            with lock:
                sent.append(note)
            try:
                status, location, _ = request(
                    server.port, "POST", f"/infusions/{person['infusion']}/check-in",
                    person["cookie"], checkin_form(person["zone"], note),
                )
            except OSError as error:  # refused, reset or cut off: the server is gone
                with lock:
                    ended_by.append(type(error).__name__)
                return
            except Exception as error:
                with lock:
                    refused.append((note, repr(error)))
                return
            with lock:
                if status == 302 and saved_id(location, person["infusion"]) is not None:
                    acknowledged.append((note, person["id"], saved_id(location, person["infusion"])))
                else:
                    refused.append((note, status))
                if len(acknowledged) >= ACKS_BEFORE_KILL:
                    enough.set()

    threads = [threading.Thread(target=post_until_the_server_dies, args=(slot,))
               for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        reached = enough.wait(timeout=60)
    finally:
        os.kill(server.pid, signal.SIGKILL)  # mid-stream: the threads are still posting
        server.process.wait()
        for thread in threads:
            thread.join()
    assert reached, "the server acknowledged too few check-ins before the kill"
    assert server.process.returncode == -signal.SIGKILL
    assert refused == []
    assert len(ended_by) == THREADS  # every thread was cut off by the kill, none ran out of work

    conn = open_file(app_config["DATABASE"])
    try:
        assert_sound(conn)
        counts = {row["note"]: row["n"] for row in conn.execute(
            "SELECT note, count(*) AS n FROM checkins GROUP BY note")}
        assert {note: n for note, n in counts.items() if n != 1} == {}  # nothing duplicated
        assert set(counts) <= set(sent)  # nothing that was never posted
        for note, patient_id, checkin_id in acknowledged:
            row = conn.execute("SELECT id, patient_id FROM checkins WHERE note = ?",
                               (note,)).fetchone()
            assert row is not None, f"acknowledged check-in lost: {note}"
            assert (row["id"], row["patient_id"]) == (checkin_id, patient_id)
        assert_checkins_whole(conn)
    finally:
        conn.close()

    # The WAL recovers: the app starts on the same file, signs a patient in and serves the diary.
    again = servers()
    person = people[0]
    cookie = sign_in(again.port, person["email"])
    status, _, _ = request(again.port, "GET", "/diary", cookie)
    assert status == 200
    status, location, _ = request(again.port, "POST", f"/infusions/{person['infusion']}/check-in",
                                  cookie, checkin_form(person["zone"], "after the restart"))
    assert status == 302 and saved_id(location, person["infusion"]) is not None
    status, _, _ = request(again.port, "GET", "/diary", person["cookie"])  # old session survived
    assert status == 200
    conn = open_file(app_config["DATABASE"])
    try:
        assert_sound(conn)
        assert conn.execute("SELECT count(*) FROM checkins WHERE note = 'after the restart'"
                            ).fetchone()[0] == 1
    finally:
        conn.close()
    log = again.log_text()
    assert "Traceback" not in log, log
