-- Up Migration
-- Issue 15 item 5. Forward-only.

-- A letter is printed when it is in a batch PDF staff download; marking the batch posted posts only
-- the letters that were printed, not a letter filed after the download (a later fallback).
ALTER TABLE letters ADD COLUMN printed_at timestamptz;

-- The offending value of an import problem, as the console shows it: contact details and names masked
-- (j•••@e•••.com), so the error list never holds a person's details in clear.
ALTER TABLE import_errors ADD COLUMN shown_value text;
COMMENT ON COLUMN import_errors.line IS 'The row as a spreadsheet numbers it: the header is row 1, a record with a quoted line break is one row.';
