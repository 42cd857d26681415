-- What a clinician's or caregiver's list sorts by, kept on each membership and brought up to
-- date in the same transaction as every write that changes it, so a page of the list is read
-- in index order instead of sorting the whole clinic. A caregiver's row counts shared check-ins
-- only and no flags, as they see them.

ALTER TABLE care_team ADD COLUMN urgent_flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE care_team ADD COLUMN open_flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE care_team ADD COLUMN last_checkin_at TEXT;
ALTER TABLE care_team ADD COLUMN checkin_count INTEGER NOT NULL DEFAULT 0;

UPDATE care_team SET
    urgent_flags = CASE role WHEN 'clinician' THEN (SELECT count(*) FROM flags
        WHERE flags.patient_id = care_team.patient_id AND state = 'open' AND urgent = 1) ELSE 0 END,
    open_flags = CASE role WHEN 'clinician' THEN (SELECT count(*) FROM flags
        WHERE flags.patient_id = care_team.patient_id AND state = 'open') ELSE 0 END,
    last_checkin_at = (SELECT max(at) FROM checkins WHERE checkins.patient_id = care_team.patient_id
        AND deleted_at IS NULL AND (shared = 1 OR care_team.role = 'clinician')),
    checkin_count = (SELECT count(*) FROM checkins WHERE checkins.patient_id = care_team.patient_id
        AND deleted_at IS NULL AND (shared = 1 OR care_team.role = 'clinician'));

CREATE INDEX care_team_list ON care_team
    (member_id, urgent_flags DESC, open_flags DESC, last_checkin_at DESC, patient_id)
    WHERE ended_at IS NULL;
