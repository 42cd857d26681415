"""SQL for the outbox of alerts, its delivery attempts, and the "E-mail me about flags" setting.

Claiming is the one place that depends on SQLite: the caller holds a BEGIN IMMEDIATE write, so
selecting due rows and stamping them with a lease happen under the database's single write lock
and two senders cannot claim one row. On PostgreSQL the same two statements become one
`UPDATE outbox ... WHERE id IN (SELECT id ... FOR UPDATE SKIP LOCKED) RETURNING *`.
"""

import json

from .db import get_db

DUE = ("state = 'pending' AND next_attempt_at <= :now"
       " AND (claimed_until IS NULL OR claimed_until <= :now)")
"""A row a sender may claim now: not finished, its wait over, and nobody's lease on it."""

URGENT_FIRST = "CASE kind WHEN 'lasting_flag' THEN 1 ELSE 0 END, next_attempt_at, id"

SAME_EMAIL = {"urgent_flag": "next_attempt_at", "lasting_flag": "due_at"}
"""E-mail kinds that gather rows into one e-mail, and the time at which a row may join."""


# Queueing, inside the transaction of the flag or event


def latest_flag_event_id(conn, flag_id: int) -> int | None:
    """The event just added for this flag (the caller's transaction added it)."""
    return conn.execute("SELECT max(id) FROM flag_events WHERE flag_id = ?",
                        (flag_id,)).fetchone()[0]


def clinicians_of_patient(conn, patient_id: int):
    """Every clinician in the patient's care team today, with their e-mail setting."""
    return conn.execute(
        "SELECT users.id, users.email_flags FROM care_team"
        " JOIN users ON users.id = care_team.member_id"
        " WHERE care_team.patient_id = ? AND care_team.role = 'clinician'"
        " AND care_team.ended_at IS NULL ORDER BY users.id",
        (patient_id,),
    ).fetchall()


def caregivers_to_tell(conn, patient_id: int):
    """The patient's caregivers today, when the patient chose to tell them of alerts."""
    return conn.execute(
        "SELECT members.id FROM care_team JOIN users AS members ON members.id = care_team.member_id"
        " JOIN users AS patients ON patients.id = care_team.patient_id"
        " WHERE care_team.patient_id = ? AND care_team.role = 'caregiver'"
        " AND care_team.ended_at IS NULL AND patients.tell_caregivers = 1 ORDER BY members.id",
        (patient_id,),
    ).fetchall()


def enqueue(conn, *, dedupe_key: str, channel: str, kind: str, recipient_id=None,
            patient_id=None, flag_id=None, flag_event_id=None, payload: dict | None = None,
            created_at: str, due_at: str, next_attempt_at: str) -> int | None:
    """A new row, or None when one with this key exists already (the same event queued twice)."""
    cursor = conn.execute(
        "INSERT INTO outbox (dedupe_key, channel, kind, recipient_id, patient_id, flag_id,"
        " flag_event_id, payload, created_at, due_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        (dedupe_key, channel, kind, recipient_id, patient_id, flag_id, flag_event_id,
         json.dumps(payload or {}, sort_keys=True), created_at, due_at, next_attempt_at),
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


def last_digest_slot(conn, recipient_id: int, now: str):
    """The newest digest slot of this clinician: its time, whether anything in it is finished or
    leased, when it finished, and its latest planned attempt; None before the first."""
    return conn.execute(
        "SELECT due_at, max(state != 'pending') AS finished,"
        " max(claimed_until IS NOT NULL AND claimed_until > :now) AS leased,"
        " max(finished_at) AS finished_at, max(next_attempt_at) AS next_attempt_at"
        " FROM outbox WHERE channel = 'email' AND kind = 'lasting_flag'"
        " AND recipient_id = :recipient AND due_at = (SELECT max(due_at) FROM outbox"
        " WHERE channel = 'email' AND kind = 'lasting_flag' AND recipient_id = :recipient)"
        " GROUP BY due_at",
        {"recipient": recipient_id, "now": now},
    ).fetchone()


# Claiming, inside a BEGIN IMMEDIATE write


def anything_due(conn, channels, now: str) -> bool:
    """A cheap read before taking the write lock, so an idle sender never blocks the web app."""
    return conn.execute(
        f"SELECT 1 FROM outbox WHERE {DUE} AND channel IN (SELECT value FROM json_each(:channels))"
        " LIMIT 1",
        {"now": now, "channels": json.dumps(list(channels))},
    ).fetchone() is not None


def claim_due(conn, *, channels, now: str, lease_until: str, claim: str, limit: int):
    """Stamp up to `limit` due rows (urgent first) with this claim's lease, and start an attempt
    for each; returns them. An e-mail row brings along the rows that go in the same e-mail: for
    an urgent flag, the other due urgent flags of the same patient for the same clinician; for a
    lasting flag, every lasting flag of that clinician whose digest slot has come."""
    ids = [row["id"] for row in conn.execute(
        f"SELECT id FROM outbox WHERE {DUE}"
        " AND channel IN (SELECT value FROM json_each(:channels))"
        f" ORDER BY {URGENT_FIRST} LIMIT :limit",
        {"now": now, "channels": json.dumps(list(channels)), "limit": limit},
    )]
    claimed = _stamp(conn, ids, now=now, lease_until=lease_until, claim=claim)
    groups = sorted({(row["kind"], row["recipient_id"],
                      row["patient_id"] if row["kind"] == "urgent_flag" else None)
                     for row in claimed
                     if row["channel"] == "email" and row["kind"] in SAME_EMAIL})
    for kind, recipient_id, patient_id in groups:
        siblings = [row["id"] for row in conn.execute(
            "SELECT id FROM outbox WHERE state = 'pending' AND channel = 'email' AND kind = :kind"
            " AND recipient_id = :recipient AND (:patient IS NULL OR patient_id = :patient)"
            f" AND {SAME_EMAIL[kind]} <= :now"
            " AND (claimed_until IS NULL OR claimed_until <= :now)",
            {"kind": kind, "recipient": recipient_id, "patient": patient_id, "now": now},
        )]
        claimed += _stamp(conn, siblings, now=now, lease_until=lease_until, claim=claim)
    return claimed


def claim_one(conn, outbox_id: int, *, now: str, lease_until: str, claim: str):
    """This one row, if it is pending and nobody holds it, whatever its wait; else None."""
    found = conn.execute(
        "SELECT id FROM outbox WHERE id = :id AND state = 'pending'"
        " AND (claimed_until IS NULL OR claimed_until <= :now)",
        {"id": outbox_id, "now": now},
    ).fetchone()
    rows = _stamp(conn, [found["id"]] if found else [], now=now, lease_until=lease_until,
                  claim=claim)
    return rows[0] if rows else None


def _stamp(conn, ids, *, now: str, lease_until: str, claim: str) -> list:
    if not ids:
        return []
    rows = conn.execute(
        "UPDATE outbox SET claimed_until = :until, claimed_by = :claim, attempts = attempts + 1"
        " WHERE id IN (SELECT value FROM json_each(:ids)) RETURNING *",
        {"until": lease_until, "claim": claim, "ids": json.dumps(ids)},
    ).fetchall()
    conn.execute(
        "INSERT INTO outbox_attempts (outbox_id, claim, started_at)"
        " SELECT value, :claim, :now FROM json_each(:ids)",
        {"claim": claim, "now": now, "ids": json.dumps(ids)},
    )
    return sorted(rows, key=lambda row: row["id"])


# Finishing an attempt


def mark_delivered(conn, ids, *, claim: str, at: str, scrub: bool = False) -> list[int]:
    """Delivered, even if the lease ran out meanwhile (the server has it); returns the rows that
    were still pending, so a row already delivered by another sender is not counted twice."""
    done = [row["id"] for row in conn.execute(
        "UPDATE outbox SET state = 'delivered', finished_at = :at, claimed_until = NULL,"
        " last_error = NULL, payload = CASE WHEN :scrub THEN '{}' ELSE payload END"
        " WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'pending' RETURNING id",
        {"at": at, "ids": json.dumps(list(ids)), "scrub": scrub},
    )]
    _end_attempts(conn, ids, claim=claim, at=at, outcome="sent", error=None)
    return done


def mark_failed(conn, ids, *, claim: str, at: str, error: str, next_attempt_at: str,
                give_up: bool = False, scrub: bool = False) -> None:
    """Free the rows for another try at next_attempt_at (or stop trying), unless another sender
    claimed them after our lease ran out: then they are theirs."""
    conn.execute(
        "UPDATE outbox SET claimed_until = NULL, last_error = :error,"
        " next_attempt_at = :next, state = CASE WHEN :give_up THEN 'gave_up' ELSE state END,"
        " finished_at = CASE WHEN :give_up THEN :at ELSE finished_at END,"
        " payload = CASE WHEN :give_up AND :scrub THEN '{}' ELSE payload END"
        " WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'pending'"
        " AND claimed_by = :claim",
        {"error": error, "next": next_attempt_at, "give_up": give_up, "at": at, "scrub": scrub,
         "ids": json.dumps(list(ids)), "claim": claim},
    )
    _end_attempts(conn, ids, claim=claim, at=at, outcome="failed", error=error)


def mark_cancelled(conn, ids, *, claim: str, at: str, reason: str) -> None:
    """Not sent on purpose (the clinician left the care team, turned e-mail off, the flag was
    already seen, the channel is no longer configured)."""
    conn.execute(
        "UPDATE outbox SET state = 'cancelled', finished_at = :at, claimed_until = NULL,"
        " last_error = :reason, payload = '{}'"
        " WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'pending'",
        {"at": at, "reason": reason, "ids": json.dumps(list(ids))},
    )
    _end_attempts(conn, ids, claim=claim, at=at, outcome="cancelled", error=reason)


def _end_attempts(conn, ids, *, claim: str, at: str, outcome: str, error: str | None) -> None:
    conn.execute(
        "UPDATE outbox_attempts SET finished_at = :at, outcome = :outcome, error = :error"
        " WHERE claim = :claim AND finished_at IS NULL"
        " AND outbox_id IN (SELECT value FROM json_each(:ids))",
        {"at": at, "outcome": outcome, "error": error, "claim": claim,
         "ids": json.dumps(list(ids))},
    )


# What a delivery needs to know


def recipients(conn, user_ids):
    """id, email, role and e-mail setting of each of these users."""
    return conn.execute(
        "SELECT id, email, role, email_flags FROM users"
        " WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(set(user_ids))),),
    ).fetchall()


def patient_names(conn, patient_ids) -> dict[int, str]:
    return {row["id"]: row["name"] for row in conn.execute(
        "SELECT id, name FROM users WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(set(patient_ids))),),
    )}


def active_clinician_pairs(conn, pairs) -> set[tuple[int, int]]:
    """Which of these (patient, clinician) pairs are still in a care team today."""
    wanted = set(pairs)
    return {(row["patient_id"], row["member_id"]) for row in conn.execute(
        "SELECT patient_id, member_id FROM care_team WHERE role = 'clinician'"
        " AND ended_at IS NULL AND member_id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted({member for _, member in wanted})),),
    )} & wanted


def flag_states(conn, flag_ids) -> dict[int, str]:
    return {row["id"]: row["state"] for row in conn.execute(
        "SELECT id, state FROM flags WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(set(flag_ids))),),
    )}


def notification(conn, outbox_id: int):
    return conn.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)).fetchone()


def attempts_of(conn, outbox_id: int):
    return conn.execute(
        "SELECT * FROM outbox_attempts WHERE outbox_id = ? ORDER BY started_at, id",
        (outbox_id,),
    ).fetchall()


# "E-mail me about flags"


def email_flags(user_id: int, conn=None) -> bool | None:
    row = (conn or get_db()).execute("SELECT email_flags FROM users WHERE id = ?",
                                     (user_id,)).fetchone()
    return None if row is None else bool(row["email_flags"])


def set_email_flags(conn, user_id: int, on: bool) -> bool:
    return conn.execute("UPDATE users SET email_flags = ? WHERE id = ?",
                        (int(on), user_id)).rowcount == 1
