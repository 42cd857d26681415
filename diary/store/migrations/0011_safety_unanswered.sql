-- A new flag kind, 'safety_unanswered': "I'd rather not say" to the safety question, a non-urgent
-- flag for a person to follow up. flags.kind is CHECKed, and SQLite cannot change a CHECK in
-- place, so the table is rebuilt: copied aside, dropped, made again with the new CHECK, and
-- filled back with every row and id as they were, then its indexes made again.
--
-- flag_events and outbox refer to flags (id). Foreign keys stay on (the runner migrates inside a
-- transaction, where they cannot be turned off), so they are checked at COMMIT instead
-- (defer_foreign_keys): dropping the table leaves those references dangling for a moment, and
-- putting the same ids back mends every one of them before the transaction ends. A row that
-- would still dangle fails the COMMIT and leaves the database as it was.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE flags_before_rebuild AS SELECT * FROM flags;

DROP TABLE flags;

CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    infusion_id INTEGER NOT NULL REFERENCES infusions (id),
    patient_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL
        CHECK (kind IN ('lasting', 'severe', 'low_mood', 'safety', 'safety_unanswered')),
    symptom TEXT NOT NULL DEFAULT '',
    urgent INTEGER NOT NULL CHECK (urgent IN (0, 1)),
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'withdrawn')),
    first_checkin_id INTEGER REFERENCES checkins (id),
    latest_checkin_id INTEGER REFERENCES checkins (id),
    first_at TEXT NOT NULL,
    latest_at TEXT NOT NULL,
    hour INTEGER NOT NULL,
    peak_severity INTEGER,
    latest_severity INTEGER,
    latest_mood INTEGER,
    flag_after_hours INTEGER,
    raised_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by INTEGER REFERENCES users (id),
    acknowledged_note TEXT,
    acknowledged_latest_at TEXT,
    acknowledged_peak_severity INTEGER,
    note_for_patient INTEGER NOT NULL DEFAULT 0 CHECK (note_for_patient IN (0, 1)),
    UNIQUE (infusion_id, kind, symptom)
);

INSERT INTO flags (id, infusion_id, patient_id, kind, symptom, urgent, state, first_checkin_id,
                   latest_checkin_id, first_at, latest_at, hour, peak_severity, latest_severity,
                   latest_mood, flag_after_hours, raised_at, updated_at, acknowledged_at,
                   acknowledged_by, acknowledged_note, acknowledged_latest_at,
                   acknowledged_peak_severity, note_for_patient)
    SELECT id, infusion_id, patient_id, kind, symptom, urgent, state, first_checkin_id,
           latest_checkin_id, first_at, latest_at, hour, peak_severity, latest_severity,
           latest_mood, flag_after_hours, raised_at, updated_at, acknowledged_at,
           acknowledged_by, acknowledged_note, acknowledged_latest_at,
           acknowledged_peak_severity, note_for_patient
    FROM flags_before_rebuild ORDER BY id;

DROP TABLE flags_before_rebuild;

CREATE INDEX flags_by_patient ON flags (patient_id, state);
CREATE INDEX flags_open_queue ON flags (state, urgent, latest_at);
