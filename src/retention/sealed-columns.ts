/**
 * Every column that holds a sealed value (src/platform/vault.ts), by table: what key rotation
 * rewrites. A new sealed column is added here, or rotation leaves it on the old key.
 */
export const SEALED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  staff: ['email_enc', 'totp_secret_enc'],
  staff_invitations: ['email_enc'],
  people: ['reference_enc', 'name_enc', 'email_enc', 'phone_enc', 'postal_address_enc'],
  import_rows: ['reference_enc', 'name_enc', 'email_enc', 'phone_enc', 'postal_address_enc'],
  delivery_events: ['payload_enc'],
  sandbox_outbox: ['recipient_enc', 'content_enc'],
  letters: ['recipient_enc', 'content_enc'],
  access_requests: ['code_enc'],
  subscriptions: ['contact_enc'],
  support_requests: ['phone_enc', 'message_enc', 'name_enc', 'reply_email_enc', 'subject_enc'],
  support_replies: ['body_enc'],
  support_notes: ['note_enc'],
  codes: ['code_enc'],
};
