-- Up Migration
-- Conversations, not broadcasts (issue 14): people answer back by SMS and email, staff answer them.
-- Forward-only.

-- A number that texted STOP (or its equivalent in one of our languages): no SMS goes to it until it
-- texts START. Found by the keyed hash of the number (vault purpose 'phone'), never the number. It
-- belongs to the number, not to an incident, and outlives retention: a carrier opt-out must.
CREATE TABLE sms_opt_outs (
  phone_hash bytea PRIMARY KEY,
  -- The word they sent, as we read it (e.g. 'stop', 'arret'): what staff and an auditor see.
  keyword text NOT NULL,
  opted_out_at timestamptz NOT NULL
);

-- Replies land in the support queue beside the portal's callbacks and messages.
ALTER TABLE support_requests DROP CONSTRAINT support_requests_kind_check;
ALTER TABLE support_requests ADD CONSTRAINT support_requests_kind_check
  CHECK (kind IN ('callback', 'message', 'sms_reply', 'email_reply'));
-- A reply from a number or an address we hold for nobody belongs to no incident: filed unmatched.
ALTER TABLE support_requests ALTER COLUMN incident_id DROP NOT NULL;
ALTER TABLE support_requests
  -- email_reply: the subject line, sealed.
  ADD COLUMN subject_enc text,
  -- email_reply: attachments are never kept; how many were dropped, so staff can ask for them.
  ADD COLUMN attachments_dropped integer NOT NULL DEFAULT 0,
  -- A hash of the provider's id for the reply (Twilio MessageSid, the email's Message-ID): a
  -- provider's retry of the same reply files nothing new.
  ADD COLUMN inbound_ref bytea,
  ADD CONSTRAINT sms_reply_has_sender CHECK (kind <> 'sms_reply' OR (phone_enc IS NOT NULL AND message_enc IS NOT NULL)),
  ADD CONSTRAINT email_reply_has_sender CHECK (kind <> 'email_reply' OR (reply_email_enc IS NOT NULL AND message_enc IS NOT NULL)),
  ADD CONSTRAINT replies_belong_to_an_incident CHECK (incident_id IS NOT NULL OR kind IN ('sms_reply', 'email_reply'));
CREATE UNIQUE INDEX support_requests_inbound_ref ON support_requests (inbound_ref) WHERE inbound_ref IS NOT NULL;
CREATE INDEX support_requests_unmatched ON support_requests (created_at) WHERE incident_id IS NULL;

-- Staff answers, sent over the channel the person wrote on. The row exists before its job (which
-- carries only its id); the status is the claim gate: only a queued answer is sent, once.
CREATE TABLE support_replies (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  support_request_id bigint NOT NULL REFERENCES support_requests (id),
  staff_id bigint REFERENCES staff (id),
  channel text NOT NULL CHECK (channel IN ('email', 'sms')),
  locale text NOT NULL,
  -- The words sent, sealed.
  body_enc text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  provider text,
  provider_message_id text,
  error text,
  created_at timestamptz NOT NULL,
  sending_at timestamptz,
  sent_at timestamptz
);
CREATE INDEX support_replies_by_request ON support_replies (support_request_id, id);

-- A reply names a number or an address, not an incident: people are found by the keyed hash alone.
-- The same columns, hash first, still serve the per-incident lookups the old order served.
DROP INDEX people_by_email;
DROP INDEX people_by_phone;
CREATE INDEX people_by_email ON people (email_hash, incident_id) WHERE email_hash IS NOT NULL;
CREATE INDEX people_by_phone ON people (phone_hash, incident_id) WHERE phone_hash IS NOT NULL;
