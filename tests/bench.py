"""`make bench`: figures for the pages people wait on, measured in-process on a real SQLite file.

Reports per page: bytes of HTML (and the CSS/JS it loads), SQL statements, and milliseconds per
request (median of repeated runs), next to a bare endpoint measured in the same run, so the
figures read as ratios on whatever machine runs them. A benchmark, not a test: it never fails.
"""

import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from diary import create_app
from diary.rules import clock
from diary.store import db
from tests.helpers import Users, check_in, join_care_team, record_infusion, sql_statements

REPEAT = 30


def _timed(client, path) -> tuple[float, int]:
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples) * 1000, len(response.data)


def _assets(client, html: str) -> int:
    paths = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)
    return sum(len(client.get(path).data) for path in paths)


def _seed(app, patients: int, checkins: int):
    users = Users(app)
    clinician = users.create("clinician")
    made = []
    with app.app_context():
        now = clock.now()
        for number in range(patients):
            patient = users.create("patient")
            join_care_team(patient["id"], clinician["id"])
            start = now - timedelta(hours=25)
            row = record_infusion(patient["id"], start)
            for index in range(checkins):
                check_in(patient["id"], row,
                         start + timedelta(minutes=45 + index * 1400 // max(checkins, 1)),
                         severities={"dizziness": index % 3, "headache": 1}, note="fine")
            made.append(patient)
    return users, clinician, made


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="diary-bench-"))
    app = create_app({"DATABASE": str(folder / "bench.sqlite"), "CREATE_DATABASE": True, "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "TESTING": True})

    @app.route("/bench-bare")
    def bare():
        return "ok"

    print(f"{'page':38} {'ms':>7} {'ratio':>6} {'html B':>8} {'+css/js B':>10} {'SQL':>5}")
    for patients, checkins in ((5, 6), (50, 12)):
        app.config["DATABASE"] = str(folder / f"bench-{patients}.sqlite")
        db.migrate_database(app.config["DATABASE"])
        users, clinician, made = _seed(app, patients, checkins)
        doctor = users.client(clinician)
        patient = users.client(made[0])
        bare_ms, _ = _timed(doctor, "/bench-bare")
        pages = [
            (doctor, "/clinic/patients", f"My patients ({patients} patients)"),
            (doctor, "/clinic/flags", f"Flags ({patients} patients)"),
            (doctor, f"/patients/{made[0]['id']}", f"Patient page ({checkins} check-ins)"),
            (patient, "/diary", f"Patient diary ({checkins} check-ins)"),
            (patient, "/infusions/1/check-in", "Check-in form"),
        ]
        for client, path, label in pages:
            ms, size = _timed(client, path)
            assets = _assets(client, client.get(path).data.decode())
            print(f"{label:38} {ms:7.2f} {ms / bare_ms:6.1f} {size:8d} {size + assets:10d} "
                  f"{len(sql_statements(client, path)):5d}")
        print(f"{'bare endpoint':38} {bare_ms:7.2f} {1.0:6.1f}")


if __name__ == "__main__":
    main()
