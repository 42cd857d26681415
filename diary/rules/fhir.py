"""A patient's diary as a FHIR R4 (4.0.1) Bundle of type `collection`, free of Flask.

Element names and codes follow the R4 specification (hl7.org/fhir/R4): Bundle (type, timestamp,
entry.fullUrl, entry.resource), Patient (identifier, name), Questionnaire (url, version, status,
subjectType, item: linkId, code, text, type, required, answerOption.valueInteger /
.valueCoding), QuestionnaireResponse (questionnaire, status, subject, partOf, authored,
item.answer.value[x]), Procedure (status, code, subject, performedPeriod, note) and Flag
(status, category, code, subject, period).

Entries are named by urn:uuid full URLs made from BASE_URL and the record's id (uuid5), so the
same record gets the same name in every download and references resolve inside the Bundle.
What a reader may not see (a caregiver: the safety answer, private notes, flags, the infusion
note) never reaches this module: it writes what it is handed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from . import catalogue, clock

QUESTIONNAIRE_PATH = "/fhir/Questionnaire/check-in"
QUESTIONNAIRE_VERSION = "1"
FLAG_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_CATEGORY = {
    "safety": ("safety", "Safety"),
    "low_mood": ("clinical", "Clinical"),
    "severe": ("clinical", "Clinical"),
    "lasting": ("clinical", "Clinical"),
    "safety_unanswered": ("safety", "Safety"),
}
FLAG_STATUS = {"open": "active", "acknowledged": "inactive", "withdrawn": "inactive"}
SAFETY_DISPLAY = {"no": "No", "yes": "Yes", "unsaid": "I'd rather not say"}


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class Infusion:
    id: int
    start: datetime
    end: datetime
    note: str | None = None


@dataclass(frozen=True)
class Checkin:
    id: int
    infusion_id: int
    at: datetime
    mood: int
    severities: Mapping[str, int]
    shared: bool
    note: str | None = None
    note_private: bool | None = None
    safety: str | None = None


@dataclass(frozen=True)
class FlagRecord:
    id: int
    kind: str
    state: str
    text: str
    raised_at: datetime
    ended_at: datetime | None


def systems(base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "questionnaire": base + QUESTIONNAIRE_PATH,
        "symptom": base + "/fhir/CodeSystem/symptom",
        "safety": base + "/fhir/CodeSystem/safety-answer",
        "flag": base + "/fhir/CodeSystem/flag-kind",
        "patient": base + "/fhir/identifier/patient",
        "infusion": base + "/fhir/identifier/infusion",
        "checkin": base + "/fhir/identifier/check-in",
        "flag_id": base + "/fhir/identifier/flag",
    }


def full_url(base_url: str, kind: str, record_id: int) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url.rstrip('/')}/{kind}/{record_id}"))


def questionnaire(base_url: str) -> dict:
    """The check-in form: mood 0-10, each symptom 0-4 by its code, the safety question, the note
    and whether it is shared."""
    names = systems(base_url)
    severity_words = ", ".join(f"{i} {label}" for i, label in enumerate(catalogue.SEVERITY_LABELS))
    items = [{
        "linkId": "mood", "text": f"Mood ({catalogue.MOOD_HINT})", "type": "integer",
        "required": True,
        "answerOption": [{"valueInteger": value}
                         for value in range(catalogue.MOOD_MIN, catalogue.MOOD_MAX + 1)],
    }]
    for symptom in catalogue.SYMPTOMS:
        items.append({
            "linkId": symptom.code,
            "code": [{"system": names["symptom"], "code": symptom.code, "display": symptom.label}],
            "text": f"{symptom.label} ({severity_words})", "type": "integer",
            "answerOption": [{"valueInteger": value} for value in range(len(catalogue.SEVERITY_LABELS))],
        })
    items += [
        {"linkId": "safety", "type": "choice",
         "text": "Since your last check-in, have you had thoughts of harming or killing yourself?",
         "answerOption": [{"valueCoding": {"system": names["safety"], "code": code, "display": text}}
                          for code, text in SAFETY_DISPLAY.items()]},
        {"linkId": "note", "text": "Note", "type": "text"},
        {"linkId": "note-private", "text": "Keep the note private from caregivers",
         "type": "boolean"},
        {"linkId": "shared", "text": "Shared with caregivers", "type": "boolean"},
    ]
    return {
        "resourceType": "Questionnaire", "id": "check-in", "url": names["questionnaire"],
        "version": QUESTIONNAIRE_VERSION, "name": "InfusionDiaryCheckIn",
        "title": "Infusion diary check-in", "status": "active", "subjectType": ["Patient"],
        "item": items,
    }


def bundle(*, base_url: str, patient: Person, infusions: Iterable[Infusion],
           checkins: Iterable[Checkin], flags: Iterable[FlagRecord], now: datetime,
           zone: str) -> dict:
    """The Bundle as JSON-ready data: times as ISO 8601 with the patient's own offset."""
    names = systems(base_url)

    def when(moment: datetime) -> str:
        return clock.local(moment, zone).isoformat()

    patient_url = full_url(base_url, "patient", patient.id)
    subject = {"reference": patient_url, "display": patient.name}
    entries = [(patient_url, {
        "resourceType": "Patient", "id": f"patient-{patient.id}",
        "identifier": [{"system": names["patient"], "value": str(patient.id)}],
        "name": [{"text": patient.name}],
    }), (names["questionnaire"], questionnaire(base_url))]
    for infusion in sorted(infusions, key=lambda i: (i.start, i.id)):
        procedure = {
            "resourceType": "Procedure", "id": f"infusion-{infusion.id}",
            "identifier": [{"system": names["infusion"], "value": str(infusion.id)}],
            "status": "completed" if now >= infusion.end else "in-progress",
            "code": {"text": "Ketamine infusion"}, "subject": subject,
            "performedPeriod": {"start": when(infusion.start), "end": when(infusion.end)},
        }
        if infusion.note:
            procedure["note"] = [{"text": infusion.note}]
        entries.append((full_url(base_url, "infusion", infusion.id), procedure))
    for checkin in sorted(checkins, key=lambda c: (c.at, c.id)):
        entries.append((full_url(base_url, "checkin", checkin.id),
                        _response(checkin, base_url, names, subject, when)))
    for flag in sorted(flags, key=lambda f: (f.raised_at, f.id)):
        entries.append((full_url(base_url, "flag", flag.id), _flag(flag, names, subject, when)))
    return {
        "resourceType": "Bundle", "type": "collection", "timestamp": when(now),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }


def _response(checkin: Checkin, base_url, names, subject, when) -> dict:
    items = [{"linkId": "mood", "answer": [{"valueInteger": checkin.mood}]}]
    for code in catalogue.CODES:
        items.append({"linkId": code,
                       "answer": [{"valueInteger": int(checkin.severities.get(code) or 0)}]})
    if checkin.safety in SAFETY_DISPLAY:
        items.append({"linkId": "safety", "answer": [{"valueCoding": {
            "system": names["safety"], "code": checkin.safety,
            "display": SAFETY_DISPLAY[checkin.safety]}}]})
    if checkin.note:
        items.append({"linkId": "note", "answer": [{"valueString": checkin.note}]})
    if checkin.note_private is not None:
        items.append({"linkId": "note-private", "answer": [{"valueBoolean": checkin.note_private}]})
    items.append({"linkId": "shared", "answer": [{"valueBoolean": checkin.shared}]})
    return {
        "resourceType": "QuestionnaireResponse", "id": f"check-in-{checkin.id}",
        "identifier": {"system": names["checkin"], "value": str(checkin.id)},
        "questionnaire": names["questionnaire"], "status": "completed", "subject": subject,
        "partOf": [{"reference": full_url(base_url, "infusion", checkin.infusion_id)}],
        "authored": when(checkin.at), "item": items,
    }


def _flag(flag: FlagRecord, names, subject, when) -> dict:
    code, display = FLAG_CATEGORY.get(flag.kind, ("clinical", "Clinical"))
    period = {"start": when(flag.raised_at)}
    status = FLAG_STATUS.get(flag.state, "inactive")
    if status == "inactive" and flag.ended_at:
        period["end"] = when(flag.ended_at)
    return {
        "resourceType": "Flag", "id": f"flag-{flag.id}",
        "identifier": [{"system": names["flag_id"], "value": str(flag.id)}],
        "status": status,
        "category": [{"coding": [{"system": FLAG_CATEGORY_SYSTEM, "code": code,
                                  "display": display}]}],
        "code": {"coding": [{"system": names["flag"], "code": flag.kind}], "text": flag.text},
        "subject": subject, "period": period,
    }


def resource_counts(data: Mapping) -> dict[str, int]:
    """How many resources of each type a Bundle holds."""
    counts: dict[str, int] = {}
    for entry in data.get("entry", ()):
        kind = entry["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def sorted_types(counts: Mapping[str, int]) -> Sequence[tuple[str, int]]:
    return sorted(counts.items())
