import type { Deps } from '../deps.js';
import { purgeDue } from './purge.js';
import { rotateKeys } from './rotate.js';

/** `npx candor purge [--dry-run]`: what the scheduled purge does, now, told in words. */
export async function purgeFromCli(deps: Deps, options: { dryRun: boolean }): Promise<string> {
  const reports = await purgeDue(deps, options);
  const when = `resolved more than ${deps.config.retentionDays} days ago (RETENTION_DAYS)`;
  if (reports.length === 0) return `Nothing is due: no incident ${when} still holds personal data.`;
  const lines = reports.map((r) => `  ${r.slug}: ${r.people} people`);
  return options.dryRun
    ? [
        `Would purge the personal data of incidents ${when}:`,
        ...lines,
        'Run without --dry-run to do it.',
      ].join('\n')
    : [`Purged the personal data of incidents ${when} (the proof of notice is kept):`, ...lines].join('\n');
}

/** `npx candor rotate-key`: moves every sealed value to ENCRYPTION_KEY. */
export async function rotateFromCli(deps: Deps): Promise<string> {
  const reports = await rotateKeys(deps);
  const moved = reports.filter((r) => r.rows > 0);
  const total = moved.reduce((sum, r) => sum + r.rows, 0);
  return [
    total === 0
      ? 'Every sealed value is already under the current ENCRYPTION_KEY.'
      : `Re-encrypted ${total} rows under the current ENCRYPTION_KEY:`,
    ...moved.map((r) => `  ${r.table}: ${r.rows}`),
    'Once every web and worker process runs with this ENCRYPTION_KEY, the old key can be removed from ENCRYPTION_KEYS_PREVIOUS.',
  ].join('\n');
}
