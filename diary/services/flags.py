"""Flags in the database, kept in step with the diary inside the same transaction as each write.

The rules themselves are diary.rules.flags (pure); this module loads their input, stores their output,
and keeps each flag's history: raised, updated, withdrawn, acknowledged, reopened.
"""

from ..rules import catalogue, clock, flags
from ..rules.errors import FieldError
from ..rules.schedule import InfusionWindow
from ..store import audit
from ..store import care_team as care_store
from ..store import entries as entries_store
from ..store import flags as store
from ..store.db import write
from . import alerts


class FlagError(FieldError):
    """A threshold or acknowledgement that cannot be saved as given."""


def _patient_thresholds(patient_id: int, conn) -> dict[str, int]:
    return flags.thresholds_by_symptom(store.thresholds_of_patient(patient_id, conn))


def _values(flag: flags.Flag) -> dict:
    return {
        "first_checkin_id": flag.first_checkin_id, "latest_checkin_id": flag.latest_checkin_id,
        "first_at": clock.to_db(flag.first_at), "latest_at": clock.to_db(flag.latest_at),
        "hour": flag.hour, "peak_severity": flag.peak_severity,
        "latest_severity": flag.latest_severity, "latest_mood": flag.latest_mood,
        "flag_after_hours": flag.flag_after_hours,
    }


def recompute(tx, infusion_id: int) -> None:
    """Bring one infusion's flags in line with its check-ins; call inside the write's transaction.

    A flag raised or reopened queues its alerts (services.alerts) in this same transaction."""
    infusion = entries_store.infusion_even_deleted(tx, infusion_id)
    current: dict = {}
    if infusion["deleted_at"] is None:
        end = InfusionWindow.of(infusion).end
        severities = entries_store.symptoms_of_infusion(infusion_id)
        facts = [flags.checkin_facts(row, severities.get(row["id"], {}))
                 for row in entries_store.checkins_of_infusion(infusion_id)]
        current = flags.evaluate(end, facts, _patient_thresholds(infusion["patient_id"], tx))
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
            alerts.queue_flag_alerts(tx, flag_id=flag_id, patient_id=infusion["patient_id"],
                                     urgent=flag.urgent, event="raised", at=now)
            continue
        state, event = _next_state(row, flag)
        if event or _values(flag) != {column: row[column] for column in store.FLAG_COLUMNS}:
            store.update_flag(tx, row["id"], state=state, values=_values(flag), at=now)
            store.add_event(tx, row["id"], event or "updated", now)
            if event == "reopened":
                alerts.queue_flag_alerts(tx, flag_id=row["id"], patient_id=row["patient_id"],
                                         urgent=bool(row["urgent"]), event=event, at=now)
    for key, row in existing.items():
        if key not in current and _may_withdraw(row):
            store.set_state(tx, row["id"], "withdrawn", now)
            store.add_event(tx, row["id"], "withdrawn", now)
    care_store.refresh_care_lists(tx, infusion["patient_id"])


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
        if InfusionWindow.of(infusion).is_editable(now):
            recompute(tx, infusion["id"])


def acknowledge(clinician_id: int, flag_row, note: str, note_for_patient: bool = False) -> bool:
    note = catalogue.plain_line_breaks(note)
    if len(note) > flags.ACKNOWLEDGE_NOTE_MAX_LENGTH:
        raise FlagError("note", flags.ACKNOWLEDGE_NOTE_TOO_LONG)
    now = clock.to_db(clock.now())
    with write() as tx:
        done = store.acknowledge(tx, flag_row["id"], by=clinician_id, note=note.strip() or None,
                                 note_for_patient=note_for_patient and bool(note.strip()), at=now)
        if done:
            store.add_event(tx, flag_row["id"], "acknowledged", now, clinician_id,
                            note.strip() or None)
            care_store.refresh_care_lists(tx, flag_row["patient_id"])
        audit.record("flag_acknowledged", "ok" if done else "not_open", at=clock.db_now(), actor_id=clinician_id,
                     patient_id=flag_row["patient_id"], subject=f"flag:{flag_row['id']}", conn=tx)
    return done


def reopen(clinician_id: int, flag_row) -> bool:
    """"Reopen": undo an acknowledgement made in the last 24 hours; the flag is open again."""
    now = clock.now()
    with write() as tx:
        done = store.reopen(tx, flag_row["id"], at=clock.to_db(now),
                            acknowledged_since=clock.to_db(now - flags.REOPEN_WITHIN))
        if done:
            store.add_event(tx, flag_row["id"], "reopened", clock.to_db(now), clinician_id)
            care_store.refresh_care_lists(tx, flag_row["patient_id"])
        audit.record("flag_reopened", "ok" if done else "not_reopenable", at=clock.to_db(now),
                     actor_id=clinician_id, patient_id=flag_row["patient_id"],
                     subject=f"flag:{flag_row['id']}", conn=tx)
    return done


def set_threshold(clinician_id: int, patient_id: int, symptom: str, hours) -> None:
    if not catalogue.is_symptom(symptom):
        raise FlagError("symptom", "Choose a symptom from the list.")
    if not flags.is_threshold(hours):
        raise FlagError("hours", flags.THRESHOLD_PROBLEM)
    with write() as tx:
        store.set_threshold(tx, patient_id=patient_id, symptom=symptom, hours=hours,
                            set_by=clinician_id, at=clock.to_db(clock.now()))
        recompute_patient(tx, patient_id)
        audit.record("threshold_set", "ok", at=clock.db_now(), actor_id=clinician_id, patient_id=patient_id,
                     subject=f"{symptom}:{hours}", conn=tx)


def reset_threshold(clinician_id: int, patient_id: int, symptom: str) -> None:
    if not catalogue.is_symptom(symptom):
        raise FlagError("symptom", "Choose a symptom from the list.")
    with write() as tx:
        store.clear_threshold(tx, patient_id, symptom)
        recompute_patient(tx, patient_id)
        audit.record("threshold_reset", "ok", at=clock.db_now(), actor_id=clinician_id, patient_id=patient_id,
                     subject=symptom, conn=tx)


