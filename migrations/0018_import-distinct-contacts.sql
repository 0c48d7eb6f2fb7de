-- Up Migration
-- Issue 16 item 3. Forward-only.

-- Whether the import proved, while reading, that no two of its valid rows share a contact (their dedupe
-- hashes differ). Such a file going into an incident with nobody yet needs no de-duplication: its rows
-- are inserted as they are, without the sort and the conflict checks a merge does.
ALTER TABLE imports ADD COLUMN distinct_contacts boolean NOT NULL DEFAULT false;
