-- Up Migration
-- Campaigns that reach everyone: fallback bookkeeping, live progress counters, pause/cancel stamps,
-- and an audience for incident updates (subscribers plus everyone affected).

ALTER TABLE campaigns DROP CONSTRAINT campaigns_audience_check;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_audience_check CHECK (audience IN (
  'affected', 'everyone', 'subscribers', 'subscribers_and_affected', 'not_reached', 'failed'));

ALTER TABLE campaigns
  -- People the fan-out turned into first messages (grows page by page; a repeated page adds nothing).
  ADD COLUMN audience_size integer NOT NULL DEFAULT 0,
  -- People for whom every channel was tried and failed, or who have no usable contact at all.
  ADD COLUMN exhausted_count integer NOT NULL DEFAULT 0,
  ADD COLUMN paused_at timestamptz,
  ADD COLUMN cancelled_at timestamptz;

-- What happened after a message failed: 'next' (the next channel's message exists) or 'exhausted'
-- (no channel left). NULL on a failed message means the fallback is still to be planned: the
-- reconciler finishes it if the process planning it died.
ALTER TABLE messages ADD COLUMN fallback text CHECK (fallback IN ('next', 'exhausted'));
CREATE INDEX messages_fallback_pending ON messages (id)
  WHERE fallback IS NULL AND status IN ('bounced', 'failed', 'undelivered', 'no_answer', 'busy');
CREATE INDEX messages_stale_sending ON messages (sending_at) WHERE status = 'sending';

-- Live progress without counting the messages table: one row per campaign, channel, status and
-- shard, kept by statement triggers. Shards (message id mod 8) spread the hot rows so concurrent
-- sends do not queue on one counter; readers sum at most a few hundred rows.
CREATE TABLE campaign_message_counts (
  campaign_id bigint NOT NULL REFERENCES campaigns (id),
  channel text NOT NULL,
  status text NOT NULL,
  shard smallint NOT NULL,
  n bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign_id, channel, status, shard)
);

-- Rows are upserted in key order, so two statements never wait on each other's counters in a circle.
CREATE FUNCTION count_inserted_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_message_counts AS c (campaign_id, channel, status, shard, n)
  SELECT campaign_id, COALESCE(channel, 'none'), status, (id % 8)::smallint, count(*)
  FROM inserted GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (campaign_id, channel, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE FUNCTION count_updated_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO campaign_message_counts AS c (campaign_id, channel, status, shard, n)
  SELECT campaign_id, channel, status, shard, sum(delta)
  FROM (
    SELECT o.campaign_id, COALESCE(o.channel, 'none') AS channel, o.status, (o.id % 8)::smallint AS shard, -1 AS delta
    FROM before_rows o JOIN after_rows n ON n.id = o.id WHERE n.status IS DISTINCT FROM o.status
    UNION ALL
    SELECT n.campaign_id, COALESCE(n.channel, 'none'), n.status, (n.id % 8)::smallint, 1
    FROM before_rows o JOIN after_rows n ON n.id = o.id WHERE n.status IS DISTINCT FROM o.status
  ) AS changes
  GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT (campaign_id, channel, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_count_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION count_inserted_messages();
CREATE TRIGGER messages_count_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
  FOR EACH STATEMENT EXECUTE FUNCTION count_updated_messages();

-- Messages written before this migration start counted.
INSERT INTO campaign_message_counts (campaign_id, channel, status, shard, n)
SELECT campaign_id, COALESCE(channel, 'none'), status, (id % 8)::smallint, count(*)
FROM messages GROUP BY 1, 2, 3, 4;
