"""Flags in the database, kept in step with the diary inside the same transaction as each write.

The rules themselves are diary.flags (pure); this module loads their input, stores their output,
and keeps each flag's history: raised, updated, withdrawn, acknowledged, reopened.
"""

from . import catalogue, clock, flags, schedule
from .db import write
from .errors import FieldError
from .store import audit
from .store import entries as entries_store
from .store import flags as store


class FlagError(FieldError):
    """A threshold or acknowledgement that cannot be saved as given."""


def checkin_facts(row, severities) -> flags.CheckinFacts:
    return flags.CheckinFacts(
        id=row["id"], at=clock.from_db(row["at"]), mood=row["mood"], safety=row["safety"],
        severities={code: value for code, value in severities.items()
                    if catalogue.is_symptom(code)},
    )


def patient_thresholds(patient_id: int, conn=None) -> dict[str, int]:
    return {row["symptom"]: row["hours"] for row in store.thresholds_of_patient(patient_id, conn)
            if catalogue.is_symptom(row["symptom"])}


def _values(flag: flags.Flag) -> dict:
    return {
        "first_checkin_id": flag.first_checkin_id, "latest_checkin_id": flag.latest_checkin_id,
        "first_at": clock.to_db(flag.first_at), "latest_at": clock.to_db(flag.latest_at),
        "hour": flag.hour, "peak_severity": flag.peak_severity,
        "latest_severity": flag.latest_severity, "latest_mood": flag.latest_mood,
        "flag_after_hours": flag.flag_after_hours,
    }


def recompute(tx, infusion_id: int) -> None:
    """Bring one infusion's flags in line with its check-ins; call inside the write's transaction."""
    infusion = entries_store.infusion_even_deleted(tx, infusion_id)
    current: dict = {}
    if infusion["deleted_at"] is None:
        end = schedule.infusion_end(clock.from_db(infusion["started_at"]),
                                    infusion["length_minutes"])
        severities = entries_store.symptoms_of_infusion(infusion_id)
        facts = [checkin_facts(row, severities.get(row["id"], {}))
                 for row in entries_store.checkins_of_infusion(infusion_id)]
        current = flags.evaluate(end, facts, patient_thresholds(infusion["patient_id"], tx))
    now = clock.to_db(clock.now())
    existing = {(row["kind"], row["symptom"] or None): row
                for row in store.flags_of_infusion(tx, infusion_id)}
    for key, flag in current.items():
        row = existing.get(key)
        if row is None:
            flag_id = store.insert_flag(tx, infusion_id=infusion_id,
                                        patient_id=infusion["patient_id"], kind=flag.kind,
                                        symptom=flag.symptom or "", urgent=flag.urgent,
                                        values=_values(flag), at=now)
            store.add_event(tx, flag_id, "raised", now)
            continue
        state, event = _next_state(row, flag)
        if event or _values(flag) != {column: row[column] for column in store.FLAG_COLUMNS}:
            store.update_flag(tx, row["id"], state=state, values=_values(flag), at=now)
            store.add_event(tx, row["id"], event or "updated", now)
    for key, row in existing.items():
        if key not in current and _may_withdraw(row):
            store.set_state(tx, row["id"], "withdrawn", now)
            store.add_event(tx, row["id"], "withdrawn", now)


def _may_withdraw(row) -> bool:
    """An urgent flag nobody has looked at stays open even if the patient changes the answer."""
    if row["state"] == "withdrawn":
        return False
    return not (row["urgent"] and row["state"] == "open")


def _next_state(row, flag: flags.Flag) -> tuple[str, str | None]:
    if row["state"] == "withdrawn":
        return "open", "reopened"
    if row["state"] == "acknowledged":
        seen = flags.AcknowledgedEvidence(clock.from_db(row["acknowledged_latest_at"]),
                                          row["acknowledged_peak_severity"])
        if flags.should_reopen(seen, flag):
            return "open", "reopened"
    return row["state"], None


def recompute_patient(tx, patient_id: int) -> None:
    """After a threshold change: infusions whose diary is closed keep the flags they had."""
    now = clock.now()
    for infusion in entries_store.infusions_of_patient(patient_id):
        if now <= schedule.editable_until(clock.from_db(infusion["started_at"]),
                                          infusion["length_minutes"]):
            recompute(tx, infusion["id"])


def raised_by(checkin_row, severities, infusion, thresholds) -> list[flags.Flag]:
    """What this one check-in says on its own: the patient is told at once, whatever else is open."""
    end = schedule.infusion_end(clock.from_db(infusion["started_at"]), infusion["length_minutes"])
    found = flags.evaluate(end, [checkin_facts(checkin_row, severities)], thresholds)
    return sorted(found.values(), key=lambda flag: flags.queue_order_key(flag.kind, flag.latest_at,
                                                                         flag.symptom))


def acknowledge(clinician_id: int, flag_row, note: str) -> bool:
    if len(note) > 500:
        raise FlagError("note", "Please keep the note under 500 characters.")
    now = clock.to_db(clock.now())
    with write() as tx:
        done = store.acknowledge(tx, flag_row["id"], by=clinician_id, note=note.strip() or None,
                                 at=now)
        if done:
            store.add_event(tx, flag_row["id"], "acknowledged", now, clinician_id,
                            note.strip() or None)
        audit.record("flag_acknowledged", "ok" if done else "not_open", actor_id=clinician_id,
                     patient_id=flag_row["patient_id"], subject=f"flag:{flag_row['id']}", conn=tx)
    return done


def set_threshold(clinician_id: int, patient_id: int, symptom: str, hours) -> None:
    if not catalogue.is_symptom(symptom):
        raise FlagError("symptom", "Choose a symptom from the list.")
    if not flags.is_threshold(hours):
        raise FlagError("hours", f"Enter a whole number of hours from {flags.THRESHOLD_MIN_HOURS} "
                                 f"to {flags.THRESHOLD_MAX_HOURS}.")
    with write() as tx:
        store.set_threshold(tx, patient_id=patient_id, symptom=symptom, hours=hours,
                            set_by=clinician_id, at=clock.to_db(clock.now()))
        recompute_patient(tx, patient_id)
        audit.record("threshold_set", "ok", actor_id=clinician_id, patient_id=patient_id,
                     subject=f"{symptom}:{hours}", conn=tx)


def reset_threshold(clinician_id: int, patient_id: int, symptom: str) -> None:
    if not catalogue.is_symptom(symptom):
        raise FlagError("symptom", "Choose a symptom from the list.")
    with write() as tx:
        store.clear_threshold(tx, patient_id, symptom)
        recompute_patient(tx, patient_id)
        audit.record("threshold_reset", "ok", actor_id=clinician_id, patient_id=patient_id,
                     subject=symptom, conn=tx)


def flag_from_row(row) -> flags.Flag:
    lasting = row["kind"] == flags.LASTING
    symptom = catalogue.symptom(row["symptom"]) if lasting else None
    return flags.Flag(
        kind=row["kind"], symptom=row["symptom"] or None,
        first_checkin_id=row["first_checkin_id"], latest_checkin_id=row["latest_checkin_id"],
        first_at=clock.from_db(row["first_at"]), latest_at=clock.from_db(row["latest_at"]),
        hour=row["hour"], peak_severity=row["peak_severity"],
        latest_severity=row["latest_severity"], latest_mood=row["latest_mood"],
        expected=symptom.settles if lasting else None,
        source=symptom.source_text if lasting else None,
        flag_after_hours=row["flag_after_hours"],
    )


KIND_LABELS = {
    flags.SAFETY: "Safety answer",
    flags.SEVERE: "Very severe symptom",
    flags.LOW_MOOD: "Very low mood",
    flags.LASTING: "Lasting longer than usual",
}


def queue(rows) -> list[dict]:
    """Open flags as the clinician reads them: urgent first, then the newest evidence first."""
    items = []
    for row in rows:
        flag = flag_from_row(row)
        items.append({"row": row, "flag": flag, "kind_label": KIND_LABELS[row["kind"]],
                      "evidence": flags.describe(flag)})
    items.sort(key=lambda item: flags.queue_order_key(item["flag"].kind, item["flag"].latest_at,
                                                      item["flag"].symptom))
    return items


def by_infusion(rows, events) -> dict[int, list[dict]]:
    """Each infusion's flags with their history, for the clinician's page of one patient."""
    history: dict[int, list] = {}
    for event in events:
        history.setdefault(event["flag_id"], []).append(event)
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        flag = flag_from_row(row)
        grouped.setdefault(row["infusion_id"], []).append({
            "row": row, "kind_label": KIND_LABELS[row["kind"]], "evidence": flags.describe(flag),
            "urgent": flag.urgent, "history": history.get(row["id"], []),
        })
    return grouped
