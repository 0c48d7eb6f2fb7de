import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeStaff } from '../support/factories.js';
import { codeList, makePool, stockPool } from '../support/codes.js';
import { csrfFrom, signedInStaff, verifiedPerson } from '../support/sessions.js';
import { listOutbox } from '../../src/sandbox-outbox/store.js';
import { listStockWarnings } from '../../src/codes/store.js';
import type { Pool } from '../../src/codes/store.js';
import type { Incident } from '../../src/incidents/store.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface AppProcess {
  child: ChildProcess;
  baseUrl: string;
}

/** Starts a separate Candor web process (its own deps, pools and Redis connections) on the test's schema and prefix. */
async function startAppProcess(ctx: TestContext): Promise<AppProcess> {
  const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['tests/support/app-process.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: ctx.config.databaseUrl,
      REDIS_URL: ctx.config.redisUrl,
      QUEUE_PREFIX: ctx.config.queuePrefix,
      PUBLIC_BASE_URL: ctx.config.publicBaseUrl,
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`app process did not start: ${output}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`app process exited with ${code}: ${output}`)));
  });
  return { child, baseUrl: `http://127.0.0.1:${port}` };
}

async function stopAppProcess(app: AppProcess | undefined): Promise<void> {
  if (!app || app.child.exitCode !== null) return;
  const exited = new Promise((resolve) => app.child.once('exit', resolve));
  app.child.kill('SIGTERM');
  await exited;
}

/** What a browser would do: the page, with the session cookie. */
async function getPage(baseUrl: string, pathname: string, cookie: string) {
  const response = await fetch(`${baseUrl}${pathname}`, { headers: { cookie }, redirect: 'manual' });
  return { status: response.status, html: await response.text() };
}

async function postForm(baseUrl: string, pathname: string, cookie: string, form: Record<string, string>) {
  const response = await fetch(`${baseUrl}${pathname}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

const shownCode = (html: string) => /<code data-code>([^<]+)<\/code>/.exec(html)?.[1] ?? null;

describe('first reveals of one pool from two app processes at once', () => {
  let ctx: TestContext;
  let a: AppProcess | undefined;
  let b: AppProcess | undefined;
  let incident: Incident;
  let pool: Pool;
  let people: { id: number }[];
  let adminEmail: string;
  /** The 101st person opened the page while codes were left, and clicks only after they ran out. */
  let latecomer: { cookie: string; csrf: string };

  beforeAll(async () => {
    ctx = await startTestContext();
    [a, b] = await Promise.all([startAppProcess(ctx), startAppProcess(ctx)]);
    incident = await makeIncident(ctx.deps);
    people = await makePeople(
      ctx.deps,
      incident.id,
      Array.from({ length: 101 }, () => makePerson()),
    );
    pool = await makePool(ctx.deps, incident.id, { lowStockThreshold: 10 });
    await stockPool(ctx.deps, pool.id, codeList('WATCH', 100));
    const admin = await makeStaff(ctx.deps, 'admin');
    const { rows } = await ctx.deps.db.query<{ email_enc: string }>(
      'SELECT email_enc FROM staff WHERE id = $1',
      [admin.id],
    );
    adminEmail = ctx.deps.vault.open(rows[0]!.email_enc);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stopAppProcess(a), stopAppProcess(b)]);
    await ctx?.close();
  });

  it('gives 100 people 100 distinct codes from 200 simultaneous reveals, nobody two, no error page', async () => {
    const codesPage = `/incidents/${incident.slug}/codes`;
    const first100 = people.slice(0, 100);
    // Each person is verified and has the page open (with its form token) before anyone clicks.
    const browsers = await Promise.all(
      first100.map(async (person) => {
        const cookie = await verifiedPerson(ctx.deps, person.id);
        const page = await getPage(a!.baseUrl, codesPage, cookie);
        expect(page.status).toBe(200);
        return { person, cookie, csrf: csrfFrom(page.html) };
      }),
    );

    const latecomerCookie = await verifiedPerson(ctx.deps, people[100]!.id);
    latecomer = {
      cookie: latecomerCookie,
      csrf: csrfFrom((await getPage(b!.baseUrl, codesPage, latecomerCookie)).html),
    };

    // Everyone clicks "Show my code" twice, one click landing on each process.
    const clicks = await Promise.all(
      browsers.flatMap(({ cookie, csrf }) =>
        [a!, b!].map((app) =>
          postForm(app.baseUrl, `${codesPage}/${pool.id}/reveal`, cookie, { _csrf: csrf }),
        ),
      ),
    );
    expect(clicks.map((click) => click.status)).toEqual(Array(200).fill(303));
    expect(new Set(clicks.map((click) => click.location))).toEqual(new Set([`${codesPage}#pool-${pool.id}`]));

    const { rows } = await ctx.deps.db.query<{ id: number; person_id: number; code_enc: string }>(
      'SELECT id, person_id, code_enc FROM codes WHERE pool_id = $1 AND person_id IS NOT NULL',
      [pool.id],
    );
    expect(rows).toHaveLength(100);
    expect(new Set(rows.map((row) => row.person_id))).toEqual(new Set(first100.map((person) => person.id)));
    const assigned = new Map(rows.map((row) => [row.person_id, ctx.deps.vault.open(row.code_enc)]));
    expect(new Set(assigned.values()).size).toBe(100);

    // Each person's page, from either process, shows the one code that is theirs.
    const pages = await Promise.all(
      browsers.map(({ person, cookie }, i) =>
        getPage((i % 2 ? a : b)!.baseUrl, codesPage, cookie).then((page) => ({ person, page })),
      ),
    );
    for (const { person, page } of pages) {
      expect(page.status).toBe(200);
      expect(shownCode(page.html)).toBe(assigned.get(person.id));
    }
  });

  it('tells the 101st person calmly that codes are being replenished, and warns the admins', async () => {
    const codesPage = `/incidents/${incident.slug}/codes`;
    const { cookie, csrf } = latecomer;
    const click = await postForm(a!.baseUrl, `${codesPage}/${pool.id}/reveal`, cookie, { _csrf: csrf });
    expect(click.status).toBe(303);
    for (const app of [a!, b!]) {
      const page = await getPage(app.baseUrl, codesPage, cookie);
      expect(page.status).toBe(200);
      expect(page.html).toContain('Codes are being replenished');
      expect(page.html).not.toContain('something went wrong');
      expect(shownCode(page.html)).toBeNull();
    }
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM codes WHERE pool_id = $1 AND person_id = $2',
      [pool.id, people[100]!.id],
    );
    expect(rows[0]!.n).toBe(0);

    // The console banner, one alert per level, and one email per level to the admin through the email channel.
    expect(await listStockWarnings(ctx.deps.db)).toEqual([
      expect.objectContaining({ poolId: pool.id, level: 'empty', available: 0 }),
    ]);
    const { rows: alerts } = await ctx.deps.db.query<{ level: string; admins_emailed: number }>(
      'SELECT level, admins_emailed FROM code_stock_alerts WHERE pool_id = $1 ORDER BY id',
      [pool.id],
    );
    expect(alerts).toEqual([
      { level: 'low', admins_emailed: 1 },
      { level: 'empty', admins_emailed: 1 },
    ]);
    const outbox = await eventually('the admin emails in the sandbox outbox', async () => {
      const { entries } = await listOutbox(ctx.deps.db, ctx.deps.vault, 10);
      return entries.length >= 2 ? entries : undefined;
    });
    expect(outbox.map((entry) => [entry.channel, entry.to.email, entry.content.subject]).sort()).toEqual([
      ['email', adminEmail, `Codes running low: ${pool.name}`],
      ['email', adminEmail, `No codes left: ${pool.name}`],
    ]);

    const admin = await ctx.deps.db.query<{ id: number }>("SELECT id FROM staff WHERE role = 'admin'");
    const staffCookie = await signedInStaff(ctx.deps, { id: admin.rows[0]!.id, role: 'admin' });
    // The banner is on every console page, not only the codes pages.
    for (const pathname of ['/console/codes', '/console']) {
      const consolePage = await getPage(b!.baseUrl, pathname, staffCookie);
      expect(consolePage.status, pathname).toBe(200);
      expect(consolePage.html, pathname).toContain(`${pool.name} has no codes left`);
    }

    // Once the vendor's next batch is in, the warning clears and the 101st person can reveal theirs.
    await stockPool(ctx.deps, pool.id, codeList('MORE', 50));
    expect(await listStockWarnings(ctx.deps.db)).toEqual([]);
    const replenished = await getPage(a!.baseUrl, codesPage, cookie);
    expect(replenished.html).toContain('Show my code');
  });
});
