-- Up Migration
-- The public portal: access by email or phone (one-time codes), update subscriptions with double
-- opt-in, and support requests for the staff queue. Forward-only, like every migration.
-- Personal data only in *_enc columns (see src/platform/vault.ts); lookups through keyed *_hash columns.

-- One row per "send me a code" request, whether or not the contact is on file: the web side writes it
-- the same way either way, and the worker decides (status 'no_match' or 'matched' → 'sent').
CREATE TABLE access_requests (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Random and unguessable: it ties the browser's session (or the link in the message) to this request.
  public_id uuid NOT NULL UNIQUE,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  -- Keyed hash of the contact as typed, normalized; the contact itself is never stored here.
  contact_hash bytea NOT NULL,
  locale text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'no_match', 'matched', 'sent')),
  person_id bigint REFERENCES people (id),
  -- The one-time code: hashed to check it, sealed only so a retried send repeats the same code.
  code_hash bytea,
  code_enc text,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX access_requests_by_incident ON access_requests (incident_id, created_at);

-- "Tell me about updates" from someone who has not proved who they are: pending until they follow the
-- link sent to that address. Confirming marks (or creates, as not affected) the person on file, whose
-- subscribed_at is what the 'subscribers' campaign audience reads.
CREATE TABLE subscriptions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  channel text NOT NULL CHECK (channel IN ('email')),
  contact_hash bytea NOT NULL,
  contact_enc text NOT NULL,
  locale text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'confirmed', 'expired')),
  token_hash bytea UNIQUE,
  person_id bigint REFERENCES people (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  confirmed_at timestamptz
);
CREATE INDEX subscriptions_by_contact ON subscriptions (incident_id, contact_hash);

-- The staff support queue: callback requests and messages from the public portal.
CREATE TABLE support_requests (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  -- Set when the person had proved who they are (reference code or one-time code) when asking.
  person_id bigint REFERENCES people (id),
  kind text NOT NULL CHECK (kind IN ('callback', 'message')),
  -- callback: the number to call, E.164, sealed.
  phone_enc text,
  -- callback: 'morning' | 'afternoon' | 'evening' | 'any', in the person's own time zone.
  preferred_time text CHECK (preferred_time IN ('morning', 'afternoon', 'evening', 'any')),
  -- The language to call or answer in (a supported locale).
  locale text NOT NULL,
  -- message: what they wrote, sealed; optional name and reply address, sealed.
  message_enc text,
  name_enc text,
  reply_email_enc text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'closed')),
  assigned_to bigint REFERENCES staff (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  CONSTRAINT callback_has_phone CHECK (kind <> 'callback' OR (phone_enc IS NOT NULL AND preferred_time IS NOT NULL)),
  CONSTRAINT message_has_text CHECK (kind <> 'message' OR message_enc IS NOT NULL)
);
CREATE INDEX support_requests_queue ON support_requests (incident_id, status, created_at);
