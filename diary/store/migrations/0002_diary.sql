-- Infusions, check-ins with one row per symptom, and the revisions of every changed check-in.
-- Deletions are soft (deleted_at) so that the earlier values stay in the database.

CREATE TABLE infusions (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES users (id),
    started_at TEXT NOT NULL,
    length_minutes INTEGER NOT NULL CHECK (length_minutes BETWEEN 5 AND 240),
    ends_at TEXT NOT NULL,
    accepts_until TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX infusions_by_patient ON infusions (patient_id, started_at);

CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    infusion_id INTEGER NOT NULL REFERENCES infusions (id),
    patient_id INTEGER NOT NULL REFERENCES users (id),
    at TEXT NOT NULL,
    mood INTEGER NOT NULL CHECK (mood BETWEEN 0 AND 10),
    note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    shared INTEGER NOT NULL CHECK (shared IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX checkins_by_infusion ON checkins (infusion_id, at);
CREATE INDEX checkins_by_patient ON checkins (patient_id, at);

CREATE TABLE checkin_symptoms (
    checkin_id INTEGER NOT NULL REFERENCES checkins (id),
    symptom TEXT NOT NULL,
    severity INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),
    PRIMARY KEY (checkin_id, symptom)
) WITHOUT ROWID;

CREATE TABLE checkin_revisions (
    id INTEGER PRIMARY KEY,
    checkin_id INTEGER NOT NULL REFERENCES checkins (id),
    revised_at TEXT NOT NULL,
    revised_by INTEGER NOT NULL REFERENCES users (id),
    action TEXT NOT NULL CHECK (action IN ('edit', 'delete')),
    previous TEXT NOT NULL
);
CREATE INDEX checkin_revisions_by_checkin ON checkin_revisions (checkin_id, revised_at);

-- What the app reads: only the rows that were not deleted.
CREATE VIEW live_infusions AS
    SELECT id, patient_id, started_at, length_minutes, ends_at, accepts_until, note,
           created_at, updated_at
    FROM infusions WHERE deleted_at IS NULL;

CREATE VIEW live_checkins AS
    SELECT id, infusion_id, patient_id, at, mood, note, shared, created_at, updated_at
    FROM checkins WHERE deleted_at IS NULL;
