import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestContext, type TestContext } from '../support/context.js';
import { makeIncident, makePeople, makePerson, makeStaff } from '../support/factories.js';
import { codeList, daysFromToday, makePool, stockPool } from '../support/codes.js';
import { csrfFrom, signedInStaff, verifiedPerson } from '../support/sessions.js';
import type { Incident } from '../../src/incidents/store.js';
import type { Pool } from '../../src/codes/store.js';
import { revealCode } from '../../src/codes/service.js';
import { NotFoundError } from '../../src/platform/errors.js';

const shownCode = (html: string) => /<code data-code>([^<]+)<\/code>/.exec(html)?.[1] ?? null;

describe('codes on the personal page', () => {
  let ctx: TestContext;
  let incident: Incident;
  let otherIncident: Incident;
  let pool: Pool;
  let alice: { id: number };
  let bob: { id: number };
  let notAffected: { id: number };
  let stranger: { id: number };

  beforeAll(async () => {
    ctx = await startTestContext();
    incident = await makeIncident(ctx.deps);
    otherIncident = await makeIncident(ctx.deps);
    const people = await makePeople(ctx.deps, incident.id, [
      makePerson(),
      makePerson(),
      makePerson({ affected: false }),
    ]);
    [alice, bob, notAffected] = [people[0]!, people[1]!, people[2]!];
    stranger = (await makePeople(ctx.deps, otherIncident.id, [makePerson()]))[0]!;
    pool = await makePool(ctx.deps, incident.id);
    await stockPool(ctx.deps, pool.id, codeList('ALPHA', 10));
  });
  afterAll(async () => ctx?.close());

  const codesPage = () => `/incidents/${incident.slug}/codes`;
  const assignedTo = async (personId: number) => {
    const { rows } = await ctx.deps.db.query<{ code_enc: string }>(
      'SELECT code_enc FROM codes WHERE pool_id = $1 AND person_id = $2',
      [pool.id, personId],
    );
    return rows.map((row) => ctx.deps.vault.open(row.code_enc));
  };

  it('asks someone who has not proved who they are to check their details first, and shows no code', async () => {
    const response = await request(ctx.server).get(codesPage()).expect(403);
    expect(response.text).toContain('Check your details first');
    expect(response.text).toContain(`href="/incidents/${incident.slug}/check"`);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('reveals nothing to a session that has a valid form token but no verified person', async () => {
    const staff = await makeStaff(ctx.deps, 'editor');
    const cookie = await signedInStaff(ctx.deps, { id: staff.id, role: 'editor' });
    const form = await request(ctx.server).get(`/console/codes/${pool.id}`).set('Cookie', cookie).expect(200);
    const response = await request(ctx.server)
      .post(`${codesPage()}/${pool.id}/reveal`)
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: csrfFrom(form.text) })
      .expect(403);
    expect(response.text).toContain('Check your details first');
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM codes WHERE person_id IS NOT NULL',
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('reveals nothing to a person verified for another incident', async () => {
    const cookie = await verifiedPerson(ctx.deps, stranger.id);
    await request(ctx.server).get(codesPage()).set('Cookie', cookie).expect(403);
    expect(await assignedTo(stranger.id)).toEqual([]);
  });

  it('refuses a reveal without the page’s form token', async () => {
    const cookie = await verifiedPerson(ctx.deps, alice.id);
    await request(ctx.server).get(codesPage()).set('Cookie', cookie).expect(200);
    await request(ctx.server)
      .post(`${codesPage()}/${pool.id}/reveal`)
      .set('Cookie', cookie)
      .type('form')
      .send({})
      .expect(403);
    expect(await assignedTo(alice.id)).toEqual([]);
  });

  it('shows a verified person the offer, then their own code once they ask, the same code every time', async () => {
    const agent = request.agent(ctx.server);
    const cookie = await verifiedPerson(ctx.deps, alice.id);
    const before = await agent.get(codesPage()).set('Cookie', cookie).expect(200);
    expect(before.text).toContain('Show my code');
    expect(before.text).toContain('24 months of credit monitoring');
    expect(shownCode(before.text)).toBeNull();

    for (let click = 0; click < 2; click += 1) {
      await agent
        .post(`${codesPage()}/${pool.id}/reveal`)
        .set('Cookie', cookie)
        .type('form')
        .send({ _csrf: csrfFrom(before.text) })
        .expect(303)
        .expect('Location', `${codesPage()}#pool-${pool.id}`);
    }
    const mine = await assignedTo(alice.id);
    expect(mine).toHaveLength(1);
    const after = await agent.get(codesPage()).set('Cookie', cookie).expect(200);
    expect(shownCode(after.text)).toBe(mine[0]);
    expect(after.text).toContain('Enter the code on the first page.');
    expect(after.text).toContain('Go to Watchful Credit to use your code');
    expect(after.headers['cache-control']).toBe('no-store');

    const personalPage = await agent
      .get(codesPage().replace(/\/codes$/, '/me'))
      .set('Cookie', cookie)
      .expect(200);
    expect(personalPage.text).toContain('24 months of credit monitoring');
    expect(shownCode(personalPage.text)).toBe(mine[0]);
  });

  it('speaks the person’s chosen language on the page', async () => {
    const cookie = await verifiedPerson(ctx.deps, alice.id);
    const page = await request(ctx.server).get(`${codesPage()}?lang=fr`).set('Cookie', cookie).expect(200);
    expect(page.text).toContain('Vos codes');
    expect(page.text).toContain('Saisissez le code sur la première page.');
  });

  it('records that enrolment started and sends the person to the vendor with their code', async () => {
    const cookie = await verifiedPerson(ctx.deps, alice.id);
    const [code] = await assignedTo(alice.id);
    const response = await request(ctx.server)
      .get(`${codesPage()}/${pool.id}/enroll`)
      .set('Cookie', cookie)
      .expect(303);
    expect(response.headers.location).toBe(
      `https://watchful.example/enrol?code=${encodeURIComponent(code!)}`,
    );
    const { rows } = await ctx.deps.db.query<{ enrollment_started_at: Date | null }>(
      'SELECT enrollment_started_at FROM codes WHERE pool_id = $1 AND person_id = $2',
      [pool.id, alice.id],
    );
    expect(rows[0]!.enrollment_started_at).toBeInstanceOf(Date);
    const page = await request(ctx.server).get(codesPage()).set('Cookie', cookie).expect(200);
    expect(page.text).toContain('You have started using this code');
  });

  it('sends nobody to the vendor before they have a code', async () => {
    const cookie = await verifiedPerson(ctx.deps, bob.id);
    await request(ctx.server).get(`${codesPage()}/${pool.id}/enroll`).set('Cookie', cookie).expect(404);
  });

  it('offers nothing to a person the pool is not for, and refuses their reveal', async () => {
    const cookie = await verifiedPerson(ctx.deps, notAffected.id);
    const page = await request(ctx.server).get(codesPage()).set('Cookie', cookie).expect(200);
    expect(page.text).toContain('There is no code for you at the moment');
    await expect(revealCode(ctx.deps, { personId: notAffected.id, poolId: pool.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await assignedTo(notAffected.id)).toEqual([]);
  });

  it('says an offer has ended after its enroll-by date, and gives out no more codes from it', async () => {
    const ended = await makePool(ctx.deps, incident.id, { name: 'Old offer', enrollBy: daysFromToday(-1) });
    await stockPool(ctx.deps, ended.id, codeList('OLD', 3));
    const cookie = await verifiedPerson(ctx.deps, bob.id);
    const page = await request(ctx.server).get(codesPage()).set('Cookie', cookie).expect(200);
    expect(page.text).toContain('This offer ended on');
    await request(ctx.server)
      .post(`${codesPage()}/${ended.id}/reveal`)
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    const { rows } = await ctx.deps.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM codes WHERE pool_id = $1 AND person_id IS NOT NULL',
      [ended.id],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses, in the database itself, a second code of a pool for one person and a code stored twice', async () => {
    const { rows } = await ctx.deps.db.query<{ id: number }>(
      'SELECT id FROM codes WHERE pool_id = $1 AND person_id IS NULL ORDER BY id LIMIT 1',
      [pool.id],
    );
    await expect(
      ctx.deps.db.query('UPDATE codes SET person_id = $2, assigned_at = now() WHERE id = $1', [
        rows[0]!.id,
        alice.id,
      ]),
    ).rejects.toMatchObject({ code: '23505', constraint: 'codes_one_per_person' });
    await expect(
      ctx.deps.db.query(
        'INSERT INTO codes (pool_id, code_hash, code_enc) SELECT pool_id, code_hash, code_enc FROM codes WHERE id = $1',
        [rows[0]!.id],
      ),
    ).rejects.toMatchObject({ code: '23505', constraint: 'codes_unique_in_pool' });
  });

  it('keeps codes out of the database in clear', async () => {
    const { rows } = await ctx.deps.db.query<{ dump: string | null }>(
      `SELECT string_agg(row_to_json(c)::text, ' ') AS dump FROM codes c`,
    );
    expect(rows[0]!.dump).not.toContain('ALPHA-');
    expect(rows[0]!.dump).not.toContain('ALPHA');
  });
});
