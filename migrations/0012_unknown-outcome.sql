-- Up Migration
-- A provider call that timed out leaves its message 'unknown': the provider is asked before any
-- resend. And a message still 'sent' long after it went out is looked up at the provider, because
-- a lost status callback is never posted again.

ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN (
  'queued', 'sending', 'unknown', 'sent', 'delivered', 'answered',
  'bounced', 'failed', 'undelivered', 'no_answer', 'busy', 'cancelled'));

ALTER TABLE messages
  -- When the outcome became unknown: the lookup waits for the provider's index to settle, and a
  -- provider with no lookup waits out a longer window before sending again.
  ADD COLUMN unknown_at timestamptz,
  -- Sends made again after an unknown outcome the provider had no record of (or could not be asked):
  -- counted on the campaign page, because each may have reached the person twice.
  ADD COLUMN resends smallint NOT NULL DEFAULT 0,
  -- Last time the provider was asked about this message, so a sweep does not ask again every run.
  ADD COLUMN provider_checked_at timestamptz;

-- The in-flight index covers 'unknown' too: it is live until the provider has been asked.
DROP INDEX messages_in_flight;
CREATE INDEX messages_in_flight ON messages (id) WHERE status IN ('queued', 'sending', 'unknown');
CREATE INDEX messages_unknown ON messages (unknown_at) WHERE status = 'unknown';
-- The sweep over messages whose receipt never came: never asked first, then the longest unasked.
CREATE INDEX messages_awaiting_receipt ON messages (provider_checked_at NULLS FIRST, sent_at) WHERE status = 'sent';
CREATE INDEX messages_resent ON messages (campaign_id) WHERE resends > 0;
