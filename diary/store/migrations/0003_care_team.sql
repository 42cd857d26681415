-- The care team: invitations by one-time link, memberships that can end, and private notes.

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('clinician', 'caregiver', 'enrolment')),
    created_by INTEGER NOT NULL REFERENCES users (id),
    patient_id INTEGER REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    accepted_by INTEGER REFERENCES users (id),
    revoked_at TEXT,
    CHECK ((kind = 'enrolment') = (patient_id IS NULL))
);
CREATE INDEX invitations_by_patient ON invitations (patient_id, created_at);
CREATE INDEX invitations_by_creator ON invitations (created_by, created_at);

CREATE TABLE care_team (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES users (id),
    member_id INTEGER NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('clinician', 'caregiver')),
    invitation_id INTEGER REFERENCES invitations (id),
    since TEXT NOT NULL,
    ended_at TEXT,
    ended_by INTEGER REFERENCES users (id),
    CHECK (patient_id != member_id)
);
CREATE UNIQUE INDEX care_team_one_active ON care_team (patient_id, member_id) WHERE ended_at IS NULL;
CREATE INDEX care_team_by_member ON care_team (member_id, ended_at);
CREATE INDEX care_team_by_patient ON care_team (patient_id, ended_at);

ALTER TABLE checkins ADD COLUMN note_private INTEGER NOT NULL DEFAULT 0 CHECK (note_private IN (0, 1));

DROP VIEW live_checkins;
CREATE VIEW live_checkins AS
    SELECT id, infusion_id, patient_id, at, mood, note, note_private, shared, created_at, updated_at
    FROM checkins WHERE deleted_at IS NULL;
