-- Up Migration
-- Each person hears once (DESIGN §3, issue 12): at most one live first notice per person per incident,
-- and one live code offer per person per pool, whatever code path writes the messages. Forward-only.
--
-- A person's notice in a campaign is several message rows (one per channel attempt), so the unit that
-- must be unique is not a message but "this campaign is telling this person": one claim row per
-- campaign and person. A claim is live while any of its messages is live, and is released when every
-- attempt failed with no channel left, or was cancelled: then "send again to people we failed to
-- reach" may claim the person anew. Updates, reminders and code reminders are deliberate re-sends
-- and take no claim.

CREATE TABLE notice_claims (
  campaign_id bigint NOT NULL REFERENCES campaigns (id),
  person_id bigint NOT NULL REFERENCES people (id),
  -- 'initial_notice' (one per person: a person belongs to one incident) or 'code_offer' (one per pool).
  kind text NOT NULL CHECK (kind IN ('initial_notice', 'code_offer')),
  pool_id bigint REFERENCES code_pools (id),
  claimed_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz,
  release_reason text,
  PRIMARY KEY (campaign_id, person_id)
);
-- The guarantee itself. A fan-out inserts claims with ON CONFLICT DO NOTHING and skips whoever it
-- could not claim; any other insert of a live first notice fails on this index (see the trigger).
CREATE UNIQUE INDEX notice_claims_one_live ON notice_claims (person_id, kind, COALESCE(pool_id, 0))
  WHERE released_at IS NULL;

-- Which claim a campaign's messages need: NULL for kinds that may be sent again.
CREATE VIEW campaign_claim_scopes AS
  SELECT c.id AS campaign_id, c.kind, cc.pool_id, c.status AS campaign_status
  FROM campaigns c LEFT JOIN code_campaigns cc ON cc.campaign_id = c.id
  WHERE c.kind IN ('initial_notice', 'code_offer');

-- A message that no longer tells the person anything: cancelled, or failed and followed up (by the
-- next channel's message, which is judged on its own, or by nothing left). A failure still waiting for
-- its follow-up is live, except in a cancelled campaign, which plans no follow-up.
CREATE FUNCTION message_is_dead(status text, fallback text, campaign_status text) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS $$
  SELECT status = 'cancelled'
      OR (status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy')
          AND (fallback IS NOT NULL OR campaign_status = 'cancelled'))
$$;

-- Existing data: the campaign that has already gone furthest keeps the person (then the oldest);
-- duplicates still queued in later campaigns are cancelled, because they are the double notices.
INSERT INTO notice_claims (campaign_id, person_id, kind, pool_id, claimed_at)
SELECT DISTINCT ON (person_id, kind, COALESCE(pool_id, 0)) campaign_id, person_id, kind, pool_id, claimed_at
FROM (
  SELECT m.campaign_id, m.person_id, s.kind, s.pool_id, min(m.created_at) AS claimed_at,
         bool_or(m.status <> 'queued') AS under_way
  FROM messages m JOIN campaign_claim_scopes s ON s.campaign_id = m.campaign_id
  WHERE NOT message_is_dead(m.status, m.fallback, s.campaign_status)
  GROUP BY 1, 2, 3, 4
) live
ORDER BY person_id, kind, COALESCE(pool_id, 0), under_way DESC, campaign_id;

UPDATE messages m SET status = 'cancelled', status_reason = 'already given this notice by another campaign',
  updated_at = now()
FROM campaign_claim_scopes s
WHERE s.campaign_id = m.campaign_id AND m.status = 'queued'
  AND NOT EXISTS (SELECT 1 FROM notice_claims n WHERE n.campaign_id = m.campaign_id AND n.person_id = m.person_id);

-- Any live first notice written without a claim takes one here; if another campaign holds the
-- person's live claim, the insert fails on notice_claims_one_live. A released claim of the same
-- campaign comes back to life with its new message (and fails the same way if taken meanwhile).
CREATE FUNCTION claim_inserted_notices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO notice_claims AS n (campaign_id, person_id, kind, pool_id)
  SELECT DISTINCT i.campaign_id, i.person_id, s.kind, s.pool_id
  FROM inserted i JOIN campaign_claim_scopes s ON s.campaign_id = i.campaign_id
  WHERE NOT message_is_dead(i.status, i.fallback, s.campaign_status)
  ORDER BY 1, 2
  ON CONFLICT (campaign_id, person_id) DO UPDATE SET released_at = NULL, release_reason = NULL
    WHERE n.released_at IS NOT NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_claim_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION claim_inserted_notices();

-- A claim is released in the statement that makes its last live message dead (the fallback marked
-- 'exhausted', a cancellation, a failure arriving after the campaign was cancelled). A row trigger
-- whose WHEN only passes failures and cancellations, because the send path updates statuses in
-- batches all day and must not pay for a statement trigger that has nothing to do.
CREATE FUNCTION release_dead_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE notice_claims n SET released_at = now(),
    release_reason = CASE WHEN NEW.status = 'cancelled' THEN 'cancelled' ELSE 'every channel failed' END
  WHERE n.campaign_id = NEW.campaign_id AND n.person_id = NEW.person_id AND n.released_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM messages m JOIN campaigns c ON c.id = m.campaign_id
      WHERE m.campaign_id = NEW.campaign_id AND m.person_id = NEW.person_id
        AND NOT message_is_dead(m.status, m.fallback, c.status));
  RETURN NULL;
END $$;

CREATE TRIGGER messages_claim_release AFTER UPDATE OF status, fallback ON messages FOR EACH ROW
  WHEN (NEW.status IN ('cancelled', 'bounced', 'failed', 'undelivered', 'no_answer', 'busy'))
  EXECUTE FUNCTION release_dead_notice();

-- People a fan-out left out because another campaign already holds their live notice.
ALTER TABLE campaigns ADD COLUMN skipped_count integer NOT NULL DEFAULT 0;
