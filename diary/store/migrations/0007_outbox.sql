-- Outbound alerts that are never lost: every e-mail or webhook call is first a row in the outbox,
-- written in the same transaction as the flag (or event) that causes it. A sender claims due rows
-- for a short lease, delivers them, and marks them delivered only after the server took them;
-- each try is a row in outbox_attempts. dedupe_key makes a second row for one flag event and one
-- recipient impossible.

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    kind TEXT NOT NULL,  -- diary.rules.alerts.KINDS; unchecked here, so a new kind needs no rebuild
    recipient_id INTEGER REFERENCES users (id),
    patient_id INTEGER REFERENCES users (id),
    flag_id INTEGER REFERENCES flags (id),
    flag_event_id INTEGER REFERENCES flag_events (id),
    payload TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    claimed_until TEXT,
    claimed_by TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'cancelled', 'gave_up')),
    finished_at TEXT,
    last_error TEXT,
    CHECK ((channel = 'email') = (recipient_id IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_digest ON outbox (recipient_id, kind, due_at) WHERE channel = 'email';
CREATE INDEX outbox_by_flag ON outbox (flag_id);

-- One row per try: when it started and ended, how it went ('sent', 'failed', 'cancelled'), and
-- the error. An attempt with no outcome is one whose sender stopped mid-way (kill -9, power cut).
CREATE TABLE outbox_attempts (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    claim TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT CHECK (outcome IN ('sent', 'failed', 'cancelled')),
    error TEXT
);
CREATE INDEX outbox_attempts_by_row ON outbox_attempts (outbox_id, started_at);
CREATE INDEX outbox_attempts_by_claim ON outbox_attempts (claim);

-- "E-mail me about flags": on unless the clinician turns it off.
ALTER TABLE users ADD COLUMN email_flags INTEGER NOT NULL DEFAULT 1 CHECK (email_flags IN (0, 1));
