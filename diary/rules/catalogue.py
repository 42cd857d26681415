"""The default symptom catalogue: what the diary asks, how long each effect usually lasts, and why.

Codes are stored in the database; labels and wording may change without touching stored data.
"Flag after" is the hour after the infusion's end from which a report at Mild or above is
"lasting longer than usual"; each is set beyond the time the sources give for the effect to settle.
"Settles within" is that time in hours, where the sources give one (the chart draws it as the
usual time to settle); its words in `settles` carry the same number, so the chart, the flag text
and the tables never disagree. Without timing data it is None and the words say so.
"""

from dataclasses import dataclass

SEVERITY_LABELS = ("None", "Mild", "Moderate", "Severe", "Very severe")
SEVERITY_NONE, SEVERITY_MILD, SEVERITY_VERY_SEVERE = 0, 1, 4
MOOD_MIN, MOOD_MAX = 0, 10
MOOD_PROBLEM = f"Choose your mood, from {MOOD_MIN} to {MOOD_MAX}."
CHECKIN_NOTE_MAX_LENGTH = 2000
"""Counted after plain_line_breaks, as the browser counts: a line break is one character."""
CHECKIN_NOTE_TOO_LONG = "Please keep the note under 2,000 characters."
MOOD_HINT = "0 = the worst I have felt, 10 = the best"

SOURCES = {
    "Short 2018": "Short et al., Side-effects associated with ketamine use in depression: "
                  "a systematic review. Lancet Psychiatry 2018;5:65-78.",
    "JJ-D": "Janssen medical information on Spravato (esketamine): dissociative effects and "
            "perceptual disturbances.",
    "JJ-S": "Janssen medical information on Spravato (esketamine): sedation and somnolence.",
    "JJ-NV": "Janssen medical information on Spravato (esketamine): nausea and vomiting.",
    "Label": "Spravato prescribing information (monitoring for at least 2 hours after a dose).",
    "Label-BP": "Spravato prescribing information: blood pressure peaks about 40 minutes after a "
                "dose and lasts about 4 hours.",
    "Szarmach": "Szarmach et al. 2020, Neuropsychiatric Disease and Treatment: blood pressure and "
                "heart rate after IV ketamine.",
    "Morrison": "Morrison et al. 2018, Psychopharmacology: cognition after esketamine 84 mg.",
    "Lahti": "Lahti et al.: ketamine in healthy and schizophrenic volunteers.",
    "KAP": "Ketamine clinic consent forms: balance and coordination effects typically last 2-4 hours.",
    "Clinic sheets": "Ketamine clinic discharge sheets: more tired than usual for a few hours; no "
                     "driving until the next day after a restful sleep.",
}


@dataclass(frozen=True)
class Symptom:
    code: str
    label: str
    settles: str
    flag_after_hours: int
    sources: tuple[str, ...]
    settles_within_hours: int | None = None
    """The upper end of the sources' usual time to settle; None where they give no timing."""

    @property
    def source_text(self) -> str:
        return " ".join(SOURCES[key] for key in self.sources)


SYMPTOMS = (
    Symptom("dissociation", "Feeling unreal, detached or floating",
            "usually settles within 1-2 hours", 4, ("JJ-D", "Label"), 2),
    Symptom("perception", "Seeing or hearing things that aren't there",
            "usually settles within about 1 hour", 4, ("Lahti", "JJ-D"), 1),
    Symptom("sleepiness", "Sleepy or hard to stay awake",
            "usually settles within 1-2 hours", 4, ("JJ-S",), 2),
    Symptom("fatigue", "Tired or low on energy",
            "usually settles after a night's sleep", 24, ("Clinic sheets", "Label")),
    Symptom("nausea", "Sick to my stomach",
            "usually settles within 1-2 hours", 6, ("JJ-NV",), 2),
    Symptom("vomiting", "Throwing up",
            "usually settles on the day of the infusion", 6, ("JJ-NV",)),
    Symptom("dizziness", "Dizzy or spinning",
            "usually settles within 2-4 hours", 6, ("KAP",), 4),
    Symptom("coordination", "Clumsy or unsteady on my feet",
            "usually settles within 2-4 hours", 6, ("KAP",), 4),
    Symptom("vision", "Blurry or double vision",
            "usually settles within 2-4 hours", 6, ("KAP",), 4),
    Symptom("thinking", "Hard to think clearly or find words",
            "usually settles within about 2 hours", 4, ("Morrison", "Label"), 2),
    Symptom("headache", "Headache",
            "usually settles on the day of the infusion", 12, ("Short 2018",)),
    Symptom("heart", "Heart pounding or racing",
            "usually settles within 1-2 hours", 4, ("Szarmach", "Label-BP"), 2),
    Symptom("anxiety", "Anxious, panicky or agitated",
            "usually settles within a few hours", 4, ("Short 2018",)),
    Symptom("high", "Unusually high, wired or euphoric",
            "usually settles within a few hours", 6, ("Label",)),
)

BY_CODE = {symptom.code: symptom for symptom in SYMPTOMS}
CODES = tuple(BY_CODE)


def symptom(code: str) -> Symptom:
    return BY_CODE[code]


def is_symptom(code: str) -> bool:
    return code in BY_CODE


def severity_label(value: int) -> str:
    return SEVERITY_LABELS[value]


def is_severity(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 4


def is_mood(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and MOOD_MIN <= value <= MOOD_MAX


def default_thresholds() -> dict[str, int]:
    return {symptom.code: symptom.flag_after_hours for symptom in SYMPTOMS}


def usual_settle_hours() -> dict[str, int]:
    """Each symptom's usual time to settle, in hours, where the sources give one."""
    return {symptom.code: symptom.settles_within_hours for symptom in SYMPTOMS
            if symptom.settles_within_hours is not None}


def plain_line_breaks(text: str) -> str:
    """Notes keep LF line breaks only, so the browser's count and the server's agree."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
