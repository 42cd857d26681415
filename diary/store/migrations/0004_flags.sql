-- The safety question, flags kept in step with every write, their history, and per-patient thresholds.

ALTER TABLE checkins ADD COLUMN safety TEXT CHECK (safety IN ('no', 'yes', 'unsaid'));

DROP VIEW live_checkins;
CREATE VIEW live_checkins AS
    SELECT id, infusion_id, patient_id, at, mood, note, note_private, shared, safety,
           created_at, updated_at
    FROM checkins WHERE deleted_at IS NULL;

CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    infusion_id INTEGER NOT NULL REFERENCES infusions (id),
    patient_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('lasting', 'severe', 'low_mood', 'safety')),
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
    UNIQUE (infusion_id, kind, symptom)
);
CREATE INDEX flags_by_patient ON flags (patient_id, state);
CREATE INDEX flags_open_queue ON flags (state, urgent, latest_at);

CREATE TABLE flag_events (
    id INTEGER PRIMARY KEY,
    flag_id INTEGER NOT NULL REFERENCES flags (id),
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    event TEXT NOT NULL CHECK (event IN ('raised', 'updated', 'withdrawn', 'acknowledged', 'reopened')),
    note TEXT
);
CREATE INDEX flag_events_by_flag ON flag_events (flag_id, at);

CREATE TABLE thresholds (
    patient_id INTEGER NOT NULL REFERENCES users (id),
    symptom TEXT NOT NULL,
    hours INTEGER NOT NULL CHECK (hours BETWEEN 1 AND 48),
    set_by INTEGER NOT NULL REFERENCES users (id),
    set_at TEXT NOT NULL,
    PRIMARY KEY (patient_id, symptom)
) WITHOUT ROWID;
