import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestContext, uniqueName, type TestContext } from '../support/context.js';
import { documentedApiClient, makeApiKey } from '../support/api.js';
import { makeStaffAccount, postForm, signedInAgent, type TestStaff } from '../support/console.js';
import { makeIncident } from '../support/factories.js';
import { findIncidentBySlug, type Incident } from '../../src/incidents/store.js';

type Json = Record<string, unknown>;

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Each operation staff can do in the console and an integration can do through the API is one use
 * case: driven through both, it stores the same thing.
 */
describe('the same operation through the console and through the API', () => {
  let ctx: TestContext;
  let call: ReturnType<typeof documentedApiClient>;
  let editor: TestStaff;
  let staffPages: TestAgent;
  let token: string;

  beforeAll(async () => {
    ctx = await startTestContext();
    const document = (await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json()) as Json;
    call = documentedApiClient(ctx.baseUrl, document);
    editor = await makeStaffAccount(ctx.deps, 'editor');
    staffPages = await signedInAgent(ctx.baseUrl, editor);
    token = (await makeApiKey(ctx.deps, 'editor', { owner: editor })).token;
  });
  afterAll(async () => ctx?.close());

  const slugOf = (what: string) => uniqueName(what).replace(/_/g, '-');

  /** What was stored, without what differs by nature between two rows (id, address, last change). */
  function stored(incident: Incident | null) {
    expect(incident).not.toBeNull();
    return { ...incident!, id: 0, slug: '', updatedAt: null };
  }

  /** `npx candor …` on this test's schema, as an operator would run it. */
  function cli(...args: string[]) {
    return promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/candor.js'), ...args], {
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
    });
  }

  async function auditOf(action: string, subjectId: number) {
    return eventually(`the ${action} audit record`, async () => {
      const { rows } = await ctx.deps.db.query<{ staff_id: number; outcome: string }>(
        'SELECT staff_id, outcome FROM audit_log WHERE action = $1 AND subject_id = $2',
        [action, subjectId],
      );
      return rows[0];
    });
  }

  it('creates the same incident from the console form, the API and the CLI, and each refuses a taken address', async () => {
    const fromConsole = slugOf('console');
    const fromApi = slugOf('api');
    const fromCli = slugOf('cli');
    const made = await postForm(staffPages, '/console/incidents/new', '/console/incidents', {
      organisationName: 'Northwind Books',
      slug: fromConsole,
      title: 'A copy of our customer list was taken',
      defaultLocale: 'fr',
      discoveredAt: '2026-11-20T09:00',
    });
    expect(made.status).toBe(303);
    const answer = await call(token, 'POST', '/api/v1/incidents', {
      organisationName: 'Northwind Books',
      slug: fromApi,
      texts: { fr: { title: 'A copy of our customer list was taken' } },
      defaultLocale: 'fr',
      discoveredAt: '2026-11-20T09:00:00Z',
    });
    expect(answer.status).toBe(201);

    const consoleRow = await findIncidentBySlug(ctx.deps.db, fromConsole);
    const apiRow = await findIncidentBySlug(ctx.deps.db, fromApi);
    expect(stored(apiRow)).toEqual(stored(consoleRow));
    // The command line has no discovery date to give: it is when the incident was created.
    const cliOutput = await cli(
      'create-incident',
      `--slug=${fromCli}`,
      '--organisation=Northwind Books',
      '--title=A copy of our customer list was taken',
      '--language=fr',
    );
    expect(cliOutput.stdout).toContain(`/incidents/${fromCli}`);
    const cliRow = await findIncidentBySlug(ctx.deps.db, fromCli);
    expect({ ...stored(cliRow), discoveredAt: null }).toEqual({ ...stored(consoleRow), discoveredAt: null });
    expect(stored(apiRow)).toMatchObject({ state: 'investigating', publishedAt: null, helplines: {} });
    expect(await auditOf('incident.create', consoleRow!.id)).toEqual({ staff_id: editor.id, outcome: 'ok' });
    expect(await auditOf('incident.create', apiRow!.id)).toEqual({ staff_id: editor.id, outcome: 'ok' });

    const again = await postForm(staffPages, '/console/incidents/new', '/console/incidents', {
      organisationName: 'Someone else',
      slug: fromApi,
      title: 'Another',
    });
    expect(again.status).toBe(400);
    expect(again.text).toContain('id="slug-error"');
    const twice = await call(token, 'POST', '/api/v1/incidents', {
      organisationName: 'Someone else',
      slug: fromConsole,
      texts: { en: { title: 'Another' } },
    });
    expect(twice.status).toBe(409);
    expect((twice.body as Json).detail).toContain(fromConsole);
    const refused = await cli(
      'create-incident',
      `--slug=${fromApi}`,
      '--organisation=Someone else',
      '--title=Another',
    ).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain(`The address "${fromApi}" is taken.`);
    expect((await findIncidentBySlug(ctx.deps.db, fromConsole))?.organisationName).toBe('Northwind Books');
  });

  it('posts an update and asks for approval of its campaign, from the console and from the API alike', async () => {
    const [forConsole, forApi] = [await makeIncident(ctx.deps), await makeIncident(ctx.deps)];
    const texts = { en: { title: 'We have told the police', body: 'They are investigating.' } };

    const show = `/console/incidents/${forConsole.id}`;
    const posted = await postForm(staffPages, `${show}/updates/new`, `${show}/updates`, {
      'title.en': texts.en.title,
      'body.en': texts.en.body,
      notify: 'yes',
    });
    expect(posted.status).toBe(303);
    const answer = await call(token, 'POST', `/api/v1/incidents/${forApi.id}/updates`, {
      texts,
      notify: 'subscribers',
    });
    expect(answer.status).toBe(201);
    expect((answer.body as Json).campaignId).toEqual(expect.any(Number));

    const readBack = async (incidentId: number) => {
      const { rows } = await ctx.deps.db.query<Json>(
        `SELECT u.texts, c.kind, c.audience, c.status, c.created_by, c.channel_policy,
                c.update_id = u.id AS for_this_update
         FROM incident_updates u JOIN campaigns c ON c.update_id = u.id
         WHERE u.incident_id = $1`,
        [incidentId],
      );
      return rows;
    };
    const viaConsole = await readBack(forConsole.id);
    expect(viaConsole).toEqual([
      expect.objectContaining({
        texts,
        kind: 'update',
        audience: 'subscribers',
        status: 'awaiting_approval',
        created_by: editor.id,
        for_this_update: true,
      }),
    ]);
    expect(await readBack(forApi.id)).toEqual(viaConsole);

    // Without "tell people", both post the update alone.
    await postForm(staffPages, `${show}/updates/new`, `${show}/updates`, {
      'title.en': 'Second',
      'body.en': 'Nothing to send.',
    });
    const quiet = await call(token, 'POST', `/api/v1/incidents/${forApi.id}/updates`, {
      texts: { en: { title: 'Second', body: 'Nothing to send.' } },
    });
    expect((quiet.body as Json).campaignId).toBeNull();
    for (const incident of [forConsole, forApi]) {
      const { rows } = await ctx.deps.db.query<{ updates: number; campaigns: number }>(
        `SELECT (SELECT count(*)::int FROM incident_updates WHERE incident_id = $1) AS updates,
                (SELECT count(*)::int FROM campaigns WHERE incident_id = $1) AS campaigns`,
        [incident.id],
      );
      expect(rows[0]).toEqual({ updates: 2, campaigns: 1 });
    }
  });

  it('lists the same campaigns, newest first, on the incident page and in the API', async () => {
    const incident = await makeIncident(ctx.deps);
    const drafted = await call(token, 'POST', `/api/v1/incidents/${incident.id}/campaigns`, {
      kind: 'initial_notice',
      audience: 'affected',
    });
    expect(drafted.status).toBe(201);
    const show = `/console/incidents/${incident.id}`;
    await postForm(staffPages, `${show}/updates/new`, `${show}/updates`, {
      'title.en': 'An update',
      'body.en': 'With a campaign.',
      notify: 'yes',
    });

    const listed = await call(token, 'GET', `/api/v1/incidents/${incident.id}/campaigns`);
    const items = (listed.body as { items: { id: number; status: string; kind: string }[] }).items;
    expect(items.map((item) => [item.kind, item.status])).toEqual([
      ['update', 'awaiting_approval'],
      ['initial_notice', 'draft'],
    ]);
    const page = await staffPages.get(show).expect(200);
    const shown = [...page.text.matchAll(/data-testid="campaign-reached-(\d+)"/g)].map((m) => Number(m[1]));
    expect(shown).toEqual(items.map((item) => item.id));
  });
});
