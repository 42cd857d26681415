-- A check-in form carries a one-time key: the same submission sent twice (a double tap, two
-- tabs, a retry after a network error) finds the check-in already saved instead of a second one.

ALTER TABLE checkins ADD COLUMN submission_key TEXT;
CREATE UNIQUE INDEX checkins_by_submission ON checkins (patient_id, submission_key)
    WHERE submission_key IS NOT NULL;

-- Refused invitation links are audited once an hour per address, not once per request.
CREATE INDEX audit_by_action ON audit (action, outcome, address, at);
