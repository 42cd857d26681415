"""Who may see or change what, cell by cell: every user x every record x every diary route.

The world (4 patients, 2 clinicians, 2 caregivers, care-team links that are active, revoked, left
or only invited) is built once through the app's own routes. What each user may do is decided
here by an ORACLE made of plain Python sets, written without diary.access; every cell compares
the app's answer with it:

- the status: allowed (200 for a page, 302 after a write), 404 when not allowed (the very same
  page as for a record that does not exist), or a redirect to sign in for an anonymous visitor;
- nothing leaks: a check-in's note, its safety answer, an earlier version of a check-in, a flag
  and a patient's name appear in a page only when the oracle lets this user read them; readable
  ones do appear;
- writes: a refused request, and every GET, leaves every diary table exactly as it was; an
  allowed write changes something (and the world is then put back for the next cell);
- audit: an allowed look at someone else's diary leaves exactly one `view_diary` row naming the
  reader and the patient; a refused request never leaves an "ok" row; a refused invitation
  leaves one `invitation_refused` row with the reason.

A last test walks app.url_map, so a route added later without a line in ACTIONS fails the suite.
"""

import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Callable
from urllib.parse import urlsplit

import pytest

from diary import access, create_app
from diary.rules import clock
from diary.services import care_team as care

from tests.helpers import FakeClock, PASSWORD, Users

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York
ZONE = "America/New_York"
ANONYMOUS = "anonymous"
MISSING_ID = 999_999

# ---------------------------------------------------------------------------------------------
# The world, as plain data.

PATIENTS = {"alice": "Alice Ashdown", "bruno": "Bruno Birch", "cora": "Cora Cole",
            "dina": "Dina Dale"}
CLINICIANS = {"dr_moss": "Dr Ada Moss", "dr_nash": "Dr Ben Nash"}
CAREGIVERS = {"sam": "Sam Sorrel", "tess": "Tess Thorn"}
NAMES = {**PATIENTS, **CLINICIANS, **CAREGIVERS}
ROLE = {**dict.fromkeys(PATIENTS, "patient"), **dict.fromkeys(CLINICIANS, "clinician"),
        **dict.fromkeys(CAREGIVERS, "caregiver")}
USERS = (*NAMES, ANONYMOUS)


@dataclass(frozen=True)
class Membership:
    patient: str
    member: str
    state: str  # "active", "revoked" (by the patient) or "left" (by the member)


# Every membership starts from an invitation of the same name, used when it was accepted.
# dina registered through dr_nash's enrolment link; tess registered through alice's link.
MEMBERSHIPS = {
    "alice-dr_moss": Membership("alice", "dr_moss", "active"),
    "alice-sam": Membership("alice", "sam", "active"),
    "alice-tess": Membership("alice", "tess", "revoked"),
    "bruno-dr_nash": Membership("bruno", "dr_nash", "active"),
    "bruno-tess": Membership("bruno", "tess", "active"),
    "bruno-sam": Membership("bruno", "sam", "left"),
    "bruno-dr_moss": Membership("bruno", "dr_moss", "left"),
    "cora-dr_moss": Membership("cora", "dr_moss", "revoked"),
    "dina-dr_nash": Membership("dina", "dr_nash", "active"),
}
ENROLLED = {"dina-dr_nash"}


@dataclass(frozen=True)
class Invitation:
    creator: str
    kind: str  # "caregiver", "clinician" or "enrolment"
    state: str  # "valid", "used", "revoked" or "expired"


def _invitation_of(name: str, link: Membership) -> Invitation:
    if name in ENROLLED:
        return Invitation(link.member, "enrolment", "used")
    return Invitation(link.patient, ROLE[link.member], "used")


INVITATIONS = {
    **{f"{name}-invitation": _invitation_of(name, link) for name, link in MEMBERSHIPS.items()},
    "alice-clinician-pending": Invitation("alice", "clinician", "valid"),  # dr_nash opened it
    "cora-caregiver-pending": Invitation("cora", "caregiver", "valid"),  # sam opened it
    "cora-caregiver-revoked": Invitation("cora", "caregiver", "revoked"),
    "cora-clinician-expired": Invitation("cora", "clinician", "expired"),
    "dr_moss-enrolment-pending": Invitation("dr_moss", "enrolment", "valid"),
}
OPENED_NOT_ACCEPTED = {"alice-clinician-pending": "dr_nash", "cora-caregiver-pending": "sam"}
MADE_OUTSIDE_THE_CREATORS_SESSION = {"cora-clinician-expired"}  # no link kept to show again


@dataclass(frozen=True)
class Infusion:
    patient: str
    started: datetime


INFUSIONS = {
    "alice_earlier": Infusion("alice", datetime(2026, 3, 8, 11, 0, tzinfo=timezone.utc)),
    "alice_now": Infusion("alice", datetime(2026, 3, 10, 11, 0, tzinfo=timezone.utc)),
    "bruno_earlier": Infusion("bruno", datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc)),
    "bruno_now": Infusion("bruno", datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)),
    "cora_now": Infusion("cora", datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc)),
}


@dataclass(frozen=True)
class Checkin:
    infusion: str
    shared: bool
    private: bool  # "Keep this note private"
    minutes: int  # after the infusion started
    mood: int = 6
    safety: str = "no"  # the answer to the safety question, never shown to caregivers
    symptoms: tuple = ()  # (code, severity) pairs; the rest are None


CHECKINS = {
    "alice_earlier_unshared": Checkin("alice_earlier", False, False, 60),
    "alice_shared": Checkin("alice_now", True, False, 50, safety="yes"),
    "alice_unshared": Checkin("alice_now", False, False, 60),
    "alice_private": Checkin("alice_now", True, True, 70),
    "alice_edited": Checkin("alice_now", True, False, 80),
    "bruno_earlier_shared": Checkin("bruno_earlier", True, False, 60),
    "bruno_unshared": Checkin("bruno_now", False, False, 60, mood=1),
    "bruno_unshared_private": Checkin("bruno_now", False, True, 70),
    "cora_shared": Checkin("cora_now", True, False, 60, symptoms=(("headache", 4),)),
}
EDITED = {"alice_edited"}  # saved with its earlier note, then changed: a revision exists
SAFETY_TEXT = "Thoughts of self-harm since the "  # the infusion, or the last check-in


@dataclass(frozen=True)
class RaisedFlag:
    checkin: str  # the check-in that raised it
    kind: str
    state: str  # "open" or "acknowledged" (with a note, by the patient's clinician)


FLAGS = {
    "alice_safety": RaisedFlag("alice_shared", "safety", "open"),
    "bruno_low_mood": RaisedFlag("bruno_unshared", "low_mood", "acknowledged"),
    "cora_severe": RaisedFlag("cora_shared", "severe", "open"),
}
THRESHOLDS = {("alice", "nausea"): "dr_moss"}  # (patient, symptom): the clinician who set it
SYMPTOM_RECORDS = ("nausea", "headache", "telepathy")  # set, default, not a symptom


def flag_note(flag: str) -> str:
    return f"[{flag}] acknowledged note"


def note(checkin: str) -> str:
    return f"[{checkin}] note"


def earlier_note(checkin: str) -> str:
    return f"[{checkin}] earlier note"


# ---------------------------------------------------------------------------------------------
# The oracle: plain sets, independent of diary.access.

IN_CARE = {(link.patient, link.member) for link in MEMBERSHIPS.values() if link.state == "active"}
SHARED = {name for name, checkin in CHECKINS.items() if checkin.shared}
PRIVATE = {name for name, checkin in CHECKINS.items() if checkin.private}


@dataclass(frozen=True)
class Expect:
    status: int
    writes: bool = False
    refusal: str | None = None  # the outcome of the one `invitation_refused` audit row


def under(record: str) -> tuple[str, str]:
    """'alice_now@bruno': the infusion, check-in or symptom alice_now, under bruno's URL."""
    thing, patient = record.split("@")
    return thing, patient


def patient_of(record: str) -> str | None:
    if record in INFUSIONS:
        return INFUSIONS[record].patient
    if record in CHECKINS:
        return INFUSIONS[CHECKINS[record].infusion].patient
    return None


def checkins_of(infusion: str) -> list[str]:
    return [name for name, checkin in CHECKINS.items() if checkin.infusion == infusion]


def in_care_team(user: str, patient: str | None) -> bool:
    return (patient, user) in IN_CARE


def clinician_of(user: str, patient: str | None) -> bool:
    return in_care_team(user, patient) and ROLE[user] == "clinician"


def caregiver_of(user: str, patient: str | None) -> bool:
    return in_care_team(user, patient) and ROLE[user] == "caregiver"


def member_sees_checkin(user: str, checkin: str) -> bool:
    patient = patient_of(checkin)
    return clinician_of(user, patient) or (caregiver_of(user, patient) and checkin in SHARED)


def member_sees_infusion(user: str, infusion: str) -> bool:
    return any(member_sees_checkin(user, checkin) for checkin in checkins_of(infusion)) or (
        clinician_of(user, INFUSIONS[infusion].patient))


def may_read_note(user: str, checkin: str) -> bool:
    if user == patient_of(checkin) or clinician_of(user, patient_of(checkin)):
        return True
    return member_sees_checkin(user, checkin) and checkin not in PRIVATE


def may_read_revisions(user: str, patient: str) -> bool:
    return user == patient or clinician_of(user, patient)


def flag_patient(flag: str) -> str:
    return patient_of(FLAGS[flag].checkin)


def may_see_flag(user: str, flag: str) -> bool:
    return clinician_of(user, flag_patient(flag))


def acknowledge(user: str, record: str) -> Expect | bool:
    if record not in FLAGS or not may_see_flag(user, record):
        return False
    return Expect(302, writes=FLAGS[record].state == "open")


def reopen(user: str, record: str) -> Expect | bool:
    if record not in FLAGS or not may_see_flag(user, record):
        return False
    return Expect(302, writes=FLAGS[record].state == "acknowledged")


def reset_threshold(user: str, record: str) -> Expect | bool:
    symptom, patient = under(record)
    if symptom not in SYMPTOM_RECORDS[:2] or not clinician_of(user, patient):
        return False
    return Expect(302, writes=(patient, symptom) in THRESHOLDS)


def owns(user: str, record: str) -> bool:
    return user in PATIENTS and user == patient_of(record)


ACCEPTED_BY = {"caregiver": "caregiver", "clinician": "clinician", "enrolment": "patient"}


def invitation_link(user: str, record: str, method: str) -> Expect:
    if record not in INVITATIONS:
        return Expect(404, refusal="unknown")
    invitation = INVITATIONS[record]
    if invitation.state != "valid":
        return Expect(403, refusal=invitation.state)
    if user == ANONYMOUS:
        return Expect(200)  # the registration form; for a clinician's link, "sign in"
    if user == invitation.creator:
        return Expect(403, refusal="own_invitation")
    if ROLE[user] != ACCEPTED_BY[invitation.kind]:
        return Expect(403, refusal="wrong_role")
    patient, joining = ((user, invitation.creator) if invitation.kind == "enrolment"
                        else (invitation.creator, user))
    if (patient, joining) in IN_CARE:
        return Expect(403, refusal="already_member")
    return Expect(200) if method == "GET" else Expect(302, writes=True)


def revoke_invitation(user: str, record: str) -> Expect | bool:
    if record not in INVITATIONS or user != INVITATIONS[record].creator:
        return False
    return Expect(302, writes=INVITATIONS[record].state in ("valid", "expired"))


def invitation_qr(user: str, record: str) -> bool:
    return (record in INVITATIONS and user == INVITATIONS[record].creator
            and INVITATIONS[record].state == "valid"
            and record not in MADE_OUTSIDE_THE_CREATORS_SESSION)


def revoke_member(user: str, record: str) -> bool:
    link = MEMBERSHIPS.get(record)
    return link is not None and link.state == "active" and user == link.patient


def member_reads_infusion_under(user: str, record: str) -> bool:
    infusion, patient = under(record)
    return infusion in INFUSIONS and patient == INFUSIONS[infusion].patient and (
        member_sees_infusion(user, infusion))


def member_reads_checkin_under(user: str, record: str) -> bool:
    checkin, patient = under(record)
    return checkin in CHECKINS and patient == patient_of(checkin) and (
        member_sees_checkin(user, checkin))


# ---------------------------------------------------------------------------------------------
# Records and actions.

NO_PATIENT, NO_INFUSION, NO_CHECKIN = "no_patient", "no_infusion", "no_checkin"
NO_INVITATION, NO_MEMBERSHIP, NO_FLAG = "no_invitation", "no_membership", "no_flag"
SELF = ("-",)
PATIENT_RECORDS = (*PATIENTS, NO_PATIENT)
INFUSION_RECORDS = (*INFUSIONS, NO_INFUSION)
CHECKIN_RECORDS = (*CHECKINS, NO_CHECKIN)
INVITATION_RECORDS = (*INVITATIONS, NO_INVITATION)
MEMBERSHIP_RECORDS = (*MEMBERSHIPS, NO_MEMBERSHIP)
FLAG_RECORDS = (*FLAGS, NO_FLAG)
SYMPTOMS_UNDER = tuple(f"{s}@{p}" for s in SYMPTOM_RECORDS for p in (*PATIENTS, NO_PATIENT))
INFUSIONS_UNDER = tuple(f"{i}@{p}" for i in INFUSION_RECORDS for p in PATIENTS)
CHECKINS_UNDER = tuple(f"{c}@{p}" for c in CHECKIN_RECORDS for p in PATIENTS)


def local(moment: datetime) -> str:
    return clock.local_input_value(moment, ZONE).strftime("%Y-%m-%dT%H:%M")


def started(infusion: str) -> datetime:
    return INFUSIONS[infusion].started if infusion in INFUSIONS else NOW - timedelta(hours=2)


def checkin_time(checkin: str) -> datetime:
    if checkin not in CHECKINS:
        return NOW - timedelta(hours=1)
    return started(CHECKINS[checkin].infusion) + timedelta(minutes=CHECKINS[checkin].minutes)


@dataclass(frozen=True)
class Action:
    name: str
    endpoint: str
    method: str
    records: tuple[str, ...]
    path: Callable  # (world, record) -> path
    rule: Callable  # (user, record) -> bool or Expect, for a signed-in user
    data: Callable = lambda world, record: {}
    public: bool = False  # anonymous visitors are answered, not sent to sign in
    reads_diary: bool = False  # a look at a patient's diary by a member, audited


def role_is(role):
    return lambda user, record: ROLE[user] == role


ACTIONS = (
    # The signed-in user's own pages and writes.
    Action("diary", "patient.diary", "GET", SELF, lambda w, r: "/diary", role_is("patient")),
    Action("new_infusion_form", "patient.new_infusion", "GET", SELF,
           lambda w, r: "/infusions/new", role_is("patient")),
    Action("new_infusion", "patient.new_infusion", "POST", SELF, lambda w, r: "/infusions/new",
           role_is("patient"),
           data=lambda w, r: {"started_at": "2026-02-01T07:00", "length_minutes": "40"}),
    Action("settings_form", "patient.settings", "GET", SELF, lambda w, r: "/settings",
           role_is("patient")),
    Action("settings", "patient.settings", "POST", SELF, lambda w, r: "/settings",
           role_is("patient"), data=lambda w, r: {"time_zone": "Europe/Paris"}),
    Action("care_team", "team.care_team", "GET", SELF, lambda w, r: "/care-team",
           role_is("patient")),
    Action("seen", "team.seen", "GET", SELF, lambda w, r: "/care-team/seen", role_is("patient")),
    Action("invite_caregiver", "team.invite", "POST", SELF,
           lambda w, r: "/care-team/invite/caregiver", role_is("patient")),
    Action("invite_clinician", "team.invite", "POST", SELF,
           lambda w, r: "/care-team/invite/clinician", role_is("patient")),
    Action("my_patients", "clinician.patients", "GET", SELF, lambda w, r: "/clinic/patients",
           role_is("clinician")),
    Action("enrol", "team.enrol", "POST", SELF, lambda w, r: "/clinic/enrol",
           role_is("clinician")),
    Action("shared_with_me", "caregiver.shared", "GET", SELF, lambda w, r: "/shared/",
           role_is("caregiver")),
    Action("flag_queue", "clinician.flags", "GET", SELF, lambda w, r: "/clinic/flags",
           role_is("clinician")),
    # Flags and thresholds: the patient's clinicians only.
    Action("acknowledge", "clinician.acknowledge", "POST", FLAG_RECORDS,
           lambda w, r: f"/clinic/flags/{w.id(r)}/acknowledge", acknowledge,
           data=lambda w, r: {"note": "seen by the matrix", "confirmed": "yes"}),
    Action("reopen", "clinician.reopen", "POST", FLAG_RECORDS,
           lambda w, r: f"/clinic/flags/{w.id(r)}/reopen", reopen),
    Action("thresholds", "reader.thresholds", "GET", PATIENT_RECORDS,
           lambda w, r: f"/patients/{w.id(r)}/thresholds", clinician_of),
    Action("set_threshold", "reader.thresholds", "POST", PATIENT_RECORDS,
           lambda w, r: f"/patients/{w.id(r)}/thresholds", clinician_of,
           data=lambda w, r: {"symptom": "headache", "hours": "6"}),
    Action("reset_threshold", "reader.reset_threshold", "POST", SYMPTOMS_UNDER,
           lambda w, r: f"/patients/{w.id(under(r)[1])}/thresholds/{under(r)[0]}/reset",
           reset_threshold),
    # A patient's diary as their care team reads it, and leaving the team.
    Action("read_patient", "reader.patient", "GET", PATIENT_RECORDS,
           lambda w, r: f"/patients/{w.id(r)}", in_care_team, reads_diary=True),
    Action("read_infusion", "reader.infusion", "GET", INFUSIONS_UNDER,
           lambda w, r: f"/patients/{w.id(under(r)[1])}/infusions/{w.id(under(r)[0])}",
           member_reads_infusion_under, reads_diary=True),
    Action("read_checkin", "reader.checkin", "GET", CHECKINS_UNDER,
           lambda w, r: f"/patients/{w.id(under(r)[1])}/check-ins/{w.id(under(r)[0])}",
           member_reads_checkin_under, reads_diary=True),
    Action("leave_form", "team.leave", "GET", PATIENT_RECORDS,
           lambda w, r: f"/care-team/leave/{w.id(r)}", in_care_team),
    Action("leave", "team.leave", "POST", PATIENT_RECORDS,
           lambda w, r: f"/care-team/leave/{w.id(r)}", in_care_team),
    # The patient's own infusions and check-ins: only ever the patient's.
    Action("infusion", "patient.infusion", "GET", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}", owns),
    Action("edit_infusion_form", "patient.edit_infusion", "GET", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/edit", owns),
    Action("edit_infusion", "patient.edit_infusion", "POST", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/edit", owns,
           data=lambda w, r: {"started_at": local(started(r)), "length_minutes": "40",
                              "note": "corrected"}),
    Action("delete_infusion_form", "patient.delete_infusion", "GET", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/delete", owns),
    Action("delete_infusion", "patient.delete_infusion", "POST", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/delete", owns),
    Action("checkin_form", "patient.new_checkin", "GET", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/check-in", owns),
    Action("check_in", "patient.new_checkin", "POST", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/check-in", owns,
           data=lambda w, r: {"mood": "5", "shared": "y", "note": "written by the matrix",
                              "safety": "no",
                              "at": local(started(r) + timedelta(minutes=100))}),
    Action("reminders", "patient.reminders", "GET", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/reminders.ics", owns),
    Action("edit_checkin_form", "patient.edit_checkin", "GET", CHECKIN_RECORDS,
           lambda w, r: f"/check-ins/{w.id(r)}/edit", owns),
    Action("edit_checkin", "patient.edit_checkin", "POST", CHECKIN_RECORDS,
           lambda w, r: f"/check-ins/{w.id(r)}/edit", owns,
           data=lambda w, r: {"mood": "2", "shared": "y", "note": "changed by the matrix",
                              "safety": "no",
                              "at": local(checkin_time(r))}),
    Action("delete_checkin_form", "patient.delete_checkin", "GET", CHECKIN_RECORDS,
           lambda w, r: f"/check-ins/{w.id(r)}/delete", owns),
    Action("delete_checkin", "patient.delete_checkin", "POST", CHECKIN_RECORDS,
           lambda w, r: f"/check-ins/{w.id(r)}/delete", owns),
    Action("unshare", "patient.set_sharing", "POST", CHECKIN_RECORDS,
           lambda w, r: f"/check-ins/{w.id(r)}/sharing",
           lambda u, r: owns(u, r) and Expect(302, writes=r in SHARED)),
    # Invitations and memberships.
    Action("invitation", "team.invitation", "GET", INVITATION_RECORDS,
           lambda w, r: f"/care-team/invitations/{w.id(r)}",
           lambda u, r: r in INVITATIONS and u == INVITATIONS[r].creator),
    Action("invitation_qr", "team.invitation_qr", "GET", INVITATION_RECORDS,
           lambda w, r: f"/care-team/invitations/{w.id(r)}/qr.svg", invitation_qr),
    Action("revoke_invitation", "team.revoke_invitation", "POST", INVITATION_RECORDS,
           lambda w, r: f"/care-team/invitations/{w.id(r)}/revoke", revoke_invitation),
    Action("open_invitation_link", "team.invitation_link", "GET", INVITATION_RECORDS,
           lambda w, r: f"/invite/{w.token(r)}",
           lambda u, r: invitation_link(u, r, "GET"), public=True),
    Action("accept_invitation", "team.invitation_link", "POST", INVITATION_RECORDS,
           lambda w, r: f"/invite/{w.token(r)}",
           lambda u, r: invitation_link(u, r, "POST"), public=True),
    Action("revoke_member_form", "team.revoke_member", "GET", MEMBERSHIP_RECORDS,
           lambda w, r: f"/care-team/members/{w.id(r)}/revoke", revoke_member),
    Action("revoke_member", "team.revoke_member", "POST", MEMBERSHIP_RECORDS,
           lambda w, r: f"/care-team/members/{w.id(r)}/revoke", revoke_member),
    # The course, its printed reports and the downloads: the patient's own, or as read by others.
    Action("my_course", "course.mine", "GET", SELF, lambda w, r: "/course", role_is("patient")),
    Action("my_report", "course.my_report", "GET", SELF, lambda w, r: "/course/report",
           role_is("patient")),
    Action("my_infusion_report", "course.my_infusion_report", "GET", INFUSION_RECORDS,
           lambda w, r: f"/infusions/{w.id(r)}/report", owns),
    Action("my_csv", "exports.my_csv", "GET", SELF, lambda w, r: "/diary.csv", role_is("patient")),
    Action("my_fhir", "exports.my_fhir", "GET", SELF, lambda w, r: "/diary.fhir.json",
           role_is("patient")),
    Action("everything", "exports.everything", "GET", SELF, lambda w, r: "/my-data.zip",
           role_is("patient")),
    Action("patient_course", "course.patient_course", "GET", PATIENT_RECORDS,
           lambda w, r: f"/patients/{w.id(r)}/course", in_care_team, reads_diary=True),
    Action("patient_report", "course.patient_report", "GET", PATIENT_RECORDS,
           lambda w, r: f"/patients/{w.id(r)}/course/report", in_care_team, reads_diary=True),
    Action("patient_infusion_report", "course.patient_infusion_report", "GET", INFUSIONS_UNDER,
           lambda w, r: f"/patients/{w.id(under(r)[1])}/infusions/{w.id(under(r)[0])}/report",
           member_reads_infusion_under, reads_diary=True),
    Action("patient_csv", "exports.patient_csv", "GET", PATIENT_RECORDS,
           lambda w, r: f"/patients/{w.id(r)}/diary.csv", in_care_team, reads_diary=True),
    Action("patient_fhir", "exports.patient_fhir", "GET", PATIENT_RECORDS,
           lambda w, r: f"/patients/{w.id(r)}/diary.fhir.json", in_care_team, reads_diary=True),
)

# Routes that show no diary data, so they need no line in the matrix.
NOT_DIARY_DATA = {"static", "pages.home", "pages.crisis", "pages.favicon", "auth.register",
                  "auth.sign_in", "auth.sign_out", "auth.reset_password",
                  "auth.change_password", "auth.forgot_password", "clinician.settings",
                  # one's own sign-in means, never a diary (tests/web/test_passkeys.py,
                  # tests/web/test_phones.py check who may use them)
                  "passkeys.manage", "passkeys.registration_options", "passkeys.add",
                  "passkeys.remove", "passkeys.sign_in_options", "passkeys.sign_in",
                  "phones.sign_out_phone"}


@dataclass(frozen=True)
class Cell:
    user: str
    action: Action
    record: str

    def __str__(self):
        return f"{self.user}-{self.action.name}-{self.record}"


def expectation(cell: Cell) -> Expect | None:
    """What the oracle says: None means "sent to sign in" (an anonymous visitor)."""
    action = cell.action
    if cell.user == ANONYMOUS and not action.public:
        return None
    answer = action.rule(cell.user, cell.record)
    if isinstance(answer, Expect):  # allowed, with its own status or whether it writes
        return answer
    if not answer:
        return Expect(404)
    return Expect(200) if action.method == "GET" else Expect(302, writes=True)


CELLS = [Cell(user, action, record)
         for action in ACTIONS for record in action.records for user in USERS]


def _param(cell: Cell):
    return pytest.param(cell, id=str(cell))


# ---------------------------------------------------------------------------------------------
# Building the world through the app's routes.

DATA_TABLES = ("users", "infusions", "checkins", "checkin_symptoms", "checkin_revisions",
               "invitations", "care_team", "flags", "flag_events", "thresholds")


class World:
    def __init__(self, app, users: Users):
        self.app = app
        self.users = users
        self.clients = {}
        self.ids = {}  # record or user name -> database id
        self.tokens = {}  # invitation name -> the token in its link

    # -- looking things up

    def id(self, name: str) -> int:
        return self.ids.get(name, MISSING_ID)

    def token(self, name: str) -> str:
        return self.tokens.get(name, "tampered-" + "x" * 34)

    def client(self, user: str):
        return self.app.test_client() if user == ANONYMOUS else self.clients[user]

    def rows(self, sql: str, params=()):
        """Read the database the way an auditor would, on one connection kept open throughout."""
        if not hasattr(self, "conn"):
            self.conn = sqlite3.connect(self.app.config["DATABASE"])
            self.conn.row_factory = sqlite3.Row
        return self.conn.execute(sql, params).fetchall()

    def data(self) -> dict:
        """Every row of every diary table: refused writes must leave it exactly as it was."""
        return {table: [tuple(row) for row in self.rows(f"SELECT * FROM {table} ORDER BY 1, 2")]
                for table in DATA_TABLES}

    def last_audit_id(self) -> int:
        return self.rows("SELECT coalesce(max(id), 0) FROM audit")[0][0]

    def audit_since(self, audit_id: int):
        return self.rows("SELECT * FROM audit WHERE id > ? ORDER BY id", (audit_id,))

    def keep(self) -> None:
        """Remember the world as built; put_back() restores it after a cell that wrote."""
        self.rows("SELECT 1")
        self.kept = sqlite3.connect(":memory:")
        self.conn.backup(self.kept)

    def put_back(self) -> None:
        self.kept.backup(self.conn)

    def close(self) -> None:
        self.kept.close()
        self.conn.close()

    # -- building it

    def build(self, fake_clock: FakeClock) -> None:
        for name in ("alice", "bruno", "cora", *CLINICIANS, "sam"):  # dina, tess: through links
            user = self.users.create(ROLE[name], name=NAMES[name], email=f"{name}@example.com")
            self.ids[name] = user["id"]
            self.clients[name] = self.users.client(user)
        for name, infusion in INFUSIONS.items():
            self.ids[name] = self._record_infusion(infusion)
        for name, checkin in CHECKINS.items():
            self.ids[name] = self._check_in(name, checkin)
        for name in EDITED:
            self._edit(name)
        for name, link in MEMBERSHIPS.items():
            self._join(name, link)
        for name, link in MEMBERSHIPS.items():
            self._end(name, link)
        for name, invitation in INVITATIONS.items():
            if invitation.state != "used":
                self._leave_pending(name, invitation, fake_clock)
        for (patient, symptom), clinician in THRESHOLDS.items():
            response = self.clients[clinician].post(f"/patients/{self.ids[patient]}/thresholds",
                                                    data={"symptom": symptom, "hours": "6"})
            assert response.status_code == 302, response.data
        for name, flag in FLAGS.items():
            self.ids[name] = self.rows("SELECT id FROM flags WHERE latest_checkin_id = ? AND kind = ?",
                                       (self.ids[flag.checkin], flag.kind))[0][0]
            if flag.state == "acknowledged":
                clinician = next(m for p, m in IN_CARE
                                 if p == flag_patient(name) and ROLE[m] == "clinician")
                response = self.clients[clinician].post(
                    f"/clinic/flags/{self.ids[name]}/acknowledge",
                    data={"note": flag_note(name), "confirmed": "yes"})
                assert response.status_code == 302, response.data

    def _record_infusion(self, infusion: Infusion) -> int:
        response = self.clients[infusion.patient].post("/infusions/new", data={
            "started_at": local(infusion.started), "length_minutes": "40", "note": ""})
        assert response.status_code == 302, response.data
        return int(response.headers["Location"].rsplit("/", 1)[1])

    def _check_in(self, name: str, checkin: Checkin) -> int:
        form = {"mood": str(checkin.mood), "at": local(checkin_time(name)),
                "safety": checkin.safety, **{f"symptom_{code}": str(severity)
                                             for code, severity in checkin.symptoms},
                "note": earlier_note(name) if name in EDITED else note(name)}
        form.update({"shared": "y"} if checkin.shared else {})
        form.update({"note_private": "y"} if checkin.private else {})
        patient = INFUSIONS[checkin.infusion].patient
        response = self.clients[patient].post(
            f"/infusions/{self.ids[checkin.infusion]}/check-in", data=form)
        assert response.status_code == 302, response.data
        return self.rows("SELECT max(id) FROM checkins")[0][0]

    def _edit(self, name: str) -> None:
        checkin = CHECKINS[name]
        form = {"mood": str(checkin.mood), "at": local(checkin_time(name)), "note": note(name),
                "safety": checkin.safety, "symptom_nausea": "2"}
        form.update({"shared": "y"} if checkin.shared else {})
        form.update({"note_private": "y"} if checkin.private else {})
        response = self.clients[patient_of(name)].post(f"/check-ins/{self.ids[name]}/edit",
                                                       data=form)
        assert response.status_code == 302, response.data

    def invite(self, creator: str, kind: str) -> tuple[int, str]:
        path = "/clinic/enrol" if kind == "enrolment" else f"/care-team/invite/{kind}"
        response = self.clients[creator].post(path)
        assert response.status_code == 302, response.data
        page = self.clients[creator].get(response.headers["Location"]).data.decode()
        token = re.search(r'value="http://localhost/invite/([^"]+)"', page).group(1)
        return int(response.headers["Location"].rsplit("/", 1)[1]), token

    def _join(self, name: str, link: Membership) -> None:
        invitation = INVITATIONS[f"{name}-invitation"]
        self.ids[f"{name}-invitation"], token = self.invite(invitation.creator, invitation.kind)
        self.tokens[f"{name}-invitation"] = token
        joining = link.patient if invitation.kind == "enrolment" else link.member
        if joining in self.clients:
            response = self.clients[joining].post(f"/invite/{token}")
        else:  # a new account, made through the link
            self.clients[joining] = self.app.test_client()
            response = self.clients[joining].post(f"/invite/{token}", data={
                "name": NAMES[joining], "email": f"{joining}@example.com", "password": PASSWORD,
                "confirm": PASSWORD, "time_zone": ZONE})
            self.ids[joining] = self.rows("SELECT id FROM users WHERE email = ?",
                                          (f"{joining}@example.com",))[0][0]
        assert response.status_code == 302, response.data
        self.ids[name] = self.rows(
            "SELECT id FROM care_team WHERE patient_id = ? AND member_id = ? AND ended_at IS NULL",
            (self.ids[link.patient], self.ids[link.member]))[0][0]

    def _end(self, name: str, link: Membership) -> None:
        if link.state == "revoked":
            response = self.clients[link.patient].post(
                f"/care-team/members/{self.ids[name]}/revoke")
        elif link.state == "left":
            response = self.clients[link.member].post(
                f"/care-team/leave/{self.ids[link.patient]}")
        else:
            return
        assert response.status_code == 302, response.data

    def _leave_pending(self, name: str, invitation: Invitation, fake_clock: FakeClock) -> None:
        if invitation.state == "expired":
            fake_clock.set(NOW - timedelta(days=8))
            with self.app.app_context():
                creator = SimpleNamespace(id=self.ids[invitation.creator], role="patient")
                self.ids[name], self.tokens[name] = care.create_invitation(creator,
                                                                           invitation.kind)
            fake_clock.set(NOW)
            return
        self.ids[name], self.tokens[name] = self.invite(invitation.creator, invitation.kind)
        if name in OPENED_NOT_ACCEPTED:
            opened = self.clients[OPENED_NOT_ACCEPTED[name]].get(f"/invite/{self.tokens[name]}")
            assert "Accept invitation" in opened.data.decode()
        if invitation.state == "revoked":
            response = self.clients[invitation.creator].post(
                f"/care-team/invitations/{self.ids[name]}/revoke")
            assert response.status_code == 302

    def check_it_matches_the_description(self) -> None:
        for name, link in MEMBERSHIPS.items():
            row = self.rows("SELECT * FROM care_team WHERE id = ?", (self.ids[name],))[0]
            assert (row["patient_id"], row["member_id"]) == (self.ids[link.patient],
                                                             self.ids[link.member])
            assert (row["ended_at"] is None) == (link.state == "active"), name
            ended_by = {"revoked": link.patient, "left": link.member}.get(link.state)
            assert row["ended_by"] == (self.ids[ended_by] if ended_by else None), name
        for name, checkin in CHECKINS.items():
            row = self.rows("SELECT * FROM checkins WHERE id = ?", (self.ids[name],))[0]
            assert (row["shared"], row["note_private"]) == (checkin.shared, checkin.private)
            assert row["note"] == note(name)
        assert self.rows("SELECT count(*) FROM checkin_revisions")[0][0] == len(EDITED)
        flags = self.rows("SELECT id, state FROM flags")
        assert {(row["id"], row["state"]) for row in flags} == {
            (self.ids[name], flag.state) for name, flag in FLAGS.items()}
        with self.app.app_context():
            for name, invitation in INVITATIONS.items():
                row = self.rows("SELECT * FROM invitations WHERE id = ?", (self.ids[name],))[0]
                assert access.invitation_state(row) == invitation.state, name
                assert row["kind"] == invitation.kind


def database_folder(tmp_path_factory) -> Path:
    """In memory when the machine has /dev/shm: the matrix makes thousands of requests."""
    shared_memory = Path("/dev/shm")
    if shared_memory.is_dir() and os.access(shared_memory, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="diary-matrix-", dir=shared_memory))
    return tmp_path_factory.mktemp("matrix")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = database_folder(tmp_path_factory)
    with pytest.MonkeyPatch.context() as patch:
        fake_clock = FakeClock(NOW)
        patch.setattr(clock, "now", fake_clock)
        app = create_app({
            "TESTING": True, "SECRET_KEY": "test-only-secret", "WTF_CSRF_ENABLED": False,
            "INSECURE_COOKIES": False,
            "DATABASE": str(folder / "diary.sqlite"),
        })
        built = World(app, Users(app))
        built.build(fake_clock)
        built.check_it_matches_the_description()
        built.not_found = main_of(app.test_client().get("/no-such-page").data.decode())
        built.keep()
        yield built
        built.close()
    shutil.rmtree(folder, ignore_errors=True)


def main_of(html: str) -> str:
    return html.split('<main id="main">', 1)[-1].split("</main>", 1)[0]


# ---------------------------------------------------------------------------------------------
# The cell check.

def path_of(world: World, cell: Cell) -> str:
    return cell.action.path(world, cell.record)


def drain_flashes(client) -> None:
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def check_nothing_leaks(world: World, cell: Cell, html: str) -> None:
    user = cell.user
    for checkin in CHECKINS:
        if note(checkin) in html:
            assert may_read_note(user, checkin), f"{user} was shown the note of {checkin}"
    for checkin in EDITED:
        if earlier_note(checkin) in html:
            assert may_read_revisions(user, patient_of(checkin)), (
                f"{user} was shown an earlier version of {checkin}")
    if SAFETY_TEXT in html:
        assert ROLE.get(user) in ("patient", "clinician"), f"{user} was shown a safety answer"
    if 'class="card flag' in html:
        assert ROLE.get(user) == "clinician", f"{user} was shown a flag"
    for flag in FLAGS:
        if f'id="flag-{world.id(flag)}"' in html or flag_note(flag) in html:
            assert may_see_flag(user, flag), f"{user} was shown the flag {flag}"
    if cell.action.endpoint != "team.invitation_link":  # the link names who sent it
        for patient, name in PATIENTS.items():
            if name in html and patient != user:
                assert in_care_team(user, patient), f"{user} was shown {name}"


def check_readable_things_are_shown(world: World, cell: Cell, html: str) -> None:
    """The other way round: what the oracle allows is on the page (nothing over-redacted)."""
    user, name = cell.user, cell.action.name
    if name == "read_patient":
        patient, infusions = cell.record, [i for i in INFUSIONS if patient_of(i) == cell.record]
    elif name == "read_infusion":
        infusions = [under(cell.record)[0]]
        patient = patient_of(infusions[0])
    elif name == "read_checkin":
        checkin = under(cell.record)[0]
        assert f'id="checkin-{world.id(checkin)}"' in html
        assert (note(checkin) in html) == may_read_note(user, checkin)
        assert (SAFETY_TEXT in html) == clinician_of(user, patient_of(checkin))
        return
    elif name == "infusion":
        for checkin in checkins_of(cell.record):
            assert note(checkin) in html
        return
    elif name in ("my_patients", "shared_with_me"):
        for patient, patient_name in PATIENTS.items():
            assert (patient_name in html) == in_care_team(user, patient)
        return
    elif name == "flag_queue":
        for flag, raised in FLAGS.items():
            queued = may_see_flag(user, flag) and raised.state == "open"
            assert (f'id="flag-{world.id(flag)}"' in html) == queued, flag
        return
    else:
        return
    for infusion in infusions:
        shown = f'id="infusion-{world.id(infusion)}"' in html or name == "read_infusion"
        assert shown == member_sees_infusion(user, infusion), infusion
        for checkin in checkins_of(infusion):
            visible = member_sees_checkin(user, checkin)
            assert (f'id="checkin-{world.id(checkin)}"' in html) == visible, checkin
            assert (note(checkin) in html) == (visible and may_read_note(user, checkin)), checkin
        if name == "read_infusion":
            for checkin in set(checkins_of(infusion)) & EDITED:
                assert (earlier_note(checkin) in html) == may_read_revisions(user, patient)
    if name == "read_patient":
        for flag, raised in FLAGS.items():
            if flag_patient(flag) == patient and raised.state == "acknowledged":
                assert (flag_note(flag) in html) == may_see_flag(user, flag), flag


def check_audit(world: World, cell: Cell, expect: Expect, path: str, rows) -> None:
    seen = [(row["action"], row["outcome"]) for row in rows]
    if expect and expect.refusal:
        assert seen == [("invitation_refused", expect.refusal)], seen
    if expect is None or expect.status >= 400:
        assert not [row for row in rows if row["outcome"] == "ok"], seen
    if cell.action.reads_diary and expect and expect.status == 200:
        views = [row for row in rows if row["action"].startswith("view")]
        assert [(row["actor_id"], row["patient_id"], row["subject"], row["outcome"])
                for row in views] == [(world.id(cell.user),
                                       world.id(patient_of(under(cell.record)[0])
                                                if "@" in cell.record else cell.record),
                                       path, "ok")]
    for row in rows:  # nobody's look is ever written down against a patient they cannot read
        if row["action"].startswith("view") and row["patient_id"] is not None:
            patient = next(p for p in PATIENTS if world.id(p) == row["patient_id"])
            assert in_care_team(cell.user, patient), seen


def check_cell(world: World, cell: Cell) -> None:
    expect = expectation(cell)
    client = world.client(cell.user)
    if cell.user != ANONYMOUS:
        drain_flashes(client)
    path = path_of(world, cell)
    before, audit_before = world.data(), world.last_audit_id()
    try:
        if cell.action.method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data=cell.action.data(world, cell.record))
        after = world.data()
        rows = world.audit_since(audit_before)
    finally:
        if cell.action.method == "POST":
            world.put_back()

    location = urlsplit(response.headers.get("Location", "")).path
    if expect is None:
        assert (response.status_code, location) == (302, "/sign-in")
    else:
        assert response.status_code == expect.status, response.data[:2000]
        if expect.status == 302:
            assert location != "/sign-in"
    if expect is not None and expect.status == 404 and not cell.action.public:
        assert main_of(response.data.decode()) == world.not_found
    if expect is not None and expect.writes:
        assert after != before, "an allowed write changed nothing"
    else:
        assert after == before, "written although refused, or by a GET"
    if response.mimetype == "text/html":
        html = response.data.decode()
        check_nothing_leaks(world, cell, html)
        if expect is not None and expect.status == 200:
            check_readable_things_are_shown(world, cell, html)
    elif response.mimetype in ("text/csv", "application/fhir+json"):  # downloads leak nothing either
        check_nothing_leaks(world, cell, response.data.decode())
    check_audit(world, cell, expect, path, rows)


@pytest.mark.parametrize("cell", [_param(cell) for cell in CELLS])
def test_each_user_gets_exactly_what_the_oracle_allows(world, cell):
    check_cell(world, cell)


# ---------------------------------------------------------------------------------------------
# What a cell's status and text checks cannot see.

def test_shared_with_me_says_nothing_of_an_infusion_with_no_shared_checkin(world):
    assert not member_sees_infusion("tess", "bruno_now")  # bruno's current one: nothing shared
    assert member_sees_infusion("sam", "alice_now")
    pages = {user: main_of(world.clients[user].get("/shared/").data.decode())
             for user in ("sam", "tess")}
    assert re.search(r"Alice Ashdown</a></h2>\s*<p>Hour \d+ after the infusion", pages["sam"])
    bruno = pages["tess"].split("Bruno Birch", 1)[1]
    assert "No current infusion" in bruno and "Hour" not in bruno


def test_a_refused_look_never_reaches_who_has_seen_my_diary(world):
    world.clients["sam"].get(f"/patients/{world.id('alice')}/check-ins/"
                             f"{world.id('alice_unshared')}")
    world.clients["tess"].get(f"/patients/{world.id('alice')}")
    page = main_of(world.clients["alice"].get("/care-team/seen").data.decode())
    assert "Tess Thorn" not in page
    assert all(row["subject"] != f"/patients/{world.id('alice')}/check-ins/"
               f"{world.id('alice_unshared')}" for row in world.rows(
                   "SELECT subject FROM audit WHERE outcome = 'ok'"))


# ---------------------------------------------------------------------------------------------
# The matrix itself: it must cover every route, and the world must hold every case.

def test_every_route_that_shows_or_changes_diary_data_is_in_the_matrix(world):
    covered = {(action.endpoint, action.method) for action in ACTIONS}
    missing = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule in world.app.url_map.iter_rules() if rule.endpoint not in NOT_DIARY_DATA
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if (rule.endpoint, method) not in covered
    ]
    assert not missing, "add these routes to ACTIONS in the access matrix: " + ", ".join(missing)
    routes = world.app.url_map.bind("localhost")
    for cell in CELLS:  # each cell's request reaches the route it is meant for
        endpoint, _ = routes.match(path_of(world, cell), method=cell.action.method)
        assert endpoint == cell.action.endpoint, cell
    print(f"\naccess matrix: {len(CELLS)} cells, {len(covered)} routes:",
          ", ".join(sorted(f"{method} {endpoint}" for endpoint, method in covered)))


def test_the_world_holds_every_kind_of_link_and_record():
    states = {link.state for link in MEMBERSHIPS.values()}
    assert states == {"active", "revoked", "left"}
    assert {i.state for i in INVITATIONS.values()} == {"valid", "used", "revoked", "expired"}
    assert OPENED_NOT_ACCEPTED and EDITED and PRIVATE and SHARED and set(CHECKINS) - SHARED
    assert len(PATIENTS) >= 3 and len(CLINICIANS) >= 2 and len(CAREGIVERS) >= 2
    for role in ("clinician", "caregiver"):  # someone of each role in each kind of link
        assert {link.state for link in MEMBERSHIPS.values() if ROLE[link.member] == role} == (
            states)
