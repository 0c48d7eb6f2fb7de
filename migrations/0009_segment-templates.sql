-- Up Migration
-- Templates per segment (C6): an incident's text for one language may have a variant for a
-- sensitivity segment (e.g. `health` for gentler wording). '' is the text for everyone; a person in
-- a segment gets the segment's text where there is one, the everyone text otherwise. Forward-only.
ALTER TABLE notice_templates ADD COLUMN segment text NOT NULL DEFAULT ''
  CHECK (segment ~ '^[A-Za-z0-9_-]{0,50}$');
ALTER TABLE notice_templates DROP CONSTRAINT notice_templates_pkey;
ALTER TABLE notice_templates ADD PRIMARY KEY (incident_id, locale, segment, key);
