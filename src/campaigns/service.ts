import type { Db } from '../platform/db.js';
import type { Clock } from '../platform/clock.js';
import type { SendingConfig } from '../config.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { idOr404 } from '../platform/ids.js';
import { FANOUT_JOB_OPTIONS, jobIds, JOB_NAMES, type Queues } from '../queues.js';
import type { MessageKind } from '../notices/render.js';
import { findIncidentById, listIncidentUpdates, type IncidentUpdate } from '../incidents/store.js';
import { postIncidentUpdate } from '../incidents/service.js';
import type { SnapshotDeps } from '../status-page/snapshot.js';
import { DEFAULT_CHANNEL_POLICY, type ChannelPolicy } from './channel-policy.js';
import type { Channel } from '../channels/kinds.js';
import { zoneOrDefault } from './calling-hours.js';
import { estimateCompletion, type ChannelEstimate, type ChannelWorkload } from './estimate.js';
import {
  missingTranslations,
  planAudiencePage,
  PlanTally,
  type AudiencePlanSummary,
  type MissingTranslation,
} from './plan.js';
import { enqueueSends } from './fanout.js';
import type { AudienceNarrowing } from './audience.js';
import {
  readCampaignProgress,
  readFailureReasons,
  readHeldMessages,
  readIncidentCampaignsProgress,
  readTimeline,
} from './progress.js';
import {
  AUDIENCES,
  assertCanApprove,
  isWaitingForSchedule,
  nextCampaignStatus,
  type Audience,
  type CampaignAction,
} from './lifecycle.js';
import {
  findCampaign,
  countAudience,
  countAudienceByLocale,
  findClaimScope,
  insertCampaign,
  cancelQueuedMessages,
  listIncidentCampaigns,
  readQueuedMessages,
  readInFlightByZone,
  releaseCancelledClaims,
  transitionCampaign,
  type Campaign,
} from './store.js';

/** What reading a campaign's audience needs: the clock, calling hours, and each feature's narrowing. */
type PlanDeps = Pick<CampaignDeps, 'db' | 'clock'> & {
  config: { sending: SendingConfig };
  audienceNarrowings: readonly AudienceNarrowing[];
};

/** The campaign use cases, each read in the order a person would tell it. */
export interface CampaignDeps {
  db: Db;
  queues: Queues;
  clock: Clock;
}

export async function createCampaign(
  deps: CampaignDeps,
  input: {
    incidentId: number;
    kind: MessageKind;
    audience: Audience;
    channelPolicy: ChannelPolicy;
    createdBy: number | null;
    updateId?: number | null;
  },
): Promise<Campaign> {
  const incident = await findIncidentById(deps.db, input.incidentId);
  if (!incident) throw new NotFoundError(`There is no incident ${input.incidentId}.`);
  return insertCampaign(deps.db, { ...input, updateId: input.updateId ?? null });
}

/** The campaign a path names, for the console and the API alike: a 404 when there is none. */
export async function loadCampaign(deps: Pick<CampaignDeps, 'db'>, idParam: unknown): Promise<Campaign> {
  const campaign = await findCampaign(deps.db, idOr404(idParam, 'campaign'));
  if (!campaign) throw new NotFoundError('There is no such campaign.');
  return campaign;
}

/** How many people each audience holds today: an estimate before fan-out, which reads the same rule. */
export async function audienceSizes(
  deps: Pick<CampaignDeps, 'db'>,
  input: { incidentId: number },
): Promise<Record<Audience, number>> {
  const counts = await Promise.all(
    AUDIENCES.map(async (audience) => [audience, await countAudience(deps.db, input.incidentId, audience)]),
  );
  return Object.fromEntries(counts) as Record<Audience, number>;
}

async function act(
  deps: CampaignDeps,
  campaignId: number,
  action: CampaignAction,
  extra: { approvedBy?: number; reviewNote?: string } = {},
) {
  const campaign = await findCampaign(deps.db, campaignId);
  if (!campaign) throw new NotFoundError(`There is no campaign ${campaignId}.`);
  if (action === 'approve' && extra.approvedBy !== undefined) assertCanApprove(campaign, extra.approvedBy);
  const next = nextCampaignStatus(campaign.status, action);
  const moved = await transitionCampaign(deps.db, campaignId, campaign.status, next, deps.clock.now(), extra);
  if (!moved)
    throw new ConflictError(
      'Someone else changed this campaign at the same moment. Reload to see where it stands.',
    );
  return { ...campaign, status: next };
}

export function submitCampaign(deps: CampaignDeps, input: { campaignId: number }) {
  return act(deps, input.campaignId, 'submit');
}

export function approveCampaign(
  deps: CampaignDeps,
  input: { campaignId: number; approverId: number; note?: string },
) {
  return act(deps, input.campaignId, 'approve', {
    approvedBy: input.approverId,
    ...(input.note ? { reviewNote: input.note } : {}),
  });
}

/**
 * The second pair of eyes says yes, and sending starts. The approval refuses the campaign's own
 * creator (four eyes, also a database constraint), so an approved campaign always had two people.
 */
export async function approveAndStart(
  deps: CampaignDeps,
  input: { campaignId: number; approverId: number; note?: string },
): Promise<Campaign> {
  await approveCampaign(deps, input);
  return startCampaign(deps, { campaignId: input.campaignId });
}

export function rejectCampaign(deps: CampaignDeps, input: { campaignId: number; note: string }) {
  return act(deps, input.campaignId, 'reject', { reviewNote: input.note });
}

/**
 * Starts sending: the campaign is marked sending in PostgreSQL first, then its fan-out job is queued.
 * A campaign scheduled for later is only marked: the reconciler queues its fan-out once the time
 * has come, so the schedule lives in PostgreSQL and survives losing Redis.
 */
export async function startCampaign(deps: CampaignDeps, input: { campaignId: number }): Promise<Campaign> {
  const campaign = await act(deps, input.campaignId, 'start');
  if (isWaitingForSchedule(campaign, deps.clock.now())) return campaign;
  await deps.queues.fanout.add(
    JOB_NAMES.fanout,
    { v: 1, campaignId: campaign.id },
    { ...FANOUT_JOB_OPTIONS, jobId: jobIds.fanout(campaign.id) },
  );
  return campaign;
}

/**
 * Pausing stops new sends at once: the send gate lets nothing out of a campaign that is not sending,
 * and the fan-out stops at its next page. Messages already with a provider finish.
 */
export function pauseCampaign(deps: CampaignDeps, input: { campaignId: number }) {
  return act(deps, input.campaignId, 'pause');
}

/** Resuming marks the campaign sending, then queues again the fan-out (if unfinished) and every queued message. */
export async function resumeCampaign(deps: CampaignDeps, input: { campaignId: number }): Promise<Campaign> {
  const campaign = await act(deps, input.campaignId, 'resume');
  if (!campaign.fanoutCompletedAt && !isWaitingForSchedule(campaign, deps.clock.now())) {
    await deps.queues.fanout.add(
      JOB_NAMES.fanout,
      { v: 1, campaignId: campaign.id },
      { ...FANOUT_JOB_OPTIONS, jobId: jobIds.fanout(campaign.id) },
    );
  }
  let cursor = 0;
  for (;;) {
    const rows = await readQueuedMessages(deps.db, campaign.id, cursor, 1000);
    if (rows.length === 0) break;
    await enqueueSends(deps.queues, rows, deps.clock.now());
    cursor = rows[rows.length - 1]!.id;
  }
  return campaign;
}

/**
 * Cancelling stops the campaign for good: it is marked cancelled first (so no send starts), then its
 * queued messages are marked cancelled, a page at a time. Messages already with a provider finish.
 */
export async function cancelCampaign(deps: CampaignDeps, input: { campaignId: number }): Promise<Campaign> {
  const campaign = await act(deps, input.campaignId, 'cancel');
  let cancelled: number;
  do cancelled = await cancelQueuedMessages(deps.db, campaign.id, deps.clock.now(), 5000);
  while (cancelled > 0);
  // Those it never reached may be told by another campaign; a failure still without its follow-up
  // gets none now, so it releases here rather than waiting.
  await releaseCancelledClaims(deps.db, campaign.id, deps.clock.now());
  return campaign;
}

/**
 * An incident's campaigns, newest first, each with its progress from the counters: the console's
 * incident page and the API's campaign list both show these.
 */
export async function campaignSummaries(deps: Pick<CampaignDeps, 'db'>, input: { incidentId: number }) {
  const [campaigns, progress] = await Promise.all([
    listIncidentCampaigns(deps.db, input.incidentId),
    readIncidentCampaignsProgress(deps.db, input.incidentId),
  ]);
  const byId = new Map(progress.map((p) => [Number(p.campaignId), p]));
  // A campaign created between the two reads has no progress yet: it shows from the next read.
  return campaigns.flatMap((campaign) => {
    const campaignProgress = byId.get(Number(campaign.id));
    return campaignProgress ? [{ ...campaign, progress: campaignProgress }] : [];
  });
}

export async function campaignProgress(deps: Pick<CampaignDeps, 'db'>, input: { campaignId: number }) {
  const progress = await readCampaignProgress(deps.db, input.campaignId);
  if (!progress) throw new NotFoundError(`There is no campaign ${input.campaignId}.`);
  return { ...progress, failures: await readFailureReasons(deps.db, input.campaignId) };
}

/**
 * Everything the campaign page and the API show about a running campaign, from one read model:
 * the counters' progress, the commonest failures, what waits for calling hours and until when, the
 * chart's points and when each channel should finish.
 */
export async function campaignDashboard(deps: PlanDeps, input: { campaignId: number }) {
  const progress = await campaignProgress(deps, input);
  const [held, timeline, estimates] = await Promise.all([
    readHeldMessages(deps.db, input.campaignId, deps.clock.now()),
    readTimeline(deps.db, input.campaignId),
    ['sending', 'paused'].includes(progress.status) ? estimateCampaign(deps, input) : Promise.resolve([]),
  ]);
  const finishes = estimates.map((estimate) => estimate.finishesAt);
  const finishesAt =
    finishes.length === 0 || finishes.some((at) => at === null)
      ? null
      : new Date(Math.max(...finishes.map((at) => at!.getTime())));
  return { ...progress, held, timeline, estimates, finishesAt };
}

/**
 * What the fan-out will create, counted: per channel and language, who is held for calling hours
 * and until when, who gets a fallback language, who is left out because another campaign already
 * holds their live notice. Read with the very function the fan-out pages through (from its cursor,
 * so a campaign part-way shows what is still to come), at one instant.
 */
export async function planCampaign(
  deps: PlanDeps,
  input: { campaignId: number },
): Promise<
  AudiencePlanSummary & { campaignId: number; at: Date; missingTranslations: MissingTranslation[] }
> {
  const campaign = await findCampaign(deps.db, input.campaignId);
  if (!campaign) throw new NotFoundError(`There is no campaign ${input.campaignId}.`);
  const scope = await findClaimScope(deps.db, campaign);
  const at = deps.clock.now();
  const tally = new PlanTally();
  let cursor = campaign.fanoutCompletedAt ? Number.MAX_SAFE_INTEGER : campaign.fanoutCursor;
  for (;;) {
    const page = await planAudiencePage(deps.db, {
      campaign,
      scope,
      after: cursor,
      limit: 5000,
      now: at,
      sending: deps.config.sending,
      narrowings: deps.audienceNarrowings,
    });
    if (!page) break;
    tally.add(page);
    cursor = page.lastId;
  }
  return {
    campaignId: campaign.id,
    at,
    ...tally.summary(),
    missingTranslations: await planMissingTranslations(deps, campaign, scope),
  };
}

/** Who will read a language the incident's (or the update's) text lacks, counted in SQL over the plan's audience. */
async function planMissingTranslations(
  deps: PlanDeps,
  campaign: Campaign,
  scope: Awaited<ReturnType<typeof findClaimScope>>,
): Promise<MissingTranslation[]> {
  const incident = await findIncidentById(deps.db, campaign.incidentId);
  if (!incident) return [];
  const updates = campaign.updateId ? await listIncidentUpdates(deps.db, incident.id) : [];
  const after = campaign.fanoutCompletedAt ? Number.MAX_SAFE_INTEGER : campaign.fanoutCursor;
  return missingTranslations({
    localeCounts: await countAudienceByLocale(deps.db, campaign, scope, after, deps.audienceNarrowings),
    kind: campaign.kind,
    incidentTexts: incident.texts,
    updateTexts: updates.find((update) => update.id === campaign.updateId)?.texts ?? null,
    defaultLocale: incident.defaultLocale,
  });
}

/**
 * When each channel should finish, for staff before and during the send. Before it starts, from the
 * audience plan (the channel each person gets, by time zone); once it runs, from what is still in
 * flight, grouped by channel and time zone.
 */
export async function estimateCampaign(
  deps: PlanDeps,
  input: { campaignId: number },
): Promise<ChannelEstimate[]> {
  const campaign = await findCampaign(deps.db, input.campaignId);
  if (!campaign) throw new NotFoundError(`There is no campaign ${input.campaignId}.`);
  const { sending } = deps.config;
  let workloads: ChannelWorkload[];
  if (['draft', 'awaiting_approval', 'approved', 'rejected'].includes(campaign.status)) {
    workloads = (await planCampaign(deps, input)).workloads;
  } else {
    const byChannel = new Map<Channel, Record<string, number>>();
    for (const row of await readInFlightByZone(deps.db, campaign.id)) {
      const byZone = byChannel.get(row.channel) ?? {};
      const zone = zoneOrDefault(row.timeZone, sending.defaultTimeZone);
      byZone[zone] = (byZone[zone] ?? 0) + row.n;
      byChannel.set(row.channel, byZone);
    }
    workloads = [...byChannel].map(([channel, byTimeZone]) => ({ channel, byTimeZone }));
  }
  return estimateCompletion({
    now: deps.clock.now(),
    workloads,
    ratePerSecond: sending.ratePerSecond,
    callingHours: sending.callingHours,
  });
}

/**
 * Publishing an update to an incident, and optionally telling people about it through the same
 * pipeline: an `update` campaign for subscribers (or subscribers and everyone affected) is created
 * and submitted, so a second person approves it like any other mass send. The console's update form
 * and the API's postUpdate both come here.
 */
export async function publishIncidentUpdate(
  deps: CampaignDeps & SnapshotDeps,
  input: {
    incidentId: number;
    texts: Record<string, { title: string; body: string }>;
    notify: 'nobody' | 'subscribers' | 'subscribers_and_affected';
    createdBy: number | null;
    channelPolicy?: ChannelPolicy;
  },
): Promise<{ update: IncidentUpdate; campaign: Campaign | null }> {
  const incident = await findIncidentById(deps.db, input.incidentId);
  if (!incident) throw new NotFoundError(`There is no incident ${input.incidentId}.`);
  const main = input.texts[incident.defaultLocale];
  if (!main?.title || !main.body)
    throw new ValidationError(`Give the update in the default language (${incident.defaultLocale}).`);
  const update = await postIncidentUpdate(deps, { incidentId: incident.id, texts: input.texts });
  if (input.notify === 'nobody') return { update, campaign: null };
  const campaign = await createCampaign(deps, {
    incidentId: incident.id,
    kind: 'update',
    audience: input.notify,
    channelPolicy: input.channelPolicy ?? DEFAULT_CHANNEL_POLICY,
    createdBy: input.createdBy,
    updateId: update.id,
  });
  return { update, campaign: await submitCampaign(deps, { campaignId: campaign.id }) };
}
