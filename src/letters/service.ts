import type { Deps } from '../deps.js';
import { findCampaign, type Campaign } from '../campaigns/store.js';
import { findIncidentById, type Incident } from '../incidents/store.js';
import { withTransaction } from '../platform/db.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { buildLettersPdf, letterPrintOptions } from './pdf.js';
import type { Envelope } from './layout.js';
import {
  countCampaignLetters,
  findLetterBatch,
  loadCampaignLetters,
  markBatchPosted,
  recordBatchDownload,
  type LetterBatch,
} from './store.js';

type LetterDeps = Pick<Deps, 'config' | 'db' | 'vault' | 'clock'>;

/** What the console's letters page shows: the batch as printed and posted, and the letters filed since. */
export interface CampaignLetters {
  campaign: Campaign;
  incident: Incident;
  /** Letters filed for printing, and how many of them are posted. */
  filed: number;
  posted: number;
  batch: LetterBatch | null;
}

export async function campaignLetters(deps: Pick<Deps, 'db'>, campaignId: number): Promise<CampaignLetters> {
  const campaign = await findCampaign(deps.db, campaignId);
  const incident = campaign ? await findIncidentById(deps.db, campaign.incidentId) : null;
  if (!campaign || !incident) throw new NotFoundError('no such campaign');
  const counts = await countCampaignLetters(deps.db, campaignId);
  return { campaign, incident, ...counts, batch: await findLetterBatch(deps.db, campaignId) };
}

/** The print-ready PDF of a campaign's letters; making it is what prints them. */
export async function downloadLetters(
  deps: LetterDeps,
  campaignId: number,
): Promise<{ pdf: Buffer; envelope: Envelope; letters: number }> {
  const letters = await loadCampaignLetters(deps.db, deps.vault, campaignId);
  if (letters.length === 0) throw new NotFoundError('this campaign has no letters');
  const options = letterPrintOptions(deps);
  const pdf = await buildLettersPdf(letters, options);
  await recordBatchDownload(
    deps.db,
    campaignId,
    letters.map((letter) => letter.messageId),
    options.envelope,
    options.date,
  );
  return { pdf, envelope: options.envelope, letters: letters.length };
}

/**
 * Staff put the printed letters in the post. From then each printed letter counts as sent on that
 * day (its message's `sent_at`): the post gives no receipt, so `sent` is as far as a letter's status
 * goes. Marking again changes nothing and keeps who marked it first.
 */
export async function markLettersPosted(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: { campaignId: number; staffId: number | null },
): Promise<{ batch: LetterBatch; newlyPosted: number }> {
  const result = await withTransaction(deps.db, (tx) =>
    markBatchPosted(tx, input.campaignId, input.staffId, deps.clock.now()),
  );
  if (!result) throw new ConflictError('Download and print the letters before marking them posted.');
  return result;
}
