import { parseArgs } from 'node:util';
import { loadEnvironment, configOrExit, servicesOrExit } from './startup.js';
import { createDeps, type Deps } from './deps.js';
import { migrate } from './platform/db.js';
import { createLogger } from './platform/logger.js';
import { seedDemo } from './demo/seed.js';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createStaffAccount } from './staff/accounts.js';
import { totpUri } from './staff/totp.js';
import { findIncidentBySlug } from './incidents/store.js';
import { createIncident } from './incidents/service.js';
import { csvRecords, runImport } from './imports/run.js';
import { listImportErrors, type ImportRecord } from './imports/store.js';
import { createApiKey } from './api/keys.js';
import { findStaffCredentialsByEmail } from './staff/store.js';
import { recordAudit } from './audit/store.js';

/** Reads a line without echoing it, so a password never lands in the terminal's scrollback. */
function askHidden(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const output = rl as unknown as { _writeToOutput: (text: string) => void };
  let asked = false;
  output._writeToOutput = (text: string) => {
    if (!asked) process.stdout.write(text);
    asked = true;
  };
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    }),
  );
}

function describeImport(result: ImportRecord, seconds: number): string {
  const rate = Math.round(result.rowsProcessed / Math.max(seconds, 0.001));
  const head = `Import ${result.id}: ${result.rowsProcessed} rows in ${seconds.toFixed(1)} s (${rate} rows/s), ${result.rowsValid} valid, ${result.rowsInvalid} with problems.`;
  switch (result.status) {
    case 'completed':
      return `${head}\nImported: ${result.peopleCreated} new people, ${result.peopleMerged} merged with people already on file or repeated in the file.`;
    case 'needs_review':
      return `${head}\nNothing was imported. Fix the rows below and import again, or use --accept-valid-rows.`;
    default:
      return `${head}\nThe file could not be imported: ${result.failure}.`;
  }
}
import { uploadCodesFromFile } from './codes/cli.js';
import { purgeFromCli, rotateFromCli } from './retention/cli.js';

const USAGE = `Usage: npx candor <command>

Commands:
  migrate      apply pending database migrations
  seed-demo    create the demo incident, people and staff (idempotent)
  create-staff --email <email> --name <name> --role <admin|editor|approver|agent|viewer> [--totp]
               create a staff account; the password is read from CANDOR_STAFF_PASSWORD or asked for.
               With --totp the authenticator secret is printed once; otherwise admins and approvers
               set it up at their first sign-in.
  create-api-key --email <staff email> --name <key name> [--role <role>]
               make an API key that acts as that staff member, with their role or a lower one;
               the key is printed once
  create-incident --slug <address> --organisation <name> --title <title> [--language <tag>]
               create an incident, not yet public, with its title in that language (en by default);
               write the rest of its texts and publish it in the console
  import --incident <slug> <file.csv> [--accept-valid-rows]
               import affected people from a CSV file; all or nothing unless --accept-valid-rows
  upload-codes <pool id> <file.csv>
               add a vendor's codes to a code pool (a header line naming a code column; all or nothing)
  purge [--dry-run]
               purge the personal data of incidents resolved more than RETENTION_DAYS ago (the
               workers also do this every few hours); --dry-run only says what is due
  rotate-key   after setting a new ENCRYPTION_KEY (old one in ENCRYPTION_KEYS_PREVIOUS), re-encrypt
               every stored value under the new key; safe to stop and run again
`;

loadEnvironment();
const { positionals, values: flags } = parseArgs({
  allowPositionals: true,
  strict: false,
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    totp: { type: 'boolean' },
    incident: { type: 'string' },
    slug: { type: 'string' },
    organisation: { type: 'string' },
    title: { type: 'string' },
    language: { type: 'string' },
    'accept-valid-rows': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
});
const flag = (key: string) => (typeof flags[key] === 'string' ? flags[key] : undefined);
const command = positionals[0];
if (!command || command === 'help') {
  console.log(USAGE);
  process.exit(command ? 0 : 1);
}
const config = configOrExit();
await servicesOrExit(config);

/**
 * Runs one command on fresh deps: its own failures are told in a line (no stack trace) with exit
 * code 1, and the connections close either way. Logs below warnings stay out of the output.
 */
async function withDeps(command: (deps: Deps) => Promise<void>): Promise<void> {
  const deps = await createDeps(config, { logger: createLogger({ level: 'warn' }) });
  try {
    await command(deps);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  } finally {
    await deps.close();
  }
}
switch (command) {
  case 'migrate': {
    const applied = await migrate(config.databaseUrl, createLogger({ level: 'warn' }));
    console.log(
      applied.length > 0
        ? `Applied ${applied.length} migration(s): ${applied.join(', ')}`
        : 'Database is up to date.',
    );
    break;
  }
  case 'seed-demo': {
    await withDeps(async (deps) => {
      const seed = await seedDemo(deps);
      console.log(
        seed.created
          ? `Created demo incident ${seed.incident.slug}.`
          : `Demo incident ${seed.incident.slug} already exists.`,
      );
    });
    break;
  }
  case 'create-staff': {
    const email = flag('email');
    const name = flag('name');
    const role = flag('role');
    if (!email || !name || !role) {
      console.error(`create-staff needs --email, --name and --role.\n\n${USAGE}`);
      process.exit(1);
    }
    const password =
      process.env.CANDOR_STAFF_PASSWORD ?? (await askHidden('Password (12 characters or more): '));
    await withDeps(async (deps) => {
      const created = await createStaffAccount(deps, {
        email,
        displayName: name,
        role,
        password,
        totp: flags.totp === true,
      });
      console.log(`Staff account ${created.id} is ready: ${email} (${role}).`);
      if (created.totpSecret) {
        console.log(`Add this key to an authenticator app now; it is not shown again: ${created.totpSecret}`);
        console.log(totpUri(created.totpSecret, email));
      } else if (created.totpRequiredAtSignIn) {
        console.log('At their first sign-in they will be asked to set up an authenticator app.');
      }
    });
    break;
  }
  case 'create-api-key': {
    const email = flag('email');
    const name = flag('name');
    if (!email || !name) {
      console.error(`create-api-key needs --email and --name.\n\n${USAGE}`);
      process.exit(1);
    }
    await withDeps(async (deps) => {
      const staff = await findStaffCredentialsByEmail(deps.db, deps.vault, email);
      if (!staff || staff.disabled) throw new Error(`There is no active staff member ${email}.`);
      const { key, token } = await createApiKey(deps, {
        staffId: staff.id,
        name,
        role: flag('role') ?? staff.role,
      });
      await recordAudit(
        deps.db,
        { staffId: null, apiKeyId: null },
        {
          action: 'api_key.create',
          subjectType: 'api_key',
          subjectId: key.id,
          details: { role: key.role, via: 'cli' },
        },
        deps.clock.now(),
      );
      console.log(
        `API key ${key.id} (${key.role}) acts as ${staff.displayName}. Keep it secret; it is not shown again:`,
      );
      console.log(token);
    });
    break;
  }
  case 'create-incident': {
    const slug = flag('slug');
    const organisationName = flag('organisation');
    const title = flag('title');
    if (!slug || !organisationName || !title) {
      console.error(`create-incident needs --slug, --organisation and --title.\n\n${USAGE}`);
      process.exit(1);
    }
    const language = flag('language') ?? 'en';
    await withDeps(async (deps) => {
      const incident = await createIncident(deps, {
        slug,
        organisationName,
        defaultLocale: language,
        texts: { [language]: { title } },
      });
      await recordAudit(
        deps.db,
        { staffId: null, apiKeyId: null },
        {
          action: 'incident.create',
          subjectType: 'incident',
          subjectId: incident.id,
          details: { via: 'cli' },
        },
        deps.clock.now(),
      );
      console.log(
        `Created incident ${incident.id}, to be published at ${deps.config.publicBaseUrl}/incidents/${incident.slug}.`,
      );
    });
    break;
  }
  case 'import': {
    const slug = flag('incident');
    const file = positionals[1];
    if (!slug || !file) {
      console.error(`import needs --incident and a file.\n\n${USAGE}`);
      process.exit(1);
    }
    await withDeps(async (deps) => {
      const incident = await findIncidentBySlug(deps.db, slug);
      if (!incident) throw new Error(`There is no incident "${slug}".`);
      const started = performance.now();
      const result = await runImport(deps, {
        incidentId: incident.id,
        createdBy: null,
        filename: path.basename(file),
        records: csvRecords(fs.createReadStream(file)),
        acceptValidRows: flags['accept-valid-rows'] === true,
        onProgress: (counts) =>
          process.stderr.write(`\r${counts.processed} rows read, ${counts.invalid} with problems`),
      });
      process.stderr.write('\n');
      const seconds = (performance.now() - started) / 1000;
      console.log(describeImport(result, seconds));
      if (result.rowsInvalid > 0) {
        for (const error of await listImportErrors(deps.db, result.id, 20))
          console.log(`  line ${error.line}${error.column ? `, ${error.column}` : ''}: ${error.reason}`);
        if (result.rowsInvalid > 20) console.log('  ...');
      }
      if (result.status !== 'completed') process.exitCode = 2;
    });
    break;
  }
  case 'upload-codes': {
    await withDeps(async (deps) => {
      const outcome = await uploadCodesFromFile(deps, positionals[1], positionals[2]);
      if (!outcome.ok) throw new Error(outcome.message);
      console.log(outcome.message);
    });
    break;
  }
  case 'purge':
  case 'rotate-key': {
    await withDeps(async (deps) => {
      console.log(
        command === 'purge'
          ? await purgeFromCli(deps, { dryRun: flags['dry-run'] === true })
          : await rotateFromCli(deps),
      );
    });
    break;
  }
  default:
    console.error(`Unknown command: ${command}\n\n${USAGE}`);
    process.exit(1);
}
