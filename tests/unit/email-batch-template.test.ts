import { beforeAll, describe, expect, it } from 'vitest';
import { createI18n, type I18n } from '../../src/platform/i18n.js';
import type { Vault } from '../../src/platform/vault.js';
import type { Recipient } from '../../src/people/store.js';
import type { MessageKind } from '../../src/notices/render.js';
import { renderEmailHtml, unsubscribeHeaders } from '../../src/notices/email.js';
import { composeMessage, type ComposeDeps } from '../../src/campaigns/compose.js';
import type { NoticeContent } from '../../src/campaigns/notice-content.js';
import {
  applySubstitutions,
  composeBatchTemplate,
  substitutionsFor,
} from '../../src/campaigns/send-batch.js';

/**
 * A batch renders each group of look-alike emails once, with tokens for each person's own parts, and
 * the provider puts each person's values in. That must give, byte for byte, what the single path
 * renders for that person alone: subject, text part and HTML part, hostile names included.
 */
const content: NoticeContent = {
  incident: {
    id: 7,
    slug: 'acme-2026',
    organisationName: 'Acme <Bikes> & "Co"',
    state: 'notifying',
    defaultLocale: 'en',
    dataTypes: ['email_addresses', 'payment_cards'],
    texts: {},
    helplines: { en: '+44 800 111 222' },
    discoveredAt: null,
    publishedAt: new Date('2026-01-02T00:00:00Z'),
    updatedAt: new Date('2026-01-02T00:00:00Z'),
  },
  updates: [
    {
      id: 3,
      incidentId: 7,
      texts: { en: { title: 'What we found', body: 'More detail <here> & there.' } },
      publishedAt: new Date('2026-01-03T00:00:00Z'),
    },
  ],
  textsByLocale: {},
};

const people: Pick<Recipient, 'id' | 'name' | 'referenceCode' | 'email'>[] = [
  { id: 11, name: 'Léa Dubois', referenceCode: 'AB12-CD34-EF56-GH78', email: 'lea@example.com' },
  { id: 12, name: '<b>&', referenceCode: 'ZZ99-YY88-XX77-WW66', email: 'b@example.com' },
  {
    id: 13,
    name: `"O'Brien" <script>alert(1)</script> &amp;`,
    referenceCode: 'QQ11-RR22-SS33-TT44',
    email: 'o@example.com',
  },
  {
    id: 14,
    name: '$& $1 $$ {{name}} -cn-name-',
    referenceCode: 'MM00-NN11-PP22-QQ33',
    email: 'd@example.com',
  },
];

function recipient(person: (typeof people)[number]): Recipient {
  return {
    ...person,
    incidentId: 7,
    phone: null,
    postalAddress: null,
    locale: 'en',
    preferredChannel: null,
    accessibilityNeeds: [],
    country: null,
    timeZone: null,
    segment: null,
    exposedDataTypes: [],
    affected: true,
  };
}

describe('an email batch template', () => {
  let deps: ComposeDeps;
  beforeAll(async () => {
    const i18n: I18n = await createI18n();
    deps = {
      db: {
        query: () => Promise.reject(new Error('no database in this test')),
      },
      vault: {} as Vault,
      i18n,
      publicBaseUrl: 'https://notice.acme.example',
      config: { lookupHmacKey: Buffer.alloc(32, 7) },
    };
  });

  for (const [kind, updateId] of [
    ['initial_notice', null],
    ['update', 3],
    ['reminder', null],
  ] as [MessageKind, number | null][]) {
    it(`gives each person exactly their own ${kind} email`, async () => {
      const template = await composeBatchTemplate(
        deps,
        { campaignId: 1, kind, updateId, sample: recipient(people[0]!) },
        content,
      );
      // The person's parts are tokens in the template, not the sample's values.
      expect(template.text).not.toContain(people[0]!.referenceCode);
      expect(template.html).not.toContain(people[0]!.name!);
      for (const person of people) {
        const alone = await composeMessage(
          deps,
          { messageId: 1, campaignId: 1, kind, channel: 'email', recipient: recipient(person), updateId },
          content,
        );
        const substitutions = substitutionsFor(deps, template, {
          personId: person.id,
          name: person.name,
          referenceCode: person.referenceCode,
        });
        expect(applySubstitutions(template.subject, substitutions)).toBe(alone.content.subject);
        expect(applySubstitutions(template.text, substitutions)).toBe(alone.content.text);
        expect(applySubstitutions(template.html, substitutions)).toBe(renderEmailHtml(alone.content));
        if (kind === 'update') {
          expect(alone.content.unsubscribeUrl).toBeTruthy();
          expect(
            unsubscribeHeaders({ ...template.notice, unsubscribeUrl: alone.content.unsubscribeUrl }),
          ).toEqual(unsubscribeHeaders(alone.content));
        }
      }
      // The hostile name reaches the text raw and the HTML escaped.
      const hostile = substitutionsFor(deps, template, { personId: 12, name: '<b>&', referenceCode: 'X' });
      expect(applySubstitutions(template.text, hostile)).toContain('<b>&');
      expect(applySubstitutions(template.html, hostile)).toContain('&lt;b&gt;&amp;');
      expect(applySubstitutions(template.html, hostile)).not.toContain('<b>&');
    });
  }

  it('renders a person without a name from a template of people without one', async () => {
    const nameless = recipient({ ...people[0]!, name: null });
    const template = await composeBatchTemplate(
      deps,
      { campaignId: 1, kind: 'initial_notice', updateId: null, sample: nameless },
      content,
    );
    expect(template.tokens.name).toBeUndefined();
    const alone = await composeMessage(
      deps,
      {
        messageId: 1,
        campaignId: 1,
        kind: 'initial_notice',
        channel: 'email',
        recipient: nameless,
        updateId: null,
      },
      content,
    );
    const substitutions = substitutionsFor(deps, template, {
      personId: nameless.id,
      name: null,
      referenceCode: nameless.referenceCode,
    });
    expect(applySubstitutions(template.text, substitutions)).toBe(alone.content.text);
    expect(applySubstitutions(template.html, substitutions)).toBe(renderEmailHtml(alone.content));
  });
});
