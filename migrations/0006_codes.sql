-- Up Migration
-- Credit-monitoring and goodwill codes (DESIGN C4): pools per incident, the codes in them, who got
-- which, redemption, stock alerts, and which campaigns offer or remind about a pool.
-- Forward-only, like every migration. Codes are secrets: only sealed (code_enc) and keyed-hashed
-- (code_hash, for duplicates and redemption look-ups), never in clear.

CREATE TABLE code_pools (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id),
  kind text NOT NULL CHECK (kind IN (
    'credit_monitoring', 'identity_protection', 'discount', 'gift_certificate', 'membership_upgrade')),
  -- What staff call it ("Experian IdentityWorks, 24 months"); shown to people too.
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  vendor_name text NOT NULL CHECK (length(vendor_name) BETWEEN 1 AND 200),
  -- Where a person enrols or spends the code; {code} is replaced by their code, URL-encoded.
  enrollment_url_template text,
  -- { "<locale>": "how to use the code" }
  instructions jsonb NOT NULL DEFAULT '{}',
  -- The last day a person can enrol or use the code, inclusive.
  enroll_by date,
  eligibility text NOT NULL DEFAULT 'affected' CHECK (eligibility IN ('affected', 'everyone', 'data_types')),
  -- With eligibility 'data_types': a person qualifies when any of their exposed types is listed.
  eligible_data_types text[] NOT NULL DEFAULT '{}',
  -- Whether the code-offer message carries the code itself or a link to reveal it on the personal page.
  offer_mode text NOT NULL DEFAULT 'reveal_link' CHECK (offer_mode IN ('reveal_link', 'code_in_message')),
  low_stock_threshold integer NOT NULL DEFAULT 20 CHECK (low_stock_threshold >= 0),
  -- The most severe stock alert raised since the pool was last replenished: one warning per level, not
  -- one per reveal. An upload that brings stock back above the threshold clears it.
  stock_alert_level text CHECK (stock_alert_level IN ('low', 'empty')),
  created_by bigint REFERENCES staff (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT data_types_need_a_list CHECK (eligibility <> 'data_types' OR cardinality(eligible_data_types) > 0)
);
CREATE INDEX code_pools_by_incident ON code_pools (incident_id);

CREATE TABLE code_uploads (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pool_id bigint NOT NULL REFERENCES code_pools (id),
  uploaded_by bigint REFERENCES staff (id),
  -- 'console', 'api' or 'cli'
  source text NOT NULL,
  code_count integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE codes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pool_id bigint NOT NULL REFERENCES code_pools (id),
  upload_id bigint REFERENCES code_uploads (id),
  code_hash bytea NOT NULL,
  code_enc text NOT NULL,
  person_id bigint REFERENCES people (id),
  assigned_at timestamptz,
  -- The person followed the link to the vendor's enrollment page (first time only).
  enrollment_started_at timestamptz,
  redeemed_at timestamptz,
  redeemed_via text CHECK (redeemed_via IN ('staff', 'api')),
  redeemed_by bigint REFERENCES staff (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Never the same code twice in a pool.
  CONSTRAINT codes_unique_in_pool UNIQUE (pool_id, code_hash),
  -- Never two codes of one pool to one person, whatever the application does (NULLs do not collide).
  CONSTRAINT codes_one_per_person UNIQUE (pool_id, person_id),
  CONSTRAINT codes_assigned_together CHECK ((person_id IS NULL) = (assigned_at IS NULL)),
  CONSTRAINT codes_redeemed_when_assigned CHECK (redeemed_at IS NULL OR person_id IS NOT NULL)
);
-- Assignment takes the lowest free code: this keeps that look-up small however many are given out.
CREATE INDEX codes_free ON codes (pool_id, id) WHERE person_id IS NULL;
CREATE INDEX codes_by_person ON codes (person_id) WHERE person_id IS NOT NULL;

-- One row each time a pool crosses into low or empty stock; the admins' email is sent from it.
CREATE TABLE code_stock_alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pool_id bigint NOT NULL REFERENCES code_pools (id),
  level text NOT NULL CHECK (level IN ('low', 'empty')),
  available integer NOT NULL,
  raised_at timestamptz NOT NULL DEFAULT now(),
  admins_emailed integer NOT NULL DEFAULT 0
);
CREATE INDEX code_stock_alerts_by_pool ON code_stock_alerts (pool_id, raised_at DESC);

-- Campaigns about a pool: the offer (to everyone eligible) and reminders (to those offered a code who
-- have not redeemed it, before the enroll-by date). The campaign's own audience still applies; the
-- fan-out narrows it with the filter in src/codes/audience.ts.
CREATE TABLE code_campaigns (
  campaign_id bigint PRIMARY KEY REFERENCES campaigns (id),
  pool_id bigint NOT NULL REFERENCES code_pools (id),
  purpose text NOT NULL CHECK (purpose IN ('offer', 'reminder')),
  days_before integer CHECK (days_before > 0)
);
CREATE INDEX code_campaigns_by_pool ON code_campaigns (pool_id);
