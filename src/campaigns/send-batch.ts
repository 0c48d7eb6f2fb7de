import crypto from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Db } from '../platform/db.js';
import { ProviderError } from '../platform/errors.js';
import { advanceMessageStatus } from '../deliveries/store.js';
import { RejectedRecipientsError, type BatchRecipient, type ChannelAdapter } from '../channels/channel.js';
import { escapeEmailHtml, renderEmailHtml, unsubscribeHeaders } from '../notices/email.js';
import type { RenderedNotice } from '../notices/render.js';
import { toRecipient, type Recipient } from '../people/store.js';
import { resolveLocale } from '../platform/i18n.js';
import { MARGIN_MS } from '../platform/pacer.js';
import type { SendBatchJob } from '../queues.js';
import { composeMessage, unsubscribeUrl, type ComposeDeps } from './compose.js';
import { createNoticeContentCache, type NoticeContent } from './notice-content.js';
import { earliestSendTime, zoneOrDefault } from './calling-hours.js';
import { enqueueSends } from './fanout.js';
import { followUpFailure } from './next-attempt.js';
import {
  claimMessages,
  deferJob,
  isPermanent,
  maxSlotWaitMs,
  PROVIDER_THROTTLE_MS,
  recordAccepted,
  type ClaimedMessage,
  type SendDeps,
} from './send.js';

/**
 * Email in batches. The fan-out queues each page's emails as one job (ids only); this claims them in
 * one statement, groups them by what renders the same, renders each group once with a token where
 * each person's own parts go (name, reference code, unsubscribe link), and sends each group in as
 * few provider requests as it may (`sendBatch`, up to 1,000 recipients each with their own values).
 *
 * What a request costs when something goes wrong, per request (never more than its recipients):
 * - the provider accepts and PostgreSQL fails: the acceptance rides in the job, the retry records it;
 * - no answer (a time-out, a reset): every recipient is `unknown`, looked up before any resend;
 * - the worker dies between request and record: the claims go stale as `sending` claimed by a batch,
 *   never taken again blindly; the reconciler makes them `unknown` and the provider is asked;
 * - a 400 naming recipients: those fail (and move to their next channel), the rest go again;
 * - a 429: the channel pauses, claims go back, the job waits; 5xx: claims go back, the job retries.
 */

/** Tokens are unguessable per process, so no name or address can hold one. */
const NONCE = crypto.randomBytes(6).toString('hex');
/** The person id the template is rendered for: no person has it, so its unsubscribe link is unmistakable. */
const TEMPLATE_PERSON_ID = 0;

type Part = 'name' | 'ref' | 'unsub';
const PARTS: readonly Part[] = ['name', 'ref', 'unsub'];

/** One group's content, rendered once, with tokens for each person's parts. */
export interface BatchTemplate {
  subject: string;
  text: string;
  html: string;
  /** For each part the content holds: its token in the subject and text, and in the HTML. */
  tokens: Partial<Record<Part, { text: string; html: string }>>;
  /** The rendered notice (tokens in it), for what every person's headers share. */
  notice: RenderedNotice;
}

/** What one person puts in place of a template's tokens. */
export interface PersonParts {
  personId: number;
  name: string | null;
  referenceCode: string;
}

function tokenFor(part: Part, nonce: string) {
  return { text: `-cn${nonce}-${part}-`, html: `-cn${nonce}-${part}h-` };
}

/**
 * Renders a group's email once: composeMessage for a stand-in person whose name and reference code
 * are tokens, the unsubscribe link swapped for a token after. Equal, token for value, to what
 * composeMessage makes for each person of the group (tests/unit/email-batch-template.test.ts).
 */
export async function composeBatchTemplate(
  deps: ComposeDeps,
  group: { campaignId: number; kind: ClaimedMessage['kind']; updateId: number | null; sample: Recipient },
  content: NoticeContent,
  nonce = NONCE,
): Promise<BatchTemplate> {
  const name = tokenFor('name', nonce);
  const ref = tokenFor('ref', nonce);
  const unsub = tokenFor('unsub', nonce);
  const outgoing = await composeMessage(
    deps,
    {
      messageId: 0,
      campaignId: group.campaignId,
      kind: group.kind,
      channel: 'email',
      updateId: group.updateId,
      recipient: {
        ...group.sample,
        id: TEMPLATE_PERSON_ID,
        name: group.sample.name ? name.text : null,
        referenceCode: ref.text,
      },
    },
    content,
  );
  const notice = outgoing.content;
  let subject = notice.subject ?? '';
  let { text } = notice;
  let html = renderEmailHtml(notice);
  const link = notice.unsubscribeUrl;
  if (link) {
    subject = subject.replaceAll(link, unsub.text);
    text = text.replaceAll(link, unsub.text);
    html = html.replaceAll(escapeEmailHtml(link), unsub.text).replaceAll(link, unsub.text);
  }
  const tokens: BatchTemplate['tokens'] = {};
  for (const part of PARTS) {
    const token = tokenFor(part, nonce);
    const used = [subject, text, html].some((value) => value.includes(token.text));
    if (!used) continue;
    tokens[part] = token;
    html = html.replaceAll(token.text, token.html);
  }
  return { subject, text, html, tokens, notice };
}

/** The values one person gives the template's tokens: raw for the subject and text, escaped for HTML. */
export function substitutionsFor(
  deps: ComposeDeps,
  template: BatchTemplate,
  person: PersonParts,
): Record<string, string> {
  const values: Record<Part, string> = {
    name: person.name ?? '',
    ref: person.referenceCode,
    unsub: template.notice.unsubscribeUrl ? personUnsubscribeUrl(deps, person.personId) : '',
  };
  const substitutions: Record<string, string> = {};
  for (const part of PARTS) {
    const token = template.tokens[part];
    if (!token) continue;
    substitutions[token.text] = values[part];
    substitutions[token.html] = escapeEmailHtml(values[part]);
  }
  return substitutions;
}

/** Puts a person's values in place of the tokens, one pass, as the provider does. */
export function applySubstitutions(value: string, substitutions: Record<string, string>): string {
  const keys = Object.keys(substitutions);
  if (keys.length === 0) return value;
  const pattern = new RegExp(keys.map((key) => key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return value.replace(pattern, (token) => substitutions[token] ?? token);
}

function personUnsubscribeUrl(deps: ComposeDeps, personId: number): string {
  if (!deps.config) return '';
  return unsubscribeUrl(deps.publicBaseUrl, deps.config.lookupHmacKey, personId);
}

/** What must be the same for two people to get the same email but for their tokens. */
function groupKey(message: ClaimedMessage, person: Recipient): string {
  return JSON.stringify([
    message.campaign_id,
    person.incidentId,
    message.content_version,
    message.kind,
    message.update_id,
    resolveLocale(person.locale),
    person.segment,
    person.exposedDataTypes,
    person.name !== null && person.name !== '',
  ]);
}

/** Only what an email needs is decrypted: the reference code, the name, the address. */
function emailRecipient(deps: SendDeps, row: ClaimedMessage): Recipient {
  return toRecipient(deps.vault, { ...row, id: row.person_id }, true);
}

/**
 * The most recipients in one request. A request takes one slot of the channel's pacer per email (the
 * rate is in emails per second) and goes at the last of them, all at once: kept within the pacer's
 * margin (100 ms of slots), no sliding second sees more than the rate.
 */
export function requestSize(deps: SendDeps, adapter: ChannelAdapter): number {
  const fits = Math.floor(MARGIN_MS / deps.pacer.intervalMs('email'));
  return Math.max(1, Math.min(adapter.maxBatch ?? 1, fits));
}

interface Person {
  message: ClaimedMessage;
  recipient: Recipient;
}

/** Sets claims back to queued (a transient failure, a pause): the job's retry claims them again. */
async function releaseClaims(db: Db, messageIds: number[], at: Date, notATry = false): Promise<void> {
  if (messageIds.length === 0) return;
  await db.query(
    `UPDATE messages SET status = 'queued', tries = tries - $3, claimed_by_batch = false, updated_at = $2
     WHERE id = ANY($1::bigint[]) AND status = 'sending'`,
    [[...messageIds].sort((a, b) => a - b), at, notATry ? 1 : 0],
  );
}

/** Every recipient of a request that got no answer: the provider may have them, so they are asked about first. */
async function markUnknown(db: Db, messageIds: number[], provider: string, reason: string, at: Date) {
  await db.query(
    `UPDATE messages SET status = 'unknown', unknown_at = $2, provider = $3, status_reason = $4, updated_at = $2
     WHERE id = ANY($1::bigint[]) AND status = 'sending'`,
    [[...messageIds].sort((a, b) => a - b), at, provider, reason],
  );
}

async function failPermanently(deps: SendDeps, messageIds: number[], reason: string) {
  for (const messageId of messageIds) {
    await advanceMessageStatus(deps.db, messageId, 'failed', reason, deps.clock.now());
    await followUpFailure(deps, messageId);
  }
}

export interface BatchReport {
  sent: number;
  failed: number;
  unknown: number;
  skipped: number;
  requests: number;
}

/**
 * `stopping` is aborted when the process shuts down: the job then hands back what it has not yet
 * requested, rather than pacing through up to a thousand emails while a supervisor's SIGKILL
 * approaches (which would leave them `sending`, then `unknown` until SendGrid could be asked).
 */
export function makeSendBatchProcessor(deps: SendDeps, stopping?: AbortSignal) {
  const contentCache = createNoticeContentCache(deps.db);
  return async function processSendBatch(job: Job<SendBatchJob>, token?: string): Promise<BatchReport> {
    const report: BatchReport = { sent: 0, failed: 0, unknown: 0, skipped: 0, requests: 0 };
    const adapter = deps.channels.email;
    // What an earlier attempt learnt but could not record: recorded now, never sent again.
    for (const accepted of job.data.accepted ?? []) {
      const at = deps.clock.now();
      await recordAccepted(
        deps.db,
        accepted.messageIds.map((messageId) => ({ messageId, ...accepted, at })),
      );
    }
    for (const unknown of job.data.unknown ?? []) {
      const reason = 'no answer from the provider (recorded once PostgreSQL was back)';
      await markUnknown(deps.db, unknown.messageIds, unknown.provider, reason, deps.clock.now());
    }
    if ((job.data.accepted?.length ?? 0) + (job.data.unknown?.length ?? 0) > 0) {
      await job.updateData({ v: 1, campaignId: job.data.campaignId, messageIds: job.data.messageIds });
    }

    const now = deps.clock.now();
    const staleBefore = new Date(now.getTime() - deps.config.sending.staleSendingMs);
    const claimed = (
      await claimMessages(
        deps.db,
        job.data.messageIds.map((messageId) => ({ messageId, at: now, staleBefore })),
        true,
      )
    ).filter((row): row is ClaimedMessage => row !== null);
    // Not claimed: sent, gone, held by another worker, or its campaign stopped. A stale claim of a
    // dead worker is the reconciler's (queued again, or looked up if a batch held it).
    report.skipped = job.data.messageIds.length - claimed.length;

    const later: ClaimedMessage[] = [];
    const groups = new Map<string, Person[]>();
    for (const message of claimed) {
      const zone = zoneOrDefault(message.time_zone, deps.config.sending.defaultTimeZone);
      const notBefore = message.send_after && message.send_after > now ? message.send_after : now;
      const earliest = earliestSendTime(notBefore, 'email', zone, deps.config.sending.callingHours);
      if (earliest > now) {
        later.push({ ...message, send_after: earliest });
        continue;
      }
      const recipient = emailRecipient(deps, message);
      const key = groupKey(message, recipient);
      const group = groups.get(key) ?? [];
      group.push({ message, recipient });
      groups.set(key, group);
    }
    if (later.length > 0) {
      // A retry not yet due: each waits in its own delayed job, as the single path does.
      await deps.db.query(
        `UPDATE messages m SET status = 'queued', send_after = v.at, tries = m.tries - 1, claimed_by_batch = false
         FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, at) WHERE m.id = v.id AND m.status = 'sending'`,
        [later.map((m) => m.message_id), later.map((m) => m.send_after)],
      );
      await enqueueSends(
        deps.queues,
        later.map((m) => ({ id: m.message_id, channel: 'email' as const, send_after: m.send_after })),
        now,
      );
    }

    // Cut into requests first, so whatever stops the job can hand back everything not yet sent.
    const size = requestSize(deps, adapter);
    const requests: Person[][] = [];
    for (const group of groups.values()) {
      const noAddress = group.filter((p) => !p.recipient.email);
      if (noAddress.length > 0) {
        await failPermanently(
          deps,
          noAddress.map((p) => p.message.message_id),
          'no email address',
        );
        report.failed += noAddress.length;
      }
      const addressed = group.filter((p) => p.recipient.email);
      for (let i = 0; i < addressed.length; i += size) requests.push(addressed.slice(i, i + size));
    }
    const unsent = () => requests.flat().map((p) => p.message.message_id);

    while (requests.length > 0) {
      if (stopping?.aborted) {
        // Shutting down: the rest goes back, and the job with it, at once, for another worker (or
        // this one restarted) to claim again; what was requested already is recorded.
        const at = deps.clock.now();
        await releaseClaims(deps.db, unsent(), at, true);
        deps.logger.info({ batch: job.id, handedBack: unsent().length }, 'batch handed back on shutdown');
        return deferJob(job, token, at, at);
      }
      const people = requests[0]!;
      const first = people[0]!;
      const started = performance.now();
      let result;
      let epoch = -1;
      try {
        let content = await contentCache.get(first.recipient.incidentId, first.message.content_version);
        if (
          first.message.update_id !== null &&
          !content?.updates.some((u) => u.id === first.message.update_id)
        )
          content = await contentCache.reload(first.recipient.incidentId, first.message.content_version);
        if (!content) throw new Error(`incident ${first.recipient.incidentId} is gone`);
        const template = await composeBatchTemplate(
          deps,
          {
            campaignId: first.message.campaign_id,
            kind: first.message.kind,
            updateId: first.message.update_id,
            sample: first.recipient,
          },
          content,
        );
        const recipients: BatchRecipient[] = people.map(({ message, recipient }) => ({
          messageId: message.message_id,
          to: { name: recipient.name, email: recipient.email! },
          substitutions: substitutionsFor(deps, template, {
            personId: recipient.id,
            name: recipient.name,
            referenceCode: recipient.referenceCode,
          }),
          headers: template.notice.unsubscribeUrl
            ? unsubscribeHeaders({
                ...template.notice,
                unsubscribeUrl: personUnsubscribeUrl(deps, recipient.id),
              })
            : {},
        }));
        const admission = await deps.pacer.admit('email', maxSlotWaitMs(deps, 'email'), people.length);
        epoch = admission.epoch;
        if (admission.waitMs > 0) {
          // No slot soon (the provider asked us to pause): hand everything back until one may be.
          await releaseClaims(deps.db, unsent(), deps.clock.now(), true);
          return deferJob(job, token, new Date(now.getTime() + admission.waitMs), now);
        }
        report.requests += 1;
        result = await adapter.sendBatch!({
          channel: 'email',
          subject: template.subject,
          text: template.text,
          html: template.html,
          recipients,
        });
      } catch (error) {
        const ids = people.map((p) => p.message.message_id);
        const ms = Math.round(performance.now() - started);
        const named =
          error instanceof RejectedRecipientsError ? error.indexes.filter((i) => i < people.length) : [];
        if (error instanceof RejectedRecipientsError && named.length > 0) {
          // Nothing of it went: the refused fail for good, the rest go again without them.
          const refused = new Set(named.map((i) => people[i]!.message.message_id));
          deps.logger.warn(
            { batch: job.id, refused: refused.size, ms },
            'provider refused recipients of a batch',
          );
          await failPermanently(deps, [...refused], error.message);
          report.failed += refused.size;
          requests[0] = people.filter((p) => !refused.has(p.message.message_id));
          if (requests[0].length === 0) requests.shift();
          continue;
        }
        if (error instanceof ProviderError && error.outcomeUnknown) {
          deps.logger.warn(
            { batch: job.id, messages: ids.length, ms, reason: error.message },
            'batch outcome unknown; the provider will be asked before any resend',
          );
          try {
            await markUnknown(deps.db, ids, adapter.provider, error.message, deps.clock.now());
          } catch (recording) {
            await job.updateData({
              ...job.data,
              unknown: [...(job.data.unknown ?? []), { provider: adapter.provider, messageIds: ids }],
            });
            throw recording;
          }
          report.unknown += ids.length;
          requests.shift();
          continue;
        }
        return handleBatchFailure(deps, job, unsent(), error, ms, epoch);
      }
      deps.logger.info(
        {
          batch: job.id,
          messages: people.length,
          provider: result.provider,
          ms: Math.round(performance.now() - started),
        },
        'provider accepted batch',
      );
      const ids = people.map((p) => p.message.message_id);
      try {
        const at = deps.clock.now();
        await recordAccepted(
          deps.db,
          ids.map((messageId) => ({ messageId, ...result, at })),
        );
      } catch (error) {
        await job.updateData({
          ...job.data,
          accepted: [...(job.data.accepted ?? []), { ...result, messageIds: ids }],
        });
        throw error;
      }
      report.sent += ids.length;
      requests.shift();
    }
    return report;
  };
}

async function handleBatchFailure(
  deps: SendDeps,
  job: Job<SendBatchJob>,
  unsent: number[],
  error: unknown,
  ms: number,
  admittedEpoch: number,
): Promise<never> {
  const reason = error instanceof Error ? error.message : String(error);
  const throttled = error instanceof ProviderError && error.details.status === 429;
  const permanent = isPermanent(error);
  const attemptsLeft = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
  deps.logger.warn(
    { batch: job.id, messages: unsent.length, ms, throttled, permanent, attemptsLeft, reason },
    'batch send failed',
  );
  if (throttled) {
    // As the single path: one pause per episode, across every worker; nothing spent.
    const pausedMs = await deps.pacer
      .pause('email', {
        ms: error.details.retryAfterMs ?? null,
        defaultMs: PROVIDER_THROTTLE_MS,
        epoch: admittedEpoch,
      })
      .finally(() => releaseClaims(deps.db, unsent, deps.clock.now(), true));
    if (pausedMs > 0) {
      await deps.queues.sendBatch.rateLimit(pausedMs);
      await deps.queues.send.email.rateLimit(pausedMs);
    }
    throw Worker.RateLimitError();
  }
  if (!permanent) {
    await releaseClaims(deps.db, unsent, deps.clock.now()).catch(() => undefined);
    if (attemptsLeft > 0) throw error;
    // The batch kept failing: each message goes on in its own job, with its own retries.
    await enqueueSends(
      deps.queues,
      unsent.map((id) => ({ id, channel: 'email' as const })),
      deps.clock.now(),
    );
    throw new UnrecoverableError(`batch handed to per-message jobs: ${reason}`);
  }
  // Refused whole (a 400 about the request, not a recipient): each would be refused alone too.
  await failPermanently(deps, unsent, reason);
  throw new UnrecoverableError(reason);
}
