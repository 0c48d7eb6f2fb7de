-- Up Migration
-- Issue 16 item 1: email sent in batches of up to 1,000 per SendGrid request. Forward-only.

-- The batch job a message was queued in by the fan-out (null: it has, or had, a job of its own). The
-- reconciler reads it to tell a message a live batch job holds from one Redis lost.
ALTER TABLE messages ADD COLUMN batch_job text;
-- Claimed by a batch request. A stale `sending` message claimed so is never taken again blindly: its
-- request may have reached the provider with up to 999 others, so it becomes `unknown` and the
-- provider is asked first (src/campaigns/reconcile.ts).
ALTER TABLE messages ADD COLUMN claimed_by_batch boolean NOT NULL DEFAULT false;
