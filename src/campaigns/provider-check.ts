import type { ChannelAdapter, ChannelAdapters, LookupAnswer, LookupQuery } from '../channels/channel.js';
import { applyProviderEvent, type ReceiptDeps } from '../deliveries/receipts.js';
import {
  claimMessagesAwaitingReceipt,
  listUnknownMessages,
  recordFoundAtProvider,
  requeueUnknownMessages,
  type LookupCandidate,
} from '../deliveries/store.js';
import { CHANNELS, type Channel } from '../channels/kinds.js';
import { enqueueSends } from './fanout.js';

export interface ProviderCheckDeps extends ReceiptDeps {
  channels: ChannelAdapters;
}

export interface ProviderCheckReport {
  /** Unknown outcomes the provider turned out to have. */
  found: number;
  /** Unknown outcomes sent again: the provider had no record, or could not be asked and the wait is over. */
  resent: number;
  /** Messages whose receipt never came, and whose status the provider gave us instead. */
  receiptsLookedUp: number;
}

/** At most this many messages per run and kind of check: the next run takes the rest. */
const BATCH = 200;
/** Providers keep their records for weeks (SendGrid's activity: 30 days); a week old receipt is not chased. */
const RECEIPT_LOOKUP_HORIZON_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Asks the providers what we could not learn from them at the time. Two cases:
 *
 * - an `unknown` outcome (the call timed out after the request went out): once the provider's index
 *   has had time to settle, ask it. Found: record its id and status as if it had answered. Not found:
 *   send again. A provider that cannot be asked (SMTP, a SendGrid account without the activity API):
 *   wait out a longer window, then send again. Each resend is counted on the campaign.
 * - a `sent` message whose receipt never came (Twilio does not retry status callbacks): after a
 *   window, ask the provider and apply what it says, as the receipt would have.
 *
 * Idempotent: statuses only move forward, lookups are applied as receipts with the provider's ids.
 */
export async function checkWithProviders(deps: ProviderCheckDeps): Promise<ProviderCheckReport> {
  const report: ProviderCheckReport = { found: 0, resent: 0, receiptsLookedUp: 0 };
  await settleUnknownOutcomes(deps, report);
  await lookUpMissingReceipts(deps, report);
  if (report.found + report.resent + report.receiptsLookedUp > 0)
    deps.logger.info(report, 'checked with providers');
  return report;
}

/**
 * A batch request's claims gone stale: the worker died between the request and recording its answer,
 * and the provider may hold every message of it. Never sent again blindly: each becomes `unknown`,
 * as if the request had timed out, and is asked about below once due.
 */
async function settleAbandonedBatchClaims(deps: ProviderCheckDeps, now: Date): Promise<void> {
  const staleBefore = new Date(now.getTime() - deps.config.sending.staleSendingMs);
  const { rowCount } = await deps.db.query(
    `UPDATE messages SET status = 'unknown', unknown_at = $1, provider = $3, updated_at = $1,
       status_reason = 'the worker stopped during a batch request; the provider is asked before any resend'
     WHERE status = 'sending' AND claimed_by_batch AND sending_at < $2 AND channel = 'email'`,
    [now, staleBefore, deps.channels.email.provider],
  );
  if (rowCount) deps.logger.warn({ messages: rowCount }, 'abandoned batch claims are now unknown');
}

async function settleUnknownOutcomes(deps: ProviderCheckDeps, report: ProviderCheckReport) {
  const { sending } = deps.config;
  const now = deps.clock.now();
  await settleAbandonedBatchClaims(deps, now);
  const due = await listUnknownMessages(
    deps.db,
    new Date(now.getTime() - sending.unknownLookupAfterMs),
    BATCH,
  );
  const resendBefore = now.getTime() - sending.unknownResendAfterMs;
  const resend: { id: number; unknownAt: Date | null }[] = [];
  for (const [channel, candidates] of byChannel(due)) {
    const adapter = deps.channels[channel];
    const answers = await askProvider(deps, adapter, candidates);
    for (const [i, candidate] of candidates.entries()) {
      const answer = answers?.[i] ?? null;
      if (answer?.kind === 'found') {
        await recordFoundAtProvider(deps.db, {
          messageId: candidate.id,
          provider: adapter.provider,
          providerMessageId: answer.providerMessageId,
          at: deps.clock.now(),
        });
        await applyProviderEvent(deps, answer.event);
        report.found += 1;
      } else if (answer?.kind === 'not_found') {
        // Not listed yet may only be the provider's index lagging: ask again on a later run.
        const listedBy = (candidate.unknown_at?.getTime() ?? 0) + (adapter.lookupLagMs ?? 0);
        if (listedBy <= now.getTime()) resend.push({ id: candidate.id, unknownAt: candidate.unknown_at });
      } else if (answers !== null && (candidate.unknown_at?.getTime() ?? 0) <= resendBefore) {
        // Cannot be asked: after the long wait, a duplicate is the lesser harm than silence.
        resend.push({ id: candidate.id, unknownAt: candidate.unknown_at });
      }
    }
  }
  const requeued = await requeueUnknownMessages(deps.db, resend, deps.clock.now());
  // A paused campaign's queued messages are enqueued when it resumes.
  await enqueueSends(
    deps.queues,
    requeued.filter((m) => m.status === 'queued' && m.campaign_status === 'sending'),
    deps.clock.now(),
  );
  report.resent += requeued.filter((m) => m.status === 'queued').length;
}

async function lookUpMissingReceipts(deps: ProviderCheckDeps, report: ProviderCheckReport) {
  const askable = CHANNELS.map((channel) => deps.channels[channel]).filter(
    (adapter) => adapter.lookup !== undefined,
  );
  if (askable.length === 0) return;
  const now = deps.clock.now();
  const window = deps.config.sending.receiptLookupAfterMs;
  const due = await claimMessagesAwaitingReceipt(deps.db, {
    providers: [...new Set(askable.map((adapter) => adapter.provider))],
    sentBefore: new Date(now.getTime() - window),
    sentAfter: new Date(now.getTime() - RECEIPT_LOOKUP_HORIZON_MS),
    checkedBefore: new Date(now.getTime() - window),
    at: now,
    limit: BATCH,
  });
  for (const [channel, candidates] of byChannel(due)) {
    const adapter = deps.channels[channel];
    const mine = candidates.filter((candidate) => candidate.provider === adapter.provider);
    const answers = await askProvider(deps, adapter, mine);
    for (const answer of answers ?? []) {
      // Only news is written: "still sent" would add an event row per message and run, for nothing.
      if (answer.kind !== 'found' || answer.event.status === null || answer.event.status === 'sent') continue;
      // With PostgreSQL and Redis both away this throws; the rest wait for the next run.
      if ((await applyProviderEvent(deps, answer.event)) === 'applied') report.receiptsLookedUp += 1;
    }
  }
}

/**
 * The provider's answers, in order; an empty lookup (the adapter has none) answers `unavailable`.
 * null when the provider could not be asked this time (down, throttled): the next run asks again.
 */
async function askProvider(
  deps: ProviderCheckDeps,
  adapter: ChannelAdapter,
  candidates: LookupCandidate[],
): Promise<LookupAnswer[] | null> {
  if (candidates.length === 0) return [];
  if (!adapter.lookup) return candidates.map(() => ({ kind: 'unavailable' }));
  const queries: LookupQuery[] = candidates.map((candidate) => ({
    messageId: candidate.id,
    providerMessageId: candidate.provider_message_id,
    to: {
      email: candidate.email_enc === null ? null : deps.vault.open(candidate.email_enc),
      phone: candidate.phone_enc === null ? null : deps.vault.open(candidate.phone_enc),
    },
    since: candidate.since,
  }));
  const started = performance.now();
  try {
    const answers = await adapter.lookup(queries);
    deps.logger.debug(
      { provider: adapter.provider, messages: queries.length, ms: Math.round(performance.now() - started) },
      'provider lookup',
    );
    return answers;
  } catch (error) {
    deps.logger.warn(
      {
        provider: adapter.provider,
        messages: queries.length,
        err: error instanceof Error ? error.message : error,
      },
      'provider lookup failed; asking again next run',
    );
    return null;
  }
}

function byChannel(candidates: LookupCandidate[]): Map<Channel, LookupCandidate[]> {
  const groups = new Map<Channel, LookupCandidate[]>();
  for (const candidate of candidates) {
    const group = groups.get(candidate.channel) ?? [];
    group.push(candidate);
    groups.set(candidate.channel, group);
  }
  return groups;
}
