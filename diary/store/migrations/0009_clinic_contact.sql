-- The clinic on every help screen and the loop closed for the patient: a clinician's phone for
-- patients, a patient's choice to tell caregivers when the care team is alerted, and whether an
-- acknowledgement's note is shown to the patient.

ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 40);
ALTER TABLE users ADD COLUMN tell_caregivers INTEGER NOT NULL DEFAULT 0
    CHECK (tell_caregivers IN (0, 1));
ALTER TABLE flags ADD COLUMN note_for_patient INTEGER NOT NULL DEFAULT 0
    CHECK (note_for_patient IN (0, 1));
