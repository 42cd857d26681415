"""`make demo`: a believable clinic on a throwaway database, served at http://127.0.0.1:5000.

Nothing here touches the real database: the demo lives in a temporary folder that is removed
when the server stops.
"""

import secrets
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from .. import access, create_app
from ..rules import clock
from ..services import accounts, entries
from ..services import care_team as care
from ..services import flags as flagging

PASSWORD = "demo diary walk in the park"
ZONE = "America/New_York"

PEOPLE = {
    "clinician": ("Dr Maya Okafor", "clinician@demo.example"),
    "caregiver": ("Jordan Rivera", "jordan@demo.example"),
    "alex": ("Alex Rivera", "alex@demo.example"),
    "sam": ("Sam Chen", "sam@demo.example"),
    "riley": ("Riley Morgan", "riley@demo.example"),
}


def _user(key, role):
    name, email = PEOPLE[key]
    user_id = accounts.create_user(email=email, name=name, role=role, password=PASSWORD,
                                   time_zone=ZONE)
    return SimpleNamespace(id=user_id, role=role, name=name, email=email)


def _join(patient, member):
    invitation_id, token = care.create_invitation(patient, member.role)
    care.accept(access.usable_invitation(token), member.id, member.role)


def _infusion(patient, started, length=40, note=""):
    return entries.record_infusion(
        patient.id, entries.InfusionInput(started, length, note)
    )


def _check_in(patient, infusion_id, at, mood, note="", shared=True, safety="no", **severities):
    row = access.own_infusion(patient, infusion_id)
    return entries.save_checkin(patient.id, row, entries.CheckinInput(
        at=at, mood=mood, severities=severities, note=note, shared=shared, safety=safety,
    ))


def seed() -> dict:
    """Fill the current app's database; returns the accounts made, for printing."""
    now = clock.now()
    clinician, caregiver = _user("clinician", "clinician"), _user("caregiver", "caregiver")
    alex, sam, riley = _user("alex", "patient"), _user("sam", "patient"), _user("riley", "patient")
    for patient in (alex, sam, riley):
        _join(patient, clinician)
    _join(alex, caregiver)

    start = now - timedelta(days=2, hours=3)
    done = _infusion(alex, start, 40, "Clinic room 2, 0.5 mg/kg")
    end = start + timedelta(minutes=40)
    story = [
        (1, 5, dict(dissociation=2, dizziness=2, nausea=1), "Floaty, a bit sick."),
        (2, 5, dict(dissociation=1, dizziness=1, fatigue=2), ""),
        (4, 6, dict(fatigue=2, headache=1), "Jordan drove me home."),
        (8, 7, dict(fatigue=1), "Ate dinner, feeling calmer."),
        (12, 7, dict(fatigue=1), ""),
        (24, 8, {}, "Slept well. Mood better than last week."),
    ]
    for hours, mood, severities, note in story:
        _check_in(alex, done, end + timedelta(hours=hours, minutes=5), mood, note,
                  shared=hours != 8, **severities)

    start = now - timedelta(hours=5)
    recent = _infusion(sam, start, 40, "Second of six")
    end = start + timedelta(minutes=40)
    _check_in(sam, recent, end + timedelta(hours=1), 4, "Very spacey.", dissociation=3,
              thinking=2, vision=1)
    _check_in(sam, recent, end + timedelta(hours=2, minutes=10), 5, "", dissociation=1,
              thinking=2)
    _check_in(sam, recent, end + timedelta(hours=4, minutes=5), 5,
              "Still can't find my words.", thinking=1)

    start = now - timedelta(hours=20)
    low = _infusion(riley, start, 45)
    end = start + timedelta(minutes=45)
    _check_in(riley, low, end + timedelta(hours=1), 3, "", shared=False, anxiety=2)
    _check_in(riley, low, end + timedelta(hours=3), 1, "Everything feels heavy tonight.",
              shared=False, safety="unsaid", anxiety=2)
    flag_rows, _history = access.flags(access.require_scope(clinician, riley.id))
    urgent = next(row for row in flag_rows if row["kind"] == "low_mood")
    flagging.acknowledge(clinician.id, urgent,
                         "Called Riley: safety plan reviewed, follow-up call tomorrow 9 am.")
    return {"clinician": clinician, "caregiver": caregiver, "patients": (alex, sam, riley)}


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="diary-demo-"))
    try:
        app = create_app({"DATABASE": str(folder / "demo.sqlite"), "CREATE_DATABASE": True,
                          "SECRET_KEY": secrets.token_hex(32)})
        with app.app_context():
            made = seed()
        print("\nDemo clinic ready at http://127.0.0.1:5000 (a throwaway database; "
              "it is removed when you press Ctrl-C).\n")
        print(f"Every demo account has the password: {PASSWORD}\n")
        for role, user in (("clinician", made["clinician"]), ("caregiver", made["caregiver"])):
            print(f"  {role:10} {user.email:28} {user.name}")
        notes = {"Alex Rivera": "finished infusion, all six check-ins, shares with Jordan",
                 "Sam Chen": "infusion 5 hours ago, three check-ins, an open 'lasting' flag",
                 "Riley Morgan": "an urgent low-mood flag, acknowledged by Dr Okafor, and a "
                                 "declined safety answer to follow up"}
        for patient in made["patients"]:
            print(f"  {'patient':10} {patient.email:28} {patient.name}: {notes[patient.name]}")
        print()
        app.run(host="127.0.0.1", port=5000, debug=False, use_reloader=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
