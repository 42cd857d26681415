"""`make bench`: figures for the pages people wait on, on clinics of 200 and 2,000 patients.

Each clinic is seeded once through the app's own services (one clinician; each patient with one
infusion and 6 to 8 check-ins, about 40 % with open flags) and kept in .bench/ for later runs.
Pages are timed over HTTP against gunicorn (2 workers), median of repeated requests, beside bare
endpoints served the same way in the same run, so the figures read as ratios on whatever machine
runs them; statement and audit counts are taken in-process. A benchmark, not a test: it reports,
it never fails.
"""

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode
from datetime import datetime, timedelta, timezone
from pathlib import Path

from diary import create_app
from diary.rules import clock, passwords
from diary.store import db
from tests.helpers import Users, check_in, join_care_team, record_infusion, sql_statements

CACHE = Path(__file__).resolve().parents[1] / ".bench"
SEED_VERSION = 1
REPEAT = 25
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)
TARGETS = {"list growth": 1.3, "diary": 8.0, "check-in": 2.0, "html kb": 30}


def _seed(path: Path, patients: int) -> None:
    """Fill a new clinic through the services; one password hash made once, reused for speed."""
    app = create_app({"DATABASE": str(path), "CREATE_DATABASE": True, "SECRET_KEY": "bench"})
    one_hash = passwords.hash_password("a quiet walk by the river")
    original, passwords.hash_password = passwords.hash_password, lambda _password: one_hash
    try:
        users = Users(app)
        doctor = users.create("clinician", name="Dr Bench")
        with app.app_context():
            for number in range(patients):
                patient = users.create("patient", name=f"Patient {number:05d}")
                join_care_team(patient["id"], doctor["id"])
                start = NOW - timedelta(hours=3 + number % 30)
                infusion = record_infusion(patient["id"], start)
                end = start + timedelta(minutes=40)
                flagged = number % 5 < 2
                for index in range(6 + number % 3):
                    at = min(end + timedelta(minutes=20 + index * 25), NOW)
                    check_in(patient["id"], infusion, at,
                             mood=1 if flagged and index == 2 else 6,
                             severities={"dizziness": index % 3, "headache": 1}, note="fine")
    finally:
        passwords.hash_password = original


def _clinic(patients: int) -> Path:
    path = CACHE / f"clinic-{patients}-v{SEED_VERSION}-{db.latest_version()}.sqlite"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        print(f"Seeding a clinic of {patients} patients into {path} (once) ...", flush=True)
        started = time.perf_counter()
        scratch = path.with_suffix(".seeding")
        if scratch.exists():
            scratch.unlink()
        _seed(scratch, patients)
        shutil.move(scratch, path)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def bench_app(config=None):
    """The app with two bare endpoints to compare with, on the bench's fixed clock; gunicorn
    loads it as tests.bench:bench_app()."""
    clock.now = lambda: NOW
    app = create_app(config)

    @app.route("/bench-bare")
    def bare():
        return "ok"

    @app.route("/bench-insert", methods=["POST"])
    def bare_insert():
        """One row written the way the app writes: same pragmas, BEGIN IMMEDIATE, FULL sync."""
        with db.write() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, at TEXT)")
            tx.execute("INSERT INTO bench_rows (at) VALUES (?)", (clock.db_now(),))
        return "ok"

    return app


class Server:
    """gunicorn with 2 sync workers on a copy of the clinic, stopped by its own process group."""

    def __init__(self, database: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "DIARY_DATABASE": str(database), "DIARY_SECRET_KEY": "bench",
               "DIARY_WTF_CSRF_ENABLED": "false", "DIARY_INSECURE_COOKIES": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--no-control-socket",
             "--bind", f"127.0.0.1:{self.port}", "tests.bench:bench_app()"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(200):
            try:
                self.request("GET", "/bench-bare")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gunicorn did not start")

    def request(self, method, path, body=None, cookie=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=urlencode(body) if body is not None else None,
                     headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response, data

    def sign_in(self, email: str) -> str:
        response, _ = self.request("POST", "/sign-in", {"email": email,
                                                        "password": "a quiet walk by the river"})
        return "; ".join(value.split(";", 1)[0] for key, value in response.getheaders()
                         if key.lower() == "set-cookie")

    def median_ms(self, method, path, body=None, cookie=None) -> float:
        samples = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            response, _ = self.request(method, path, body, cookie)
            samples.append(time.perf_counter() - started)
            assert response.status in (200, 302), (path, response.status)
        return statistics.median(samples) * 1000

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def _assets(client, html: str) -> int:
    paths = re.findall(r'(?:href|src)="(/static/[^"?]+\.(?:css|js)(?:\?v=\w+)?)"', html)
    return sum(len(client.get(path).data) for path in paths)


def _audit_rows_per_view(app, client, path) -> int:
    count = "SELECT count(*) FROM audit WHERE action = 'view_list'"
    with app.app_context():
        before = db.get_db().execute(count).fetchone()[0]
        client.get(path)
        return db.get_db().execute(count).fetchone()[0] - before


PAGES = (("My patients", "doctor", "/clinic/patients"), ("Flags", "doctor", "/clinic/flags"),
         ("Patient page", "doctor", "/patients/2"), ("Patient diary", "patient", "/diary"),
         ("Check-in form", "patient", "/infusions/1/check-in"))
PEOPLE = {"doctor": "clinician1@example.com", "patient": "patient2@example.com"}


def _measure(patients: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="diary-bench-"))
    database = folder / "clinic.sqlite"
    shutil.copy(_clinic(patients), database)
    try:
        figures = {"pages": {}}
        app = bench_app({"DATABASE": str(database), "SECRET_KEY": "bench", "TESTING": True,
                         "WTF_CSRF_ENABLED": False})
        clients = {who: Users(app).client({"email": email}) for who, email in PEOPLE.items()}
        for label, who, path in PAGES:
            client = clients[who]
            html = client.get(path).data
            figures["pages"][label] = {
                "html": len(html), "with assets": len(html) + _assets(client, html.decode()),
                "sql": len(sql_statements(client, path)),
                "audit rows": _audit_rows_per_view(app, client, path)}
        server = Server(database)
        try:
            cookies = {who: server.sign_in(email) for who, email in PEOPLE.items()}
            figures["bare"] = server.median_ms("GET", "/bench-bare")
            for label, who, path in PAGES:
                figures["pages"][label]["ms"] = server.median_ms("GET", path, cookie=cookies[who])
            figures["bare insert"] = server.median_ms("POST", "/bench-insert", body={})
            form = {"mood": "6", "symptom_dizziness": "1",
                    "at": clock.local_input_value(NOW, "America/New_York")
                    .strftime("%Y-%m-%dT%H:%M")}
            figures["check-in"] = server.median_ms("POST", "/infusions/1/check-in", form,
                                                   cookies["patient"])
        finally:
            server.stop()
        return figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _report(small: dict, large: dict, sizes: tuple[int, int]) -> None:
    print(f"\n{'page':28} {'patients':>8} {'ms':>7} {'x bare':>7} {'html B':>8} "
          f"{'+css/js B':>10} {'SQL':>4} {'audit':>5}")
    for figures, patients in ((small, sizes[0]), (large, sizes[1])):
        for label, page in figures["pages"].items():
            print(f"{label:28} {patients:8d} {page['ms']:7.2f} {page['ms'] / figures['bare']:7.1f} "
                  f"{page['html']:8d} {page['with assets']:10d} {page['sql']:4d} "
                  f"{page['audit rows']:5d}")
        print(f"{'bare GET':28} {patients:8d} {figures['bare']:7.2f} {1.0:7.1f}")
        print(f"{'check-in POST':28} {patients:8d} {figures['check-in']:7.2f} "
              f"{figures['check-in'] / figures['bare insert']:7.1f}  (x a bare one-row insert, "
              f"{figures['bare insert']:.2f} ms)")
    print("\nFigures against the targets")
    for label in ("My patients", "Flags"):
        raw = large["pages"][label]["ms"] / small["pages"][label]["ms"]
        growth = raw / (large["bare"] / small["bare"])
        html = max(small["pages"][label]["html"], large["pages"][label]["html"]) / 1000
        print(f"  {label}: {growth:.2f}x from {sizes[0]} to {sizes[1]} patients, as multiples of "
              f"each run's bare GET ({raw:.2f}x in milliseconds; target <= "
              f"{TARGETS['list growth']}x); HTML {html:.1f} kB at most (target < "
              f"{TARGETS['html kb']} kB); audit rows per view "
              f"{large['pages'][label]['audit rows']} (at most the patients shown)")
    diary = large["pages"]["Patient diary"]["ms"] / large["bare"]
    print(f"  Patient diary: {diary:.1f}x a bare GET (target <= {TARGETS['diary']}x)")
    checkin = large["check-in"] / large["bare insert"]
    print(f"  Check-in POST: {checkin:.1f}x a bare one-row insert (target <= "
          f"{TARGETS['check-in']}x)")


def main(sizes: tuple[int, int] = (200, 2000)) -> None:
    clock.now = lambda: NOW
    small, large = _measure(sizes[0]), _measure(sizes[1])
    _report(small, large, sizes)


if __name__ == "__main__":
    main()
