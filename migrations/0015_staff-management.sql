-- Up Migration
-- Staff management in the console (issue 15): invitations by one-time link, switching accounts off and
-- on, resetting an authenticator. Forward-only, like every migration.

-- Raised whenever an account's live sessions must end (switched off, authenticator reset). A session
-- carries the epoch it signed in under and is dropped on the next request once the two differ.
ALTER TABLE staff ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;
-- Whatever the role, this account signs in with an authenticator: set for invited accounts and after a
-- reset, so "enrol again at next sign-in" holds for an editor as much as for an admin.
ALTER TABLE staff ADD COLUMN totp_required boolean NOT NULL DEFAULT false;

-- An invitation is a link sent to one person: only a keyed hash of its token is kept, it expires, and
-- accepting it is a single UPDATE that sets accepted_at, so a link works once.
CREATE TABLE staff_invitations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email_hash bytea NOT NULL,
  email_enc text NOT NULL,
  display_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'editor', 'approver', 'agent', 'viewer')),
  token_hash bytea NOT NULL UNIQUE,
  invited_by bigint REFERENCES staff (id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_staff_id bigint REFERENCES staff (id),
  withdrawn_at timestamptz
);
-- At most one open invitation per address: inviting again withdraws the earlier link.
CREATE UNIQUE INDEX staff_invitations_one_open ON staff_invitations (email_hash)
  WHERE accepted_at IS NULL AND withdrawn_at IS NULL;
