"""Records that leave the app, as pure rules: the CSV and the FHIR R4 Bundle.

Every FHIR resource is validated with the `fhir.resources` package. Its default models (version
8) are FHIR R5 (5.0.0); it ships no plain R4 (4.0.1) models, so the R4-family models it does ship,
`fhir.resources.R4B` (4.3.0), validate here: R4B left these five resources as R4 had them. Codes
with a required binding are checked against the R4 value sets, which the models do not check.
"""

import csv
import importlib
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from diary.rules import catalogue, exports, fhir

BASE = "https://diary.clinic.example"
ZONE = "America/New_York"
START = datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)
END = START + timedelta(minutes=40)
NOW = START + timedelta(days=2)

# Required bindings, from the R4 (4.0.1) value sets.
BUNDLE_TYPES = {"document", "message", "transaction", "transaction-response", "batch",
                "batch-response", "history", "searchset", "collection"}
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
              "string", "text", "url", "choice", "open-choice", "attachment", "reference",
              "quantity"}
RESPONSE_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
EVENT_STATUS = {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
                "entered-in-error", "unknown"}
FLAG_STATUS = {"active", "inactive", "entered-in-error"}
FLAG_CATEGORIES = {"diet", "drug", "lab", "admin", "contact", "clinical", "behavioral",
                   "research", "advance-directive", "safety"}


def sample_bundle(**changes) -> dict:
    data = dict(
        base_url=BASE, patient=fhir.Person(7, "Pat Lee"),
        infusions=[fhir.Infusion(3, START, END, "Clinic room 2"),
                   fhir.Infusion(4, NOW - timedelta(minutes=10), NOW + timedelta(minutes=30))],
        checkins=[
            fhir.Checkin(11, 3, END + timedelta(hours=1), 4, {"dizziness": 3, "nausea": 1}, True,
                         "Floaty", False, "no"),
            fhir.Checkin(12, 3, END + timedelta(hours=2), 1, {}, False, "=HYPERLINK()", True,
                         "yes"),
        ],
        flags=[fhir.FlagRecord(21, "low_mood", "open", "Very low mood: Mood 1 of 10 at hour 2",
                               END + timedelta(hours=2), None),
               fhir.FlagRecord(22, "safety", "acknowledged", "Safety answer",
                               END + timedelta(hours=2), END + timedelta(hours=3))],
        now=NOW, zone=ZONE)
    data.update(changes)
    return fhir.bundle(**data)


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_installed_models_default_to_r5_and_ship_r4b():
    assert importlib.import_module("fhir.resources").__fhir_version__ == "5.0.0"
    assert importlib.import_module("fhir.resources.R4B").__fhir_version__ == "4.3.0"


def test_every_resource_and_the_bundle_validate_against_the_r4_models():
    bundle = sample_bundle()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection" and len(parsed.entry) == len(bundle["entry"])
    assert fhir.resource_counts(bundle) == {"Patient": 1, "Questionnaire": 1, "Procedure": 2,
                                            "QuestionnaireResponse": 2, "Flag": 2}
    json.dumps(bundle)  # plain JSON all the way down


def test_the_validation_can_fail():
    procedure = resources(sample_bundle(), "Procedure")[0]
    with pytest.raises(ValidationError):
        get_fhir_model_class("Procedure").model_validate({**procedure, "performedAt": "x"})
    with pytest.raises(ValidationError):  # R5 renamed performed[x] to occurrence[x]
        importlib.import_module("fhir.resources.procedure").Procedure.model_validate(procedure)
    flag = resources(sample_bundle(), "Flag")[0]
    with pytest.raises(ValidationError):
        get_fhir_model_class("Flag").model_validate({k: v for k, v in flag.items() if k != "subject"})


def test_codes_with_required_bindings_come_from_the_r4_value_sets():
    bundle = sample_bundle()
    assert bundle["type"] in BUNDLE_TYPES
    questionnaire = resources(bundle, "Questionnaire")[0]
    assert questionnaire["status"] in PUBLICATION_STATUS
    assert {item["type"] for item in questionnaire["item"]} <= ITEM_TYPES
    assert {r["status"] for r in resources(bundle, "QuestionnaireResponse")} <= RESPONSE_STATUS
    assert [p["status"] for p in resources(bundle, "Procedure")] == ["completed", "in-progress"]
    assert {p["status"] for p in resources(bundle, "Procedure")} <= EVENT_STATUS
    flags = resources(bundle, "Flag")
    assert [f["status"] for f in flags] == ["active", "inactive"] and FLAG_STATUS >= {"active"}
    assert {c["code"] for f in flags for cat in f["category"] for c in cat["coding"]} <= FLAG_CATEGORIES


def test_the_questionnaire_asks_what_the_check_in_form_asks():
    questionnaire = resources(sample_bundle(), "Questionnaire")[0]
    assert questionnaire["url"] == f"{BASE}/fhir/Questionnaire/check-in"
    items = {item["linkId"]: item for item in questionnaire["item"]}
    assert [v["valueInteger"] for v in items["mood"]["answerOption"]] == list(range(0, 11))
    for code in catalogue.CODES:
        assert items[code]["code"][0]["code"] == code
        assert [v["valueInteger"] for v in items[code]["answerOption"]] == [0, 1, 2, 3, 4]
    assert {"safety", "note", "shared"} <= set(items)


def test_check_ins_infusions_and_flags_point_at_the_patient_and_each_other():
    bundle = sample_bundle()
    urls = {e["fullUrl"] for e in bundle["entry"]}
    patient_url = next(e["fullUrl"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "Patient")
    first, second = resources(bundle, "QuestionnaireResponse")
    assert first["subject"]["reference"] == patient_url and first["partOf"][0]["reference"] in urls
    assert first["authored"] == "2026-03-10T10:40:00-04:00"
    answers = {item["linkId"]: item["answer"][0] for item in first["item"]}
    assert answers["dizziness"] == {"valueInteger": 3} and answers["heart"] == {"valueInteger": 0}
    assert answers["safety"]["valueCoding"]["code"] == "no"
    procedure = resources(bundle, "Procedure")[0]
    assert procedure["performedPeriod"] == {"start": "2026-03-10T09:00:00-04:00",
                                            "end": "2026-03-10T09:40:00-04:00"}
    flag_open, flag_seen = resources(bundle, "Flag")
    assert "end" not in flag_open["period"] and flag_seen["period"]["end"] > flag_seen["period"]["start"]
    assert all(f["subject"]["reference"] == patient_url for f in (flag_open, flag_seen))


def test_the_same_record_has_the_same_name_in_every_download():
    assert sample_bundle()["entry"][2]["fullUrl"] == sample_bundle(now=NOW + timedelta(days=1))["entry"][2]["fullUrl"]


def test_an_empty_diary_is_a_valid_bundle_with_the_patient_and_the_questionnaire():
    bundle = sample_bundle(infusions=[], checkins=[], flags=[])
    Bundle.model_validate(bundle)
    assert fhir.resource_counts(bundle) == {"Patient": 1, "Questionnaire": 1}


# CSV

def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def sample_checkins():
    return [
        exports.CsvCheckin(END + timedelta(hours=2), 3, END, 6, {"dizziness": 2}, True,
                           "-2 mood, café", "unsaid"),
        exports.CsvCheckin(END - timedelta(minutes=15), 3, END, 5, {}, False, "=1+2", "no"),
        exports.CsvCheckin(END + timedelta(hours=3), 3, END, 7, {}, True, "@SUM(A1)\n+x", None),
    ]


def test_csv_has_a_header_and_one_row_per_check_in_oldest_first():
    rows = csv_rows(exports.diary_csv(sample_checkins(), ZONE, with_safety=True))
    assert rows[0] == ["time", "hours_since_infusion_ended", "infusion_id", "mood",
                       *catalogue.CODES, "safety", "shared", "note"]
    assert [row[0] for row in rows[1:]] == ["2026-03-10T09:25:00-04:00",
                                             "2026-03-10T11:40:00-04:00",
                                             "2026-03-10T12:40:00-04:00"]
    during = dict(zip(rows[0], rows[1]))
    assert during["hours_since_infusion_ended"] == "-0.25" and during["shared"] == "no"
    assert dict(zip(rows[0], rows[2]))["dizziness"] == "2"


def test_csv_cells_that_look_like_formulas_are_inert_and_numbers_stay_numbers():
    text = exports.diary_csv(sample_checkins(), ZONE, with_safety=True)
    notes = [row[-1] for row in csv_rows(text)[1:]]
    assert notes == ["'=1+2", "'-2 mood, café", "'@SUM(A1)\n+x"]
    assert "\r\n-0.25" not in text and ",-0.25," in text  # a negative number is not escaped
    assert all(exports.inert(s).startswith("'") for s in ("=x", "+x", "-x", "@x", "\tx", "\rx"))
    assert exports.inert("fine =x") == "fine =x"


def test_csv_without_the_safety_column():
    rows = csv_rows(exports.diary_csv(sample_checkins(), ZONE, with_safety=False))
    assert "safety" not in rows[0] and len(rows[1]) == len(rows[0])


def test_an_empty_diary_is_the_header_only():
    assert exports.diary_csv([], ZONE, with_safety=False) == ",".join(
        exports.csv_header(False)) + "\r\n"


def test_everything_zip_holds_the_files_as_utf8():
    data = exports.everything_zip({"a.csv": "x,é\r\n", "b.json": "{}"}, NOW, ZONE)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["a.csv", "b.json"]
    assert archive.read("a.csv").decode("utf-8") == "x,é\r\n"
    assert archive.getinfo("a.csv").date_time[:3] == (2026, 3, 12)
