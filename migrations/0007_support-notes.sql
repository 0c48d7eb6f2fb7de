-- Up Migration
-- The staff side of the support queue: notes on each request (what was said on the callback, what
-- was answered). Sealed like every other free text that may hold personal data. Forward-only.
CREATE TABLE support_notes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  support_request_id bigint NOT NULL REFERENCES support_requests (id),
  staff_id bigint REFERENCES staff (id),
  note_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_notes_by_request ON support_notes (support_request_id, id);
