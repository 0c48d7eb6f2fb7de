-- Up Migration
-- The public pages as last published: each publish renders the status page, its Atom feed and the
-- index for every locale and stores the bytes here (with gzip and brotli made once). This is the
-- record; web processes serve copies of it from memory and Redis, so the page stays up while this
-- database is down. One row per URL path and locale; a publish rewrites its rows in one transaction
-- under one version number from the sequence, so a copy can tell whether it is behind.
-- Forward-only.
CREATE SEQUENCE status_snapshot_versions;

CREATE TABLE status_documents (
  path text NOT NULL,
  locale text NOT NULL,
  -- null for the index of published incidents
  incident_id bigint REFERENCES incidents (id) ON DELETE CASCADE,
  version bigint NOT NULL,
  status smallint NOT NULL CHECK (status IN (200, 303)),
  location text,
  content_type text NOT NULL,
  etag text NOT NULL,
  body bytea NOT NULL,
  body_gzip bytea NOT NULL,
  body_br bytea NOT NULL,
  published_at timestamptz NOT NULL,
  PRIMARY KEY (path, locale)
);

CREATE INDEX status_documents_version ON status_documents (version);
