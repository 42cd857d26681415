-- A patient's own phone kept signed in, passkeys for every role, and answers kept when a
-- session ended before Save.

-- "Keep me signed in on this phone": only the hash of the cookie's random token is kept, with
-- a fingerprint of the password's hash it was given under (a stolen cookie dies with the
-- password) and the browser it was given to, for the list on Settings.
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    password_mark TEXT NOT NULL,
    browser TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    ended_at TEXT,
    ended_why TEXT
);
CREATE INDEX devices_by_user ON devices (user_id, ended_at);

-- The sessions a remembered phone began: they end with it.
ALTER TABLE sessions ADD COLUMN device_id INTEGER REFERENCES devices (id);
CREATE INDEX sessions_by_device ON sessions (device_id) WHERE device_id IS NOT NULL;

-- WebAuthn credentials: the public key only; the private key never leaves the authenticator.
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    credential_id TEXT NOT NULL UNIQUE,
    public_key BLOB NOT NULL,
    sign_count INTEGER NOT NULL DEFAULT 0,
    user_handle TEXT NOT NULL,
    transports TEXT NOT NULL DEFAULT '[]',
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);
CREATE INDEX passkeys_by_handle ON passkeys (user_handle);

-- Each challenge is answered once: a replayed response finds its challenge here.
CREATE TABLE passkey_challenges_used (
    challenge_hash TEXT PRIMARY KEY,
    used_at TEXT NOT NULL
);
CREATE INDEX passkey_challenges_by_time ON passkey_challenges_used (used_at);

-- A check-in or infusion form sent after its session ended: kept for its browser and its
-- person for 2 hours, never in the diary until they press Save again.
CREATE TABLE kept_answers (
    id INTEGER PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    path TEXT NOT NULL,
    fields TEXT NOT NULL,
    kept_at TEXT NOT NULL,
    UNIQUE (browser_hash, user_id, path)
);
CREATE INDEX kept_answers_by_time ON kept_answers (kept_at);
