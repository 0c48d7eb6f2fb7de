import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadEnvironment } from './platform/env-file.js';
import { newSecrets } from './config.js';

// `npx candor <command>`. Help and secrets need neither the services nor the modules behind the
// commands: those load only once a command is known to run (see cli-commands.ts).

/** Every command, with the usage `--help` prints for it. */
const COMMANDS: Record<string, { usage: string; about: string }> = {
  migrate: { usage: 'migrate', about: 'apply pending database migrations' },
  'seed-demo': {
    usage: 'seed-demo',
    about:
      'create the demo incident, people and staff (does nothing if they exist) and print how to sign in; ' +
      'outside production the demo staff get the published demo password',
  },
  'create-staff': {
    usage: 'create-staff --email <email> --name <name> --role <admin|editor|approver|agent|viewer> [--totp]',
    about:
      'create a staff account; the password is read from CANDOR_STAFF_PASSWORD or asked for. With --totp ' +
      'the authenticator secret is printed once; otherwise admins and approvers set it up at their first sign-in',
  },
  'create-api-key': {
    usage: 'create-api-key --email <staff email> --name <key name> [--role <role>]',
    about:
      'make an API key that acts as that staff member, with their role or a lower one; the key is printed once',
  },
  'create-incident': {
    usage: 'create-incident --slug <address> --organisation <name> --title <title> [--language <tag>]',
    about:
      'create an incident, not yet public, with its title in that language (en by default); write the ' +
      'rest of its texts and publish it in the console',
  },
  import: {
    usage: 'import --incident <slug> <file.csv> [--accept-valid-rows]',
    about: 'import affected people from a CSV file; all or nothing unless --accept-valid-rows',
  },
  'upload-codes': {
    usage: 'upload-codes <pool id> <file.csv>',
    about: "add a vendor's codes to a code pool (a header line naming a code column; all or nothing)",
  },
  purge: {
    usage: 'purge [--dry-run]',
    about:
      'purge the personal data of incidents resolved more than RETENTION_DAYS ago (the workers also do ' +
      'this every few hours); --dry-run only says what is due',
  },
  'rotate-key': {
    usage: 'rotate-key',
    about:
      'after setting a new ENCRYPTION_KEY (old one in ENCRYPTION_KEYS_PREVIOUS), re-encrypt every stored ' +
      'value under the new key; safe to stop and run again',
  },
  totp: {
    usage: 'totp <email>',
    about:
      "development only (NODE_ENV=development): print the 6-digit code a staff member's authenticator " +
      "shows now, e.g. the demo approver's; refused anywhere else",
  },
  'generate-secrets': {
    usage: 'generate-secrets [--file <path>]',
    about:
      'print new ENCRYPTION_KEY, LOOKUP_HMAC_KEY and SESSION_SECRET lines for .env; with --file, write ' +
      'them to that file unless it already exists (the Docker setup does this on its first start)',
  },
};

/** Wraps a description under its usage line, indented, at about 100 columns. */
function describe(about: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of about.split(' ')) {
    if (line && indent.length + line.length + word.length + 1 > 100) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, indent + line].join('\n');
}

const USAGE = `Usage: npx candor <command> [options]

Commands:
${Object.values(COMMANDS)
  .map(({ usage, about }) => `  ${usage}\n${describe(about, '      ')}`)
  .join('\n')}

npx candor <command> --help describes one command. Settings come from the environment and .env.`;

function usageOf({ usage, about }: { usage: string; about: string }): string {
  return `Usage: npx candor ${usage}\n\n${describe(about, '')}`;
}

loadEnvironment();
const { positionals, values: flags } = parseArgs({
  allowPositionals: true,
  strict: false,
  options: {
    help: { type: 'boolean', short: 'h' },
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    totp: { type: 'boolean' },
    incident: { type: 'string' },
    slug: { type: 'string' },
    organisation: { type: 'string' },
    title: { type: 'string' },
    language: { type: 'string' },
    file: { type: 'string' },
    'accept-valid-rows': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
});
const flag = (key: string) => (typeof flags[key] === 'string' ? flags[key] : undefined);
const command = positionals[0];
if (command === 'help' || (!command && flags.help === true)) {
  const topic = positionals[1];
  const topicHelp = topic ? COMMANDS[topic] : undefined;
  if (topic && !topicHelp) {
    console.error(`Unknown command: ${topic}. Run npx candor --help to see the commands.`);
    process.exit(1);
  }
  console.log(topic && topicHelp ? usageOf(topicHelp) : USAGE);
  process.exit(0);
}
if (!command) {
  console.error(USAGE);
  process.exit(1);
}
const commandHelp = COMMANDS[command];
if (!commandHelp) {
  console.error(`Unknown command: ${command}. Run npx candor --help to see the commands.`);
  process.exit(1);
}
if (flags.help === true) {
  console.log(usageOf(commandHelp));
  process.exit(0);
}
/** A command's own usage, after what was missing, on stderr; exit code 1. */
function usageError(problem: string): never {
  console.error(`${problem}\n\n${usageOf(commandHelp!)}`);
  process.exit(1);
}

// Before any configuration is read: in production the configuration needs the secrets this makes.
if (command === 'generate-secrets') {
  const text = Object.entries(newSecrets())
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
  const file = flag('file');
  if (!file) {
    console.log(text);
  } else {
    try {
      fs.writeFileSync(file, `${text}\n`, { flag: 'wx', mode: 0o600 });
      console.log(`Wrote new secrets to ${file}.`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      console.log(`${file} already exists: its secrets are kept.`);
    }
  }
  process.exit(0);
}
const { runCommand } = await import('./cli-commands.js');
await runCommand({ command, positionals, flags, usageError });
