"""The demo clinic seeds what the README promises, on its own database."""

from diary.web import demo

from tests.helpers import query


def test_demo_seed_builds_the_promised_clinic(app, fake_clock):
    with app.app_context():
        made = demo.seed()
    assert len(made["patients"]) == 3
    roles = [row["role"] for row in query(app, "SELECT role FROM users ORDER BY id")]
    assert roles.count("patient") == 3 and "clinician" in roles and "caregiver" in roles
    per_infusion = [tuple(row) for row in query(
        app, "SELECT infusion_id, count(*) FROM checkins GROUP BY infusion_id ORDER BY infusion_id")]
    assert [count for _, count in per_infusion] == [6, 3, 2]
    flags = {(row["kind"], row["state"]) for row in query(app, "SELECT kind, state FROM flags")}
    assert ("lasting", "open") in flags and ("low_mood", "acknowledged") in flags
    members = query(app, "SELECT role, count(*) FROM care_team WHERE ended_at IS NULL GROUP BY role")
    assert {tuple(row) for row in members} == {("clinician", 3), ("caregiver", 1)}
