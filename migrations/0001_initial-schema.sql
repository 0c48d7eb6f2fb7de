-- Up Migration
-- Forward-only: a change to a table is a new migration, never an edit of this one.
-- Personal data lives only in *_enc columns (AES-256-GCM, key id on each value, see src/platform/vault.ts)
-- and is found through *_hash columns (HMAC-SHA256 with a separate key).

CREATE TABLE staff (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email_hash bytea NOT NULL UNIQUE,
  email_enc text NOT NULL,
  display_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'editor', 'approver', 'agent', 'viewer')),
  password_hash text,
  totp_secret_enc text,
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

CREATE TABLE incidents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  organisation_name text NOT NULL,
  state text NOT NULL DEFAULT 'investigating'
    CHECK (state IN ('investigating', 'contained', 'notifying', 'monitoring', 'resolved')),
  default_locale text NOT NULL DEFAULT 'en',
  data_types text[] NOT NULL DEFAULT '{}',
  -- { "<locale>": { "title", "whatHappened", "whatData", "whatWeDid", "whatYouShouldDo", "howToGetHelp" } }
  texts jsonb NOT NULL DEFAULT '{}',
  -- { "<locale>": "<helpline phone number>" }
  helplines jsonb NOT NULL DEFAULT '{}',
  discovered_at timestamptz,
  published_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incident_updates (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  -- { "<locale>": { "title", "body" } }
  texts jsonb NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_updates_timeline ON incident_updates (incident_id, published_at DESC);

CREATE TABLE people (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  -- Keyed hash of the normalized primary contact: a second import row for the same contact merges.
  dedupe_hash bytea NOT NULL,
  reference_hash bytea NOT NULL UNIQUE,
  reference_enc text NOT NULL,
  email_hash bytea,
  phone_hash bytea,
  postal_code_hash bytea,
  birth_year_hash bytea,
  name_enc text,
  email_enc text,
  phone_enc text,
  postal_address_enc text,
  locale text NOT NULL DEFAULT 'en',
  preferred_channel text CHECK (preferred_channel IN ('email', 'sms', 'voice', 'letter')),
  accessibility_needs text[] NOT NULL DEFAULT '{}',
  country text,
  region text,
  time_zone text,
  segment text,
  exposed_data_types text[] NOT NULL DEFAULT '{}',
  affected boolean NOT NULL DEFAULT true,
  subscribed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, dedupe_hash)
);
CREATE INDEX people_by_email ON people (incident_id, email_hash) WHERE email_hash IS NOT NULL;
CREATE INDEX people_by_phone ON people (incident_id, phone_hash) WHERE phone_hash IS NOT NULL;

CREATE TABLE campaigns (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  update_id bigint REFERENCES incident_updates (id),
  kind text NOT NULL CHECK (kind IN ('initial_notice', 'update', 'reminder', 'code_offer')),
  audience text NOT NULL CHECK (audience IN ('affected', 'everyone', 'subscribers', 'not_reached', 'failed')),
  -- { "order": ["email", "sms", "voice", "letter"] }: the fallback order after the person's own needs and preference
  channel_policy jsonb NOT NULL,
  status text NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'awaiting_approval', 'approved', 'rejected', 'sending', 'paused', 'completed', 'cancelled')),
  created_by bigint REFERENCES staff (id),
  approved_by bigint REFERENCES staff (id),
  review_note text,
  scheduled_for timestamptz,
  -- Fan-out resumes from here after a crash: the highest person id already turned into messages.
  fanout_cursor bigint NOT NULL DEFAULT 0,
  fanout_completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  approved_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  CONSTRAINT four_eyes CHECK (approved_by IS NULL OR approved_by IS DISTINCT FROM created_by)
);

CREATE TABLE messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  campaign_id bigint NOT NULL REFERENCES campaigns (id),
  person_id bigint NOT NULL REFERENCES people (id),
  -- 1 for the first channel tried; each fallback to another channel is the next attempt.
  attempt smallint NOT NULL DEFAULT 1,
  -- NULL when we hold no contact detail that any channel can use: recorded as failed, never silently skipped.
  channel text CHECK (channel IN ('email', 'sms', 'voice', 'letter')),
  locale text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN (
    'queued', 'sending', 'sent', 'delivered', 'answered',
    'bounced', 'failed', 'undelivered', 'no_answer', 'busy', 'cancelled')),
  status_reason text,
  provider text,
  provider_message_id text,
  -- Not before this time (calling hours, provider back-off).
  send_after timestamptz,
  tries smallint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  sending_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  failed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (campaign_id, person_id, attempt)
);
CREATE INDEX messages_by_campaign_status ON messages (campaign_id, status);
CREATE INDEX messages_by_person ON messages (person_id);
CREATE INDEX messages_by_provider_id ON messages (provider, provider_message_id) WHERE provider_message_id IS NOT NULL;
-- The reconciler scans only what should be in flight.
CREATE INDEX messages_in_flight ON messages (id) WHERE status IN ('queued', 'sending');

-- Append-only record of every verified provider event, raw (encrypted: it names the recipient).
CREATE TABLE delivery_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider text NOT NULL,
  provider_event_id text NOT NULL,
  message_id bigint,
  event text NOT NULL,
  status text,
  occurred_at timestamptz,
  received_at timestamptz NOT NULL DEFAULT now(),
  payload_enc text NOT NULL,
  UNIQUE (provider, provider_event_id)
);
CREATE INDEX delivery_events_by_message ON delivery_events (message_id);

-- What the sandbox provider "sent", for the staff outbox and the demo.
CREATE TABLE sandbox_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id bigint NOT NULL,
  channel text NOT NULL,
  recipient_enc text NOT NULL,
  content_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_outbox_by_message ON sandbox_outbox (message_id);
