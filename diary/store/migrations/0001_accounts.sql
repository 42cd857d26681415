-- Accounts, server-side sessions, sign-in throttling, password resets and the audit trail.
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS', so they sort and compare as text.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('patient', 'clinician', 'caregiver')),
    password_hash TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    share_by_default INTEGER NOT NULL DEFAULT 1 CHECK (share_by_default IN (0, 1)),
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE signin_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    blocked_until TEXT
);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    action TEXT NOT NULL,
    patient_id INTEGER REFERENCES users (id),
    subject TEXT,
    outcome TEXT NOT NULL,
    address TEXT
);
CREATE INDEX audit_by_patient ON audit (patient_id, at);
CREATE INDEX audit_by_actor ON audit (actor_id, at);

CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit rows are never changed');
END;

CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit rows are never deleted');
END;
