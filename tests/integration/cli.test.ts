import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { newSecrets, parseConfig, REQUIRED_IN_PRODUCTION } from '../../src/config.js';
import { DEMO_PASSWORD, DEMO_STAFF } from '../../src/demo/seed.js';
import { checkTotp } from '../../src/staff/totp.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Each case starts real CLI processes (Node plus the TypeScript loader): seconds each on a busy machine. */
const SPAWNING = { timeout: 300_000 };

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real `npx candor …` (bin/candor.js), with only the environment given, from a directory without .env. */
function candor(env: Record<string, string>, ...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'bin/candor.js'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Nothing listens here: help must not need PostgreSQL or Redis. */
const NO_SERVICES = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
  REDIS_URL: 'redis://127.0.0.1:1',
};

describe('npx candor without services', SPAWNING, () => {
  it('prints the usage and exits 0 for --help, -h and help, listing every command', async () => {
    const [long, short, word] = await Promise.all([
      candor(NO_SERVICES, '--help'),
      candor(NO_SERVICES, '-h'),
      candor(NO_SERVICES, 'help'),
    ]);
    for (const outcome of [long, short, word]) {
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).toMatch(/^Usage: npx candor <command>/);
    }
    for (const command of ['migrate', 'seed-demo', 'create-staff', 'import', 'totp', 'generate-secrets'])
      expect(long.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it("prints each command's own usage and exits 0 for <command> --help", async () => {
    const listed = (await candor(NO_SERVICES, '--help')).stdout;
    const commands = [...listed.matchAll(/^ {2}([a-z][a-z-]+)/gm)].map((match) => match[1]!);
    expect(commands.length).toBeGreaterThanOrEqual(10);
    // One at a time: a dozen loaders at once would only crowd the machine.
    for (const command of commands) {
      const outcome = await candor(NO_SERVICES, command, '--help');
      expect(outcome.code, `${command} --help: ${outcome.stderr}`).toBe(0);
      expect(outcome.stdout).toMatch(new RegExp(`^Usage: npx candor ${command}\\b`));
    }
    const viaHelp = await candor(NO_SERVICES, 'help', 'import');
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(/^Usage: npx candor import --incident <slug> <file.csv>/);
  });

  it('refuses an unknown command, or none, with a non-zero exit and says where the list is', async () => {
    const unknown = await candor(NO_SERVICES, 'sed-demo');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown command: sed-demo. Run npx candor --help to see the commands.');
    const none = await candor(NO_SERVICES);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^Usage: npx candor <command>/);
  });

  it('names the host and port of REDIS_URL in its hint to start Redis', async () => {
    const outcome = await candor({ ...NO_SERVICES, REDIS_URL: 'redis://127.0.0.1:1' }, 'migrate');
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('redis-server --daemonize yes --bind 127.0.0.1 --port 1 ');
    expect(outcome.stderr).toContain('CANDOR_REDIS_PORT=1 docker compose');
  });

  it('writes new production secrets once to a file, and keeps them on the next run', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'candor-secrets-'));
    try {
      const file = path.join(dir, 'secrets.env');
      const first = await candor(NO_SERVICES, 'generate-secrets', '--file', file);
      expect(first.code, first.stderr).toBe(0);
      const written = fs.readFileSync(file, 'utf8');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const secrets = Object.fromEntries(
        written
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      expect(Object.keys(secrets).sort()).toEqual([...REQUIRED_IN_PRODUCTION].sort());
      expect(() => parseConfig({ NODE_ENV: 'production', ...secrets })).not.toThrow();
      const second = await candor(NO_SERVICES, 'generate-secrets', '--file', file);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('already exists');
      expect(fs.readFileSync(file, 'utf8')).toBe(written);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npx candor seed-demo and totp', SPAWNING, () => {
  let ctx: TestContext;
  let env: Record<string, string>;
  beforeAll(async () => {
    ctx = await startTestContext();
    env = {
      DATABASE_URL: ctx.config.databaseUrl,
      REDIS_URL: ctx.config.redisUrl,
      QUEUE_PREFIX: ctx.config.queuePrefix,
      PUBLIC_BASE_URL: ctx.config.publicBaseUrl,
    };
  });
  afterAll(async () => ctx?.close());

  it('prints the demo accounts and the approver key, and totp prints the code that key gives now', async () => {
    const seeded = await candor({ ...env, NODE_ENV: 'development' }, 'seed-demo');
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stdout).toContain(`${DEMO_STAFF.editor}    password: ${DEMO_PASSWORD}`);
    expect(seeded.stdout).toContain(`${DEMO_STAFF.approver}  password: ${DEMO_PASSWORD}`);
    expect(seeded.stdout).toContain(`${ctx.config.publicBaseUrl}/console`);
    const secret = /add this key to an authenticator app\n\s+(\S+)/.exec(seeded.stdout)?.[1];
    expect(secret, 'the approver key is printed').toBeDefined();

    const shown = await candor({ ...env, NODE_ENV: 'development' }, 'totp', DEMO_STAFF.approver);
    expect(shown.code, shown.stderr).toBe(0);
    const code = shown.stdout.trim();
    expect(code).toMatch(/^\d{6}$/);
    expect((await checkTotp(secret!, code, { now: new Date(), lastStep: null })).valid).toBe(true);

    const again = await candor({ ...env, NODE_ENV: 'development' }, 'seed-demo');
    expect(again.stdout).toContain('already exists');
    expect(again.stdout).toContain(secret);
  });

  it('refuses totp outside development, with a clear message and no code', async () => {
    const production = await candor(
      { ...env, NODE_ENV: 'production', ...newSecrets() },
      'totp',
      DEMO_STAFF.approver,
    );
    expect(production.code).toBe(1);
    expect(production.stderr).toContain('runs only with NODE_ENV=development (this is production)');
    expect(production.stdout).not.toMatch(/\d{6}/);
    const unknown = await candor({ ...env, NODE_ENV: 'development' }, 'totp', 'nobody@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('There is no staff member nobody@example.com.');
  });
});
