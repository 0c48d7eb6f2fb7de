-- Up Migration
-- Retention: personal data is kept for RETENTION_DAYS after an incident is resolved, then purged;
-- the proof-of-notice record (messages, reference codes, countries) stays. resolved_at starts the
-- clock; personal_data_purged_at says when it ran. Forward-only.
ALTER TABLE incidents ADD COLUMN resolved_at timestamptz;
ALTER TABLE incidents ADD COLUMN personal_data_purged_at timestamptz;
UPDATE incidents SET resolved_at = updated_at WHERE state = 'resolved';
-- A purged provider event keeps what happened and when, not the raw payload that names the person.
ALTER TABLE delivery_events ALTER COLUMN payload_enc DROP NOT NULL;
