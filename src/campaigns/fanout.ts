import type { Job } from 'bullmq';
import { withTransaction, type Db, type Queryable } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import type { SendingConfig } from '../config.js';
import {
  jobIds,
  JOB_NAMES,
  SEND_BATCH_JOB_OPTIONS,
  SEND_JOB_OPTIONS,
  type FanoutJob,
  type Queues,
} from '../queues.js';
import type { ChannelAdapters } from '../channels/channel.js';
import { isCodeMessageKind } from '../notices/render.js';
import { CHANNELS, type Channel } from '../channels/kinds.js';
import {
  claimNotices,
  findCampaign,
  findClaimScope,
  insertFirstMessages,
  markFanoutComplete,
  readQueuedFirstMessages,
  recordFanoutPage,
  lockWhileSending,
} from './store.js';
import { isWaitingForSchedule } from './lifecycle.js';
import { planAudiencePage } from './plan.js';
import type { AudienceNarrowing } from './audience.js';

export interface FanoutDeps {
  db: Db;
  queues: Queues;
  logger: Logger;
  clock: Clock;
  config: { sending: SendingConfig };
  audienceNarrowings: readonly AudienceNarrowing[];
  /** Where the email adapter sends batches (`sendBatch`), each page's emails go as one batch job. */
  channels?: ChannelAdapters;
}

export const FANOUT_PAGE_SIZE = 1_000;

/**
 * Streams a campaign's audience plan (src/campaigns/plan.ts) from PostgreSQL a page at a time: claims
 * each person's live notice, writes one message row per claimed person (persist first), queues a
 * send job per row carrying only its id, then moves the cursor. Whoever another campaign already
 * holds is skipped and counted, not sent twice: the claim is the database's guarantee, so two
 * campaigns fanning out at once cannot both win a person. A crash anywhere repeats at most one page,
 * and repeating a page creates no new rows and no new jobs. SMS and calls outside the person's
 * calling hours are written with `send_after` and queued delayed. A paused or cancelled campaign
 * stops the loop; resuming queues the fan-out again from the cursor.
 */
export function makeFanoutProcessor(deps: FanoutDeps) {
  return async function processFanout(job: Job<FanoutJob>): Promise<{ people: number; skipped: number }> {
    const campaign = await findCampaign(deps.db, job.data.campaignId);
    if (!campaign || campaign.status !== 'sending' || campaign.fanoutCompletedAt)
      return { people: 0, skipped: 0 };
    // Queued early (by hand, or by a reconciler whose clock runs ahead): the reconciler queues it again when due.
    if (isWaitingForSchedule(campaign, deps.clock.now())) return { people: 0, skipped: 0 };
    const scope = await findClaimScope(deps.db, campaign);
    let cursor = campaign.fanoutCursor;
    // Code offers say something of each person's own (their code): those go one by one.
    const batchEmail = deps.channels?.email.sendBatch !== undefined && !isCodeMessageKind(campaign.kind);
    let people = 0;
    let skipped = 0;
    for (;;) {
      const current = await findCampaign(deps.db, campaign.id);
      if (current?.status !== 'sending') {
        deps.logger.info({ campaignId: campaign.id, status: current?.status }, 'fan-out stopped');
        return { people, skipped };
      }
      const now = deps.clock.now();
      const page = await planAudiencePage(deps.db, {
        campaign,
        scope,
        after: cursor,
        limit: FANOUT_PAGE_SIZE,
        now,
        sending: deps.config.sending,
        narrowings: deps.audienceNarrowings,
      });
      if (!page) break;
      const pageSkipped = await withTransaction(deps.db, async (tx) => {
        // Holds off a cancel or pause until this page is in, and sees one that came first: a page
        // committed into a cancelled campaign would keep its people's claims live for ever.
        if (!(await lockWhileSending(tx, campaign.id))) return null;
        let planned = page.messages;
        if (scope) {
          const claimed = await claimNotices(
            tx,
            campaign.id,
            scope,
            planned.filter((m) => m.channel !== null).map((m) => m.personId),
            now,
          );
          // Claimed by another campaign since the page was read: skipped like the others.
          planned = planned.filter((m) => m.channel === null || claimed.has(m.personId));
        }
        const inserted = await insertFirstMessages(tx, campaign.id, planned, now);
        // In the same transaction: no reconciler can see these emails without the batch that holds them.
        if (batchEmail) await assignSendBatch(tx, campaign.id, cursor, planned, now);
        const lost = page.skipped.length + page.messages.length - planned.length;
        await recordFanoutPage(tx, campaign.id, {
          inserted: inserted.length,
          exhausted: inserted.filter((row) => row.channel === null).length,
          skipped: lost,
          lastId: page.lastId,
        });
        return lost;
      });
      if (pageSkipped === null) {
        deps.logger.info({ campaignId: campaign.id }, 'fan-out stopped: the campaign changed mid-page');
        return { people, skipped };
      }
      const queued = await readQueuedFirstMessages(
        deps.db,
        campaign.id,
        page.messages.map((m) => m.personId),
      );
      if (batchEmail) {
        const batched = queued.filter((m) => m.channel === 'email' && !(m.send_after && m.send_after > now));
        await enqueueSendBatch(
          deps.queues,
          campaign.id,
          cursor,
          batched.map((m) => m.id),
        );
        const inBatch = new Set(batched);
        await enqueueSends(
          deps.queues,
          queued.filter((m) => !inBatch.has(m)),
          now,
        );
      } else {
        await enqueueSends(deps.queues, queued, now);
      }
      cursor = page.lastId;
      people += page.messages.length + page.skipped.length - pageSkipped;
      skipped += pageSkipped;
      await job.updateProgress({ cursor, people, skipped });
    }
    await markFanoutComplete(deps.db, campaign.id, deps.clock.now());
    deps.logger.info({ campaignId: campaign.id, people, skipped }, 'fan-out finished');
    return { people, skipped };
  };
}

/**
 * Queues send jobs, grouped by channel, in bulk; a message not to go before `send_after` is queued
 * delayed. Safe to repeat: the job id is the message id, and adding an id that exists does nothing.
 */
export async function enqueueSends(
  queues: Queues,
  messages: { id: number; channel: Channel; send_after?: Date | null }[],
  now: Date,
): Promise<void> {
  for (const channel of CHANNELS) {
    const jobs = messages
      .filter((message) => message.channel === channel)
      .map((message) => {
        const delay = message.send_after ? message.send_after.getTime() - now.getTime() : 0;
        return {
          name: JOB_NAMES.send,
          data: { v: 1 as const, messageId: message.id },
          opts: { ...SEND_JOB_OPTIONS, jobId: jobIds.send(message.id), ...(delay > 0 ? { delay } : {}) },
        };
      });
    if (jobs.length > 0) await queues.send[channel].addBulk(jobs);
  }
}

/** Marks a page's new emails with the batch job that will hold them (see enqueueSendBatch). */
async function assignSendBatch(
  tx: Queryable,
  campaignId: number,
  pageAfter: number,
  planned: { personId: number; channel: Channel | null }[],
  now: Date,
): Promise<void> {
  const people = planned.filter((m) => m.channel === 'email').map((m) => m.personId);
  if (people.length === 0) return;
  await tx.query(
    `UPDATE messages SET batch_job = $1
     WHERE campaign_id = $2 AND attempt = 1 AND person_id = ANY($3::bigint[]) AND status = 'queued'
       AND channel = 'email' AND batch_job IS NULL AND (send_after IS NULL OR send_after <= $4)`,
    [jobIds.sendBatch(campaignId, pageAfter), campaignId, people, now],
  );
}

/**
 * Queues a page's emails as one batch job (src/campaigns/send-batch.ts), named by where the page
 * starts, so a repeated page adds nothing. The messages already name that job (assignSendBatch):
 * the reconciler tells by it a message a live batch holds from one Redis lost.
 */
export async function enqueueSendBatch(
  queues: Queues,
  campaignId: number,
  pageAfter: number,
  messageIds: number[],
): Promise<void> {
  if (messageIds.length === 0) return;
  const jobId = jobIds.sendBatch(campaignId, pageAfter);
  await queues.sendBatch.add(
    JOB_NAMES.sendBatch,
    { v: 1, campaignId, messageIds: [...messageIds].sort((a, b) => a - b) },
    { ...SEND_BATCH_JOB_OPTIONS, jobId },
  );
}
