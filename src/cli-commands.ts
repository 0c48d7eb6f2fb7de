import { configOrExit, servicesOrExit } from './startup.js';
import { createDeps, type Deps } from './deps.js';
import { migrate } from './platform/db.js';
import { createLogger } from './platform/logger.js';
import { ensureDemoCredentials, seedDemo } from './demo/seed.js';
import { describeDemoAccess } from './demo/access.js';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createStaffAccount, developmentTotpCode } from './staff/accounts.js';
import { totpUri } from './staff/totp.js';
import { findIncidentBySlug } from './incidents/store.js';
import { createIncident } from './incidents/service.js';
import { csvRecords, runImport } from './imports/run.js';
import { listImportErrors, type ImportRecord } from './imports/store.js';
import { createApiKey } from './api/keys.js';
import { findStaffCredentialsByEmail } from './staff/store.js';
import { recordAudit } from './audit/store.js';
import { uploadCodesFromFile } from './codes/cli.js';
import { purgeFromCli, rotateFromCli } from './retention/cli.js';

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
/** What the entry point parsed: the command, its arguments and flags, and how to refuse them. */
export interface CommandLine {
  command: string;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
  usageError: (problem: string) => never;
}

/** Runs one command on the configured services (their absence is told, with how to start them). */
export async function runCommand({ command, positionals, flags, usageError }: CommandLine): Promise<void> {
  const flag = (key: string) => (typeof flags[key] === 'string' ? flags[key] : undefined);
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
        // The demo password is published: production gets the staff accounts, never that password.
        if (config.env === 'production') {
          console.log('The demo staff have no password in production: use create-staff to set one.');
          return;
        }
        const { approverTotpSecret, adminTotpSecret } = await ensureDemoCredentials(deps, seed);
        console.log(
          `\n${describeDemoAccess({ publicBaseUrl: config.publicBaseUrl, slug: seed.incident.slug, approverTotpSecret, adminTotpSecret })}`,
        );
      });
      break;
    }
    case 'create-staff': {
      const email = flag('email');
      const name = flag('name');
      const role = flag('role');
      if (!email || !name || !role) {
        return usageError('create-staff needs --email, --name and --role.');
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
          console.log(
            `Add this key to an authenticator app now; it is not shown again: ${created.totpSecret}`,
          );
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
        return usageError('create-api-key needs --email and --name.');
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
        return usageError('create-incident needs --slug, --organisation and --title.');
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
        return usageError('import needs --incident and a file.');
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
    case 'totp': {
      const email = positionals[1];
      if (!email) return usageError("totp needs the staff member's email.");
      if (config.env !== 'development') {
        console.error(
          `npx candor totp prints a second factor's code, so it runs only with NODE_ENV=development (this is ${config.env}).`,
        );
        process.exit(1);
      }
      await withDeps(async (deps) => {
        console.log(await developmentTotpCode(deps, email));
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
  }
}
