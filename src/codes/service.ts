import type { Readable } from 'node:stream';
import type { Deps } from '../deps.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import { isUniqueViolation } from '../platform/db.js';
import { findIncidentById, localizedEntry } from '../incidents/store.js';
import { fallbackMark, type LanguageMark } from '../platform/languages.js';
import { DEFAULT_CHANNEL_POLICY, type ChannelPolicy } from '../campaigns/channel-policy.js';
import { createCampaign } from '../campaigns/service.js';
import type { Campaign } from '../campaigns/store.js';
import type { CodeOfferFacts } from '../notices/render.js';
import { checkStock, type AlertDeps } from './alerts.js';
import { readCodeFile } from './csv.js';
import {
  alertLevelAfterUpload,
  formatDay,
  deadlinePassed,
  enrollmentUrl,
  isEligible,
  isGoodwill,
  normalizeCode,
  offerState,
  reminderSendAt,
  type CodeFileProblem,
  type FileProblem,
  type OfferState,
} from './rules.js';
import {
  claimCode,
  countAvailableUpTo,
  existingCodeHashes,
  findAssignment,
  findCodeByHash,
  findPoolOfCampaign,
  findPool,
  insertCodeCampaign,
  insertCodes,
  insertPool,
  listPools,
  markEnrollmentStarted,
  markRedeemed,
  poolStock,
  setAlertLevel,
  type Pool,
} from './store.js';
import type { PoolInput } from './validation.js';

/** The code use cases, each in the order a person would tell it. */
export type CodeDeps = AlertDeps & Pick<Deps, 'queues'>;

/** Codes are compared by keyed hash; the `code:` prefix keeps them apart from people's dedupe keys. */
export function codeHash(deps: Pick<Deps, 'vault'>, code: string): Buffer {
  return deps.vault.hash('dedupe', `code:${normalizeCode(code)}`);
}

export async function createPool(
  deps: Pick<Deps, 'db'>,
  input: PoolInput & { incidentId: number; createdBy: number | null },
): Promise<Pool> {
  const incident = await findIncidentById(deps.db, input.incidentId);
  if (!incident) throw new NotFoundError(`There is no incident ${input.incidentId}.`);
  return insertPool(deps.db, input);
}

/** An upload that cannot be used, with every problem by line; nothing from it was stored. */
export class CodeFileError extends ValidationError {
  override name = 'CodeFileError';
  constructor(
    readonly problems: CodeFileProblem[],
    readonly file: FileProblem | undefined,
  ) {
    super(
      file
        ? `The file cannot be used: ${file.problem}${'line' in file ? ` at line ${file.line}` : ''}.`
        : `The file has ${problems.length} problem(s): ${problems
            .slice(0, 10)
            .map((p) => `line ${p.line} ${p.problem}${p.firstLine ? ` (same as line ${p.firstLine})` : ''}`)
            .join('; ')}${problems.length > 10 ? '; …' : ''}.`,
    );
  }
}

/**
 * Adds a vendor's codes to a pool: read and check every row, refuse the whole file if any row is bad
 * or repeats a code already in the pool, store the rest sealed, and clear the stock alert if the pool
 * is healthy again.
 */
export async function uploadCodes(
  deps: Pick<Deps, 'db' | 'vault'>,
  input: {
    poolId: number;
    file: string | Buffer | Readable;
    uploadedBy: number | null;
    source: 'console' | 'api' | 'cli';
  },
): Promise<{ added: number; available: number }> {
  const pool = await findPool(deps.db, input.poolId);
  if (!pool) throw new NotFoundError(`There is no code pool ${input.poolId}.`);
  const read = await readCodeFile(input.file);
  if (!read.ok) throw new CodeFileError(read.problems, read.file);

  const hashes = read.codes.map((code) => codeHash(deps, code.code));
  const existing = await existingCodeHashes(deps.db, pool.id, hashes);
  const problems: CodeFileProblem[] = read.codes
    .filter((_, i) => existing.has(hashes[i]!.toString('hex')))
    .map((code) => ({ line: code.line, problem: 'already_in_pool' }));
  if (problems.length > 0) throw new CodeFileError(problems, undefined);

  try {
    await insertCodes(
      deps.db,
      { poolId: pool.id, uploadedBy: input.uploadedBy, source: input.source },
      read.codes.map((code, i) => ({ hash: hashes[i]!, sealed: deps.vault.seal(code.code) })),
    );
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(
        'Another upload added some of these codes at the same moment. Upload the file again.',
      );
    }
    throw error;
  }
  const available = (await poolStock(deps.db, pool.id)).available;
  await setAlertLevel(deps.db, pool.id, alertLevelAfterUpload(available, pool.lowStockThreshold));
  return { added: read.codes.length, available };
}

interface PersonFacts {
  id: number;
  incidentId: number;
  affected: boolean;
  exposedDataTypes: string[];
}

async function loadPersonFacts(deps: Pick<Deps, 'db'>, personId: number): Promise<PersonFacts> {
  const { rows } = await deps.db.query<{
    id: number;
    incident_id: number;
    affected: boolean;
    exposed_data_types: string[];
  }>('SELECT id, incident_id, affected, exposed_data_types FROM people WHERE id = $1', [personId]);
  const row = rows[0];
  if (!row) throw new NotFoundError('There is no such person.');
  return {
    id: row.id,
    incidentId: row.incident_id,
    affected: row.affected,
    exposedDataTypes: row.exposed_data_types,
  };
}

/** A pool this person may have a code from, or NotFound (which also hides pools of other incidents). */
async function poolForPerson(deps: Pick<Deps, 'db'>, poolId: number, person: PersonFacts): Promise<Pool> {
  const pool = await findPool(deps.db, poolId);
  if (!pool || pool.incidentId !== person.incidentId || !isEligible(pool, person)) {
    throw new NotFoundError('There is no such offer for you.');
  }
  return pool;
}

export type RevealResult =
  | { outcome: 'revealed'; code: string; firstTime: boolean }
  | { outcome: 'replenishing' }
  | { outcome: 'closed' };

/**
 * A verified person asks to see their code: check the offer is theirs, give them their code (the one
 * they already have, or the next free one, atomically), and warn the admins if stock is running out.
 * An empty pool is not an error: the person is told calmly that codes are being replenished.
 */
export async function revealCode(
  deps: CodeDeps,
  input: { personId: number; poolId: number },
): Promise<RevealResult> {
  const person = await loadPersonFacts(deps, input.personId);
  const pool = await poolForPerson(deps, input.poolId, person);
  const existing = await findAssignment(deps.db, pool.id, person.id);
  if (!existing && deadlinePassed(pool.enrollBy, deps.clock.now())) return { outcome: 'closed' };

  const claim = existing
    ? { outcome: 'already_had' as const, assignment: existing }
    : await claimCode(deps.db, pool.id, person.id, deps.clock.now());
  if (claim.outcome === 'empty') {
    await checkStock(deps, pool, true);
    return { outcome: 'replenishing' };
  }
  if (claim.outcome === 'assigned') {
    deps.logger.info(
      { poolId: pool.id, personId: person.id, codeId: claim.assignment.codeId },
      'code assigned',
    );
    await checkStock(deps, pool);
  }
  return {
    outcome: 'revealed',
    code: deps.vault.open(claim.assignment.sealedCode),
    firstTime: claim.outcome === 'assigned',
  };
}

export interface PersonalOffer {
  poolId: number;
  kind: Pool['kind'];
  name: string;
  vendorName: string;
  instructions: string | null;
  /** Set when the instructions are in another language than the one asked for (the incident's default). */
  instructionsMark: LanguageMark | null;
  enrollBy: string | null;
  canEnroll: boolean;
  offer: OfferState;
  /** Only once revealed. */
  code: string | null;
}

/** Every offer on the person's page: revealed codes with how to use them, and what is still to reveal. */
export async function listPersonalOffers(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  input: { personId: number; locale: string },
): Promise<PersonalOffer[]> {
  const person = await loadPersonFacts(deps, input.personId);
  const incident = await findIncidentById(deps.db, person.incidentId);
  const pools = (await listPools(deps.db, { incidentId: person.incidentId })).filter((pool) =>
    isEligible(pool, person),
  );
  const offers: PersonalOffer[] = [];
  for (const pool of pools) {
    const assignment = await findAssignment(deps.db, pool.id, person.id);
    const passed = deadlinePassed(pool.enrollBy, deps.clock.now());
    const instructions = localizedEntry(pool.instructions, input.locale, incident?.defaultLocale ?? 'en');
    offers.push({
      poolId: pool.id,
      kind: pool.kind,
      name: pool.name,
      vendorName: pool.vendorName,
      instructions: instructions?.value ?? null,
      instructionsMark: fallbackMark(input.locale, instructions?.locale),
      enrollBy: pool.enrollBy,
      canEnroll: pool.enrollmentUrlTemplate !== null && !passed,
      offer: offerState({
        assigned: assignment
          ? {
              enrollmentStarted: assignment.enrollmentStartedAt !== null,
              redeemed: assignment.redeemedAt !== null,
            }
          : null,
        available: assignment ? 0 : await countAvailableUpTo(deps.db, pool.id, 1),
        deadlinePassed: passed,
      }),
      code: assignment ? deps.vault.open(assignment.sealedCode) : null,
    });
  }
  return offers;
}

/**
 * The person follows the link to the vendor: record that enrollment started (the first time), then
 * send them to the vendor's page for their own code.
 */
export async function startEnrollment(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  input: { personId: number; poolId: number },
): Promise<string> {
  const person = await loadPersonFacts(deps, input.personId);
  const pool = await poolForPerson(deps, input.poolId, person);
  const assignment = await findAssignment(deps.db, pool.id, person.id);
  if (!assignment || !pool.enrollmentUrlTemplate)
    throw new NotFoundError('There is no code to enrol with yet.');
  await markEnrollmentStarted(deps.db, assignment.codeId, deps.clock.now());
  return enrollmentUrl(pool.enrollmentUrlTemplate, deps.vault.open(assignment.sealedCode));
}

/**
 * Staff (a vendor's report, a call) or a shop's system through the API say a code was used. Only a
 * code given to someone can be redeemed; saying it twice changes nothing.
 */
export async function confirmRedemption(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  input: { poolId: number; code: string; via: 'staff' | 'api'; staffId: number | null },
): Promise<{ outcome: 'redeemed' | 'already_redeemed'; codeId: number }> {
  const pool = await findPool(deps.db, input.poolId);
  if (!pool) throw new NotFoundError(`There is no code pool ${input.poolId}.`);
  const code = await findCodeByHash(deps.db, pool.id, codeHash(deps, input.code));
  if (!code) throw new NotFoundError('That code is not in this pool.');
  if (code.personId === null) throw new ConflictError('That code has not been given to anyone yet.');
  const changed = await markRedeemed(
    deps.db,
    code.id,
    { via: input.via, staffId: input.staffId },
    deps.clock.now(),
  );
  return { outcome: changed ? 'redeemed' : 'already_redeemed', codeId: code.id };
}

/**
 * A campaign about a pool, through the normal pipeline (approval by a second person, channel policy):
 * the offer goes to everyone eligible; a reminder goes, N days before the enroll-by date, to people
 * offered a code who have not redeemed it.
 */
export async function createCodeCampaign(
  deps: CodeDeps,
  input: {
    poolId: number;
    purpose: 'offer' | 'reminder';
    daysBefore?: number;
    createdBy: number | null;
    channelPolicy?: ChannelPolicy;
  },
): Promise<Campaign & { scheduledFor: Date | null }> {
  const pool = await findPool(deps.db, input.poolId);
  if (!pool) throw new NotFoundError(`There is no code pool ${input.poolId}.`);
  let scheduledFor: Date | null = null;
  if (input.purpose === 'reminder') {
    if (!pool.enrollBy)
      throw new ConflictError('This pool has no enroll-by date, so there is nothing to remind people of.');
    const days = input.daysBefore;
    if (days === undefined || !Number.isInteger(days) || days < 1) {
      throw new ValidationError('Say how many days before the enroll-by date to remind people.', {
        daysBefore: 'invalid',
      });
    }
    if (deadlinePassed(pool.enrollBy, deps.clock.now()))
      throw new ConflictError('The enroll-by date has passed.');
    scheduledFor = reminderSendAt(pool.enrollBy, days);
  }
  const campaign = await createCampaign(deps, {
    incidentId: pool.incidentId,
    kind: input.purpose === 'offer' ? 'code_offer' : 'code_reminder',
    // The base audience; the fan-out narrows it to this pool's people (src/codes/audience.ts).
    audience: pool.eligibility === 'everyone' ? 'everyone' : 'affected',
    channelPolicy: input.channelPolicy ?? DEFAULT_CHANNEL_POLICY,
    createdBy: input.createdBy,
  });
  await insertCodeCampaign(deps.db, {
    campaignId: campaign.id,
    poolId: pool.id,
    purpose: input.purpose,
    daysBefore: input.purpose === 'reminder' ? (input.daysBefore ?? null) : null,
  });
  if (scheduledFor)
    await deps.db.query('UPDATE campaigns SET scheduled_for = $2 WHERE id = $1', [campaign.id, scheduledFor]);
  return { ...campaign, scheduledFor };
}

/** What a code offer or reminder says about the code, for the notice renderer. */
export interface CodeMessageFacts {
  poolName: string;
  kind: Pool['kind'];
  vendorName: string;
  /** The pool's steps, by language. */
  instructions: Record<string, string>;
  /** YYYY-MM-DD, or null when the code does not expire. */
  deadline: string | null;
  /** Where the person reveals (or sees again) their code. */
  revealUrl: string;
  /** The code itself, only when the pool's offer mode puts it in the message and one was free. */
  code: string | null;
}

/**
 * For the send worker: the code facts of one message of a code campaign, or null for any other
 * campaign. In `code_in_message` pools this assigns the person's code (the same atomic claim as a
 * reveal), so a resent message carries the same code.
 */
export async function codeFactsForMessage(
  deps: CodeDeps,
  input: { campaignId: number; personId: number },
): Promise<CodeMessageFacts | null> {
  const found = await findPoolOfCampaign(deps.db, input.campaignId);
  if (!found) return null;
  const { pool, incidentSlug } = found;
  let code: string | null = null;
  if (pool.offerMode === 'code_in_message') {
    const result = await revealCode(deps, { personId: input.personId, poolId: pool.id }).catch(
      (error: unknown) => {
        if (error instanceof NotFoundError) return null;
        throw error;
      },
    );
    if (result?.outcome === 'revealed') code = result.code;
  }
  return {
    poolName: pool.name,
    kind: pool.kind,
    vendorName: pool.vendorName,
    instructions: pool.instructions,
    deadline: pool.enrollBy,
    revealUrl: `${deps.config.publicBaseUrl}/incidents/${incidentSlug}/codes`,
    code,
  };
}

/**
 * What a code offer or reminder tells one person about the code, in their language, for the notice
 * renderer; null for a campaign that is not about codes. The send worker gets this passed in as
 * `ComposeDeps.codeOffer`.
 */
export async function codeNoticeFacts(
  deps: CodeDeps,
  input: { campaignId: number; personId: number; locale: string },
): Promise<CodeOfferFacts | null> {
  const facts = await codeFactsForMessage(deps, input);
  if (!facts) return null;
  return {
    service: facts.poolName,
    goodwill: isGoodwill(facts.kind),
    vendor: facts.vendorName,
    // Only steps written in this very language: an English paragraph in a French letter helps nobody.
    instructions: facts.instructions[input.locale]?.trim() || null,
    deadline: facts.deadline ? formatDay(input.locale, facts.deadline) : null,
    code: facts.code,
  };
}

export { listStockWarnings, poolStock, listPools, findPool } from './store.js';
