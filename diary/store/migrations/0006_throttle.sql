-- The throttle forgets a key a day after its last failure unless it is still blocked, so
-- anonymous guesses cannot grow the table without bound. Rows already there start their day now.

ALTER TABLE signin_throttle ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE signin_throttle SET updated_at = datetime('now');
CREATE INDEX signin_throttle_by_age ON signin_throttle (updated_at);
