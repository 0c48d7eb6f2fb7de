-- Up Migration
-- Channels: per-incident notice texts, update-email opt-outs, and printed letters.

-- Staff-written texts that replace a default from locales/<locale>/notices.json for one incident.
-- `key` is the locale-file key ("initial_notice.intro"); placeholders are checked before saving.
CREATE TABLE notice_templates (
  incident_id bigint NOT NULL REFERENCES incidents (id),
  locale text NOT NULL,
  key text NOT NULL CHECK (key ~ '^[a-z_]+\.[A-Za-z]+$'),
  text text NOT NULL,
  updated_by bigint REFERENCES staff (id),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, locale, key)
);

-- One-click unsubscribe from update emails (List-Unsubscribe). The first notice is a legal duty and
-- is sent regardless.
ALTER TABLE people ADD COLUMN updates_opted_out_at timestamptz;

-- A letter waiting to be printed: what it says and where it goes, encrypted like every personal value.
CREATE TABLE letters (
  message_id bigint PRIMARY KEY REFERENCES messages (id),
  campaign_id bigint NOT NULL REFERENCES campaigns (id),
  locale text NOT NULL,
  large_print boolean NOT NULL DEFAULT false,
  recipient_enc text NOT NULL,
  content_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  posted_at timestamptz
);
CREATE INDEX letters_by_campaign ON letters (campaign_id, message_id);

-- Staff download a campaign's letters as one PDF and mark the batch posted.
CREATE TABLE letter_batches (
  campaign_id bigint PRIMARY KEY REFERENCES campaigns (id),
  letters integer NOT NULL,
  envelope text NOT NULL CHECK (envelope IN ('DL', 'C5')),
  downloaded_at timestamptz NOT NULL DEFAULT now(),
  posted_at timestamptz,
  posted_by bigint REFERENCES staff (id)
);
