"""Records that leave the app: "Download my diary (CSV)", "Download as FHIR" and "Download all my
data" for the patient; the CSV and FHIR of a patient for their clinicians and caregivers (what was
shared only, for a caregiver). Every download is audited through the access module."""

import json

from flask import Blueprint, Response, current_app
from flask_login import current_user

from .. import access
from ..rules import clock, exports, fhir
from ..rules import flags as flag_rules
from ..rules.schedule import InfusionWindow
from . import timeline
from .guards import role_required

bp = Blueprint("exports", __name__)

FHIR_JSON = "application/fhir+json"
SEEN_WORDS = {"view_diary": "opened your diary", "view_list": "saw you in their list",
              "view_export": "downloaded your diary"}


def _records(scope):
    """The diary as this scope may export it, with its audit row written first."""
    records = access.diary_records(scope)
    access.record_export(scope)
    return records


def _windows(records) -> dict:
    return {row["id"]: InfusionWindow.of(row) for row in records.infusions}


def csv_text(scope, records, zone: str) -> str:
    windows = _windows(records)
    with_safety = scope.is_clinician
    rows = [exports.CsvCheckin(
        at=clock.from_db(row["at"]), infusion_id=row["infusion_id"],
        infusion_end=windows[row["infusion_id"]].end, mood=row["mood"], severities=severities,
        shared=bool(row["shared"]), note=row["note"],
        safety=row.get("safety") if with_safety else None)
        for row, severities in records.checkins]
    return exports.diary_csv(rows, zone, with_safety)


def _flag_text(row) -> str:
    label = timeline.KIND_LABELS.get(row["kind"], "Flag")
    try:
        return f"{label}: {flag_rules.describe(flag_rules.flag_from_row(row))}"
    except (KeyError, ValueError):
        return label


def fhir_bundle(scope, records, patient, zone: str) -> dict:
    windows = _windows(records)
    infusions = [fhir.Infusion(row["id"], windows[row["id"]].start, windows[row["id"]].end,
                               row["note"] or None) for row in records.infusions]
    checkins = [fhir.Checkin(
        id=row["id"], infusion_id=row["infusion_id"], at=clock.from_db(row["at"]),
        mood=row["mood"], severities=severities, shared=bool(row["shared"]), note=row["note"],
        note_private=None if scope.shared_only else bool(row["note_private"]),
        safety=row.get("safety")) for row, severities in records.checkins]
    flags = [fhir.FlagRecord(
        id=row["id"], kind=row["kind"], state=row["state"], text=_flag_text(row),
        raised_at=clock.from_db(row["raised_at"]),
        ended_at=clock.from_db(row["acknowledged_at"] if row["state"] == "acknowledged"
                               and row.get("acknowledged_at") else row["updated_at"]))
        for row in records.flags]
    return fhir.bundle(base_url=current_app.config["BASE_URL"],
                       patient=fhir.Person(patient["id"], patient["name"]), infusions=infusions,
                       checkins=checkins, flags=flags, now=clock.now(), zone=zone)


def _download(body, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


def _name(scope, extension: str) -> str:
    today = clock.local(clock.now(), current_user.time_zone).date().isoformat()
    who = "" if scope.is_own else f"-patient-{scope.patient_id}"
    return f"infusion-diary{who}-{today}.{extension}"


def _csv(scope) -> Response:
    """Times in the patient's own zone: when they felt it, wherever the reader is."""
    text = csv_text(scope, _records(scope), access.patient(scope)["time_zone"])
    return _download(text, "text/csv; charset=utf-8", _name(scope, "csv"))


def _fhir(scope) -> Response:
    records = _records(scope)
    patient = access.patient(scope)
    data = fhir_bundle(scope, records, patient, patient["time_zone"])
    return _download(json.dumps(data, ensure_ascii=False, indent=1), FHIR_JSON,
                     _name(scope, "fhir.json"))


@bp.route("/diary.csv")
@role_required("patient")
def my_csv():
    return _csv(access.export_scope(current_user, current_user.id))


@bp.route("/diary.fhir.json")
@role_required("patient")
def my_fhir():
    return _fhir(access.export_scope(current_user, current_user.id))


@bp.route("/patients/<int:patient_id>/diary.csv")
@role_required("clinician", "caregiver")
def patient_csv(patient_id):
    return _csv(access.export_scope(current_user, patient_id))


@bp.route("/patients/<int:patient_id>/diary.fhir.json")
@role_required("clinician", "caregiver")
def patient_fhir(patient_id):
    return _fhir(access.export_scope(current_user, patient_id))


@bp.route("/my-data.zip")
@role_required("patient")
def everything():
    scope = access.export_scope(current_user, current_user.id)
    zone, now = current_user.time_zone, clock.now()
    records = _records(scope)
    patient = access.patient(scope)
    team = [(row["role"], row["name"], row["email"], exports.iso(clock.from_db(row["since"]), zone),
             exports.iso(clock.from_db(row["ended_at"]), zone) if row["ended_at"] else "",
             ("you" if row["ended_by_patient"] else row["ended_by_name"] or "")
             if row["ended_at"] else "")
            for row in access.care_team_history(current_user)]
    seen = [(exports.iso(clock.from_db(row["at"]), zone), row["name"], row["role"],
             SEEN_WORDS.get(row["action"], row["action"]), row["subject"] or "")
            for row in access.every_look_at_my_diary(current_user)]
    files = {
        "README.txt": exports.EVERYTHING_README.format(
            when=clock.local(now, zone).strftime("%d %b %Y %H:%M"), zone=zone),
        "diary.csv": csv_text(scope, records, zone),
        "diary.fhir.json": json.dumps(fhir_bundle(scope, records, patient, zone),
                                      ensure_ascii=False, indent=1),
        "care-team.csv": exports.table_csv(
            ("role", "name", "email", "joined", "left", "ended_by"), team),
        "who-has-seen.csv": exports.table_csv(("time", "name", "role", "what", "page"), seen),
    }
    return _download(exports.everything_zip(files, now, zone), "application/zip",
                     _name(scope, "zip"))
