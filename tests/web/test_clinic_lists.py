"""The clinician's lists work on the page shown, not on the clinic: sorted and cut in SQL, the
same number of statements for 3 patients or 60, and an audit row for each patient shown, only."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import check_in, join_care_team, query, record_infusion, sql_statements

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def clinic(app, users, fake_clock):
    """A clinician, and a way to add patients in their care with an infusion and check-ins."""
    fake_clock.set(NOW)
    doctor = users.create("clinician", name="Dr Ada Moss")

    def add(count: int, *, mood: int = 6, name: str = "Patient", hours_ago: float = 3):
        made = []
        for _ in range(count):
            patient = users.create("patient", name=f"{name} {users.count:03d}")
            with app.app_context():
                join_care_team(patient["id"], doctor["id"])
                infusion = record_infusion(patient["id"], NOW - timedelta(hours=hours_ago))
                check_in(patient["id"], infusion, NOW - timedelta(minutes=30), mood=mood,
                         severities={"dizziness": 1})
            made.append(patient)
        return made

    return {"doctor": doctor, "client": users.client(doctor), "add": add}


def names_shown(html: str) -> list[str]:
    return re.findall(r'<h2 class="row-title"><a href="/patients/\d+">([^<]+)</a>', html)


def ids_shown(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<h2 class="row-title"><a href="/patients/(\d+)"',
                                               html)]


def view_list_rows(app, since_id: int):
    return query(app, "SELECT actor_id, patient_id FROM audit WHERE action = 'view_list'"
                      " AND id > ? ORDER BY id", (since_id,))


def last_audit_id(app) -> int:
    return query(app, "SELECT coalesce(max(id), 0) FROM audit")[0][0]


def test_my_patients_shows_25_a_page_urgent_first(clinic, app):
    calm = clinic["add"](27)
    urgent = clinic["add"](2, mood=0, name="Urgent")
    client = clinic["client"]
    first = client.get("/clinic/patients").data.decode()
    assert "29 patients, " in first and "Showing 1 to 25 of 29" in first
    assert [name.split()[0] for name in names_shown(first)[:3]] == ["Urgent", "Urgent", "Patient"]
    assert len(names_shown(first)) == 25 and 'rel="next"' in first
    second = client.get("/clinic/patients?page=2").data.decode()
    assert len(names_shown(second)) == 4 and 'rel="prev"' in second
    assert set(ids_shown(first)).isdisjoint(ids_shown(second))
    assert set(ids_shown(first) + ids_shown(second)) == {p["id"] for p in calm + urgent}


def test_a_page_past_the_end_shows_the_last_page(clinic):
    clinic["add"](3)
    html = clinic["client"].get("/clinic/patients?page=99").data.decode()
    assert len(names_shown(html)) == 3
    assert clinic["client"].get("/clinic/patients?page=-4").status_code == 200


def test_a_list_view_audits_exactly_the_patients_shown(clinic, app):
    clinic["add"](30)
    client, doctor = clinic["client"], clinic["doctor"]
    for path in ("/clinic/patients", "/clinic/patients?page=2"):
        before = last_audit_id(app)
        shown = ids_shown(client.get(path).data.decode())
        assert [tuple(row) for row in view_list_rows(app, before)] == \
            [(doctor["id"], patient_id) for patient_id in sorted(shown)]


def test_the_flags_page_audits_the_patients_of_the_flags_shown(clinic, app):
    clinic["add"](30, mood=0)
    before = last_audit_id(app)
    html = clinic["client"].get("/clinic/flags").data.decode()
    shown = {int(found) for found in re.findall(r'<h2 class="row-title"><a href="/patients/(\d+)"',
                                                html)}
    assert len(shown) == 25 and "30 open flags, urgent first. 30 of them urgent." in html
    assert {row["patient_id"] for row in view_list_rows(app, before)} == shown
    assert len(view_list_rows(app, before)) == 25


@pytest.mark.parametrize("path", ["/clinic/patients", "/clinic/flags"])
def test_list_pages_run_as_many_statements_for_3_patients_as_for_60(clinic, path):
    counts, added = [], 0
    for total in (3, 60):
        clinic["add"](total - added, mood=0)
        added = total
        counts.append(len(sql_statements(clinic["client"], path)))
    assert counts[0] == counts[1], counts


def test_search_by_name(clinic):
    clinic["add"](3)
    clinic["add"](1, name="Robin")
    html = clinic["client"].get("/clinic/patients?q=robin").data.decode()
    assert [name.split()[0] for name in names_shown(html)] == ["Robin"]
    assert "1 patient named like “robin”" in html
    assert "No patient's name contains" in clinic["client"].get("/clinic/patients?q=zed").data.decode()


@pytest.mark.parametrize("search", ["%", "_", "\\", "' OR 1=1 --", "x" * 500])
def test_search_wildcards_and_junk_match_literally(clinic, search):
    clinic["add"](2)
    response = clinic["client"].get("/clinic/patients", query_string={"q": search})
    assert response.status_code == 200
    assert names_shown(response.data.decode()) == []


# Static files: fingerprinted and cached for a year


def test_the_stylesheet_is_fingerprinted_and_immutable(client):
    html = client.get("/").data.decode()
    href = re.search(r'href="(/static/style\.css\?v=[0-9a-f]{12})"', html).group(1)
    cached = client.get(href)
    assert cached.status_code == 200
    assert "immutable" in cached.headers["Cache-Control"]
    assert "max-age=31536000" in cached.headers["Cache-Control"]
    stale = client.get("/static/style.css?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
