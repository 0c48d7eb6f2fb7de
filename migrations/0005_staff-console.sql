-- Up Migration
-- The staff console and JSON API: second factor replay guard, API keys, the audit log, imports and the
-- response checklist. Forward-only, like every migration.

-- The last TOTP time step accepted for each staff member: a code is good once, even inside its 30 seconds.
ALTER TABLE staff ADD COLUMN totp_last_step bigint;
ALTER TABLE staff ADD COLUMN last_signed_in_at timestamptz;

-- API keys act as the staff member who made them, with a role no higher than theirs. Only a SHA-256 of
-- the key is kept (the key is 256 random bits, so a slow hash adds nothing); the prefix identifies it in lists.
CREATE TABLE api_keys (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  staff_id bigint NOT NULL REFERENCES staff (id),
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'editor', 'approver', 'agent', 'viewer')),
  prefix text NOT NULL UNIQUE,
  key_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

-- Every state-changing staff and API action. Holds ids and action names, never contact details.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  staff_id bigint REFERENCES staff (id),
  api_key_id bigint REFERENCES api_keys (id),
  action text NOT NULL,
  subject_type text,
  subject_id bigint,
  outcome text NOT NULL DEFAULT 'ok',
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_recent ON audit_log (at DESC);
CREATE INDEX audit_log_by_subject ON audit_log (subject_type, subject_id);

CREATE TABLE imports (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  created_by bigint REFERENCES staff (id),
  filename text,
  -- validating → (completed | needs_review → completed | discarded) ; failed when the file cannot be read at all
  status text NOT NULL DEFAULT 'validating'
    CHECK (status IN ('validating', 'needs_review', 'importing', 'completed', 'discarded', 'failed')),
  rows_processed integer NOT NULL DEFAULT 0,
  rows_valid integer NOT NULL DEFAULT 0,
  rows_invalid integer NOT NULL DEFAULT 0,
  people_created integer,
  people_merged integer,
  failure text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX imports_by_incident ON imports (incident_id, created_at DESC);

-- Line-numbered problems: the column and a reason code, never the value (it may be someone's contact).
CREATE TABLE import_errors (
  import_id bigint NOT NULL REFERENCES imports (id),
  line integer NOT NULL,
  column_name text,
  reason text NOT NULL
);
CREATE INDEX import_errors_by_import ON import_errors (import_id, line);

-- Valid rows, already normalized, hashed and encrypted, waiting for the all-or-nothing merge into
-- people. Unlogged: it is a scratch space an import can redo, and WAL would halve the import's speed.
CREATE UNLOGGED TABLE import_rows (
  import_id bigint NOT NULL,
  line integer NOT NULL,
  dedupe_hash bytea NOT NULL,
  reference_hash bytea NOT NULL,
  reference_enc text NOT NULL,
  email_hash bytea,
  phone_hash bytea,
  postal_code_hash bytea,
  birth_year_hash bytea,
  name_enc text,
  email_enc text,
  phone_enc text,
  postal_address_enc text,
  locale text NOT NULL,
  preferred_channel text,
  accessibility_needs text[] NOT NULL,
  country text,
  region text,
  time_zone text,
  segment text,
  exposed_data_types text[] NOT NULL,
  affected boolean NOT NULL
);
CREATE INDEX import_rows_by_import ON import_rows (import_id);

-- The response checklist: one row per step per incident, each with an owner, a due time and a status.
CREATE TABLE checklist_items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  step text NOT NULL,
  owner_staff_id bigint REFERENCES staff (id),
  due_at timestamptz,
  status text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done')),
  note text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, step)
);
