"""Records that leave the app as files, free of Flask: the diary as CSV, and the ZIP of
everything a patient takes to another clinic.

CSV: one row per check-in, oldest first; a header row; UTF-8 without a byte-order mark; RFC 4180
line endings. A text cell that a spreadsheet would read as a formula (starting with =, +, -, @,
a tab or a carriage return) gets a leading apostrophe; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from . import catalogue, clock

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class CsvCheckin:
    """One check-in as the CSV needs it; `safety` and `note` already as this reader may see them."""

    at: datetime
    infusion_id: int
    infusion_end: datetime
    mood: int
    severities: Mapping[str, int]
    shared: bool
    note: str | None
    safety: str | None = None


def csv_header(with_safety: bool) -> list[str]:
    return ["time", "hours_since_infusion_ended", "infusion_id", "mood", *catalogue.CODES,
            *(["safety"] if with_safety else []), "shared", "note"]


def diary_csv(checkins: Iterable[CsvCheckin], zone: str, with_safety: bool) -> str:
    """The diary as CSV text: times in ISO 8601 with the patient's own offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(with_safety))
    for checkin in sorted(checkins, key=lambda c: (c.at, c.infusion_id)):
        hours = (checkin.at - checkin.infusion_end).total_seconds() / 3600
        row = [clock.local(checkin.at, zone).isoformat(), f"{hours:.2f}", checkin.infusion_id,
               checkin.mood, *(int(checkin.severities.get(code) or 0) for code in catalogue.CODES)]
        if with_safety:
            row.append(inert(checkin.safety or ""))
        row += ["yes" if checkin.shared else "no", inert(checkin.note or "")]
        writer.writerow(row)
    return out.getvalue()


def table_csv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """Any other table (care team, who has seen the diary) with the same protections."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([inert(cell) if isinstance(cell, str) else cell for cell in row])
    return out.getvalue()


def iso(moment: datetime | None, zone: str) -> str:
    return clock.local(moment, zone).isoformat() if moment else ""


EVERYTHING_README = """Your infusion diary, as you downloaded it on {when}.

diary.csv          every check-in, one row each (open it in a spreadsheet)
diary.fhir.json    the same diary as a FHIR R4 Bundle, the format clinics exchange records in
care-team.csv      who has been in your care team, from when, and until when
who-has-seen.csv   every time someone other than you opened or downloaded your diary

Times are ISO 8601 in your time zone ({zone}).
"""


def everything_zip(files: Mapping[str, str], now: datetime, zone: str) -> bytes:
    """A ZIP of text files (name -> text), each UTF-8, compressed, dated `now` in the patient's
    zone (ZIP keeps wall-clock times)."""
    stamp = clock.local(now, zone).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return out.getvalue()
