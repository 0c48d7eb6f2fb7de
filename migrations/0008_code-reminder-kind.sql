-- Up Migration
-- A reminder about an unused code is a message kind of its own: it says different things from the
-- general "please act" reminder, and staff edit its texts apart. Reminders made from a code pool so
-- far become code reminders. Forward-only.
ALTER TABLE campaigns DROP CONSTRAINT campaigns_kind_check;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_kind_check
  CHECK (kind IN ('initial_notice', 'update', 'reminder', 'code_offer', 'code_reminder'));
UPDATE campaigns c SET kind = 'code_reminder'
  FROM code_campaigns cc WHERE cc.campaign_id = c.id AND cc.purpose = 'reminder' AND c.kind = 'reminder';
