import type { Queryable } from '../platform/db.js';
import type { Vault } from '../platform/vault.js';
import type { OutgoingMessage } from '../channels/channel.js';
import type { RenderedNotice } from '../notices/render.js';

export async function recordOutboxEntry(
  db: Queryable,
  vault: Vault,
  message: OutgoingMessage,
): Promise<void> {
  await db.query(
    'INSERT INTO sandbox_outbox (message_id, channel, recipient_enc, content_enc) VALUES ($1, $2, $3, $4)',
    [
      message.messageId,
      message.channel,
      vault.seal(JSON.stringify(message.to)),
      vault.seal(JSON.stringify(message.content)),
    ],
  );
}

export interface OutboxEntry {
  id: number;
  messageId: number;
  channel: string;
  to: OutgoingMessage['to'];
  content: RenderedNotice;
  createdAt: Date;
  status: string | null;
}

interface OutboxRow {
  id: number;
  message_id: number;
  channel: string;
  recipient_enc: string;
  content_enc: string;
  created_at: Date;
  status: string | null;
}

function toEntry(vault: Vault, row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    messageId: row.message_id,
    channel: row.channel,
    to: JSON.parse(vault.open(row.recipient_enc)) as OutgoingMessage['to'],
    content: JSON.parse(vault.open(row.content_enc)) as RenderedNotice,
    createdAt: row.created_at,
    status: row.status,
  };
}

export async function findOutboxEntry(db: Queryable, vault: Vault, id: number): Promise<OutboxEntry | null> {
  const { rows } = await db.query<OutboxRow>(
    'SELECT o.*, m.status FROM sandbox_outbox o LEFT JOIN messages m ON m.id = o.message_id WHERE o.id = $1',
    [id],
  );
  return rows[0] ? toEntry(vault, rows[0]) : null;
}

export async function listOutbox(
  db: Queryable,
  vault: Vault,
  limit: number,
): Promise<{ entries: OutboxEntry[]; total: number }> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT o.*, m.status FROM sandbox_outbox o LEFT JOIN messages m ON m.id = o.message_id ORDER BY o.id DESC LIMIT $1`,
    [limit],
  );
  const { rows: count } = await db.query<{ total: number }>(
    'SELECT count(*)::int AS total FROM sandbox_outbox',
  );
  return {
    total: count[0]?.total ?? 0,
    entries: rows.map((row) => toEntry(vault, row)),
  };
}
