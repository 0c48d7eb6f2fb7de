import type { Deps } from '../deps.js';
import { seedDemoCodes } from '../codes/demo.js';
import { withTransaction } from '../platform/db.js';
import {
  findIncidentBySlug,
  insertIncident,
  insertIncidentUpdate,
  publishIncident,
  type Incident,
} from '../incidents/store.js';
import { publishStatusSnapshot, type SnapshotDeps } from '../status-page/snapshot.js';
import { upsertPeople, type PersonInput } from '../people/store.js';
import { normalizePhone } from '../people/contact.js';
import {
  ensureStaff,
  findStaffCredentialsByEmail,
  setStaffPassword,
  setStaffTotpSecret,
  type StaffMember,
} from '../staff/store.js';
import { hashPassword } from '../staff/passwords.js';
import { newTotpSecret } from '../staff/totp.js';
import type { Channel } from '../channels/kinds.js';
import { simulatedDemoPeople } from './simulated-people.js';

export const DEMO_SLUG = 'northwind-2026';

/**
 * The demo's staff and the password they share: printed by `npm run demo`, never used in production.
 * The admin opens what the others may not: staff, the support queue, the audit log, the queues.
 */
export const DEMO_STAFF = {
  editor: 'editor@demo.candor.example',
  approver: 'approver@demo.candor.example',
  admin: 'admin@demo.candor.example',
} as const;
export const DEMO_PASSWORD = 'candor demo password';

const FIRST = [
  'Ada',
  'Bruno',
  'Chloé',
  'Dev',
  'Elena',
  'Farid',
  'Grace',
  'Hugo',
  'Inès',
  'Jonas',
  'Keiko',
  'Léa',
];
const LAST = ['Martin', 'Okafor', 'Dubois', 'Sharma', 'García', 'Haddad'];

/** Mixed languages and channels, so one demo send shows every path: email, SMS, a call, a letter. */
export function demoPeople(count: number): PersonInput[] {
  return Array.from({ length: count }, (_, i): PersonInput => {
    const french = i % 3 === 1;
    const kind = i % 6; // 0-2 email, 3 SMS, 4 voice (visually impaired), 5 letter (no email or phone)
    const name = `${FIRST[i % FIRST.length]} ${LAST[i % LAST.length]}`;
    const phone = normalizePhone(
      french
        ? `+33 6 12 34 ${String(10 + (i % 90)).padStart(2, '0')} ${String(i % 100).padStart(2, '0')}`
        : `+44 7400 123${String(100 + i).slice(-3)}`,
    );
    const preferred: Channel | null = kind === 3 ? 'sms' : kind === 5 ? 'letter' : null;
    return {
      name,
      email: kind <= 2 ? `demo.person${i + 1}@example.com` : null,
      phone: kind >= 3 && kind <= 4 ? phone : null,
      postalAddress: `${10 + i} ${french ? 'rue des Lilas\n75011 Paris\nFrance' : 'Harbour Street\nBristol BS1 4XX\nUnited Kingdom'}`,
      postalCode: french ? '75011' : 'BS14XX',
      birthYear: 1950 + (i % 50),
      locale: french ? 'fr' : 'en',
      preferredChannel: preferred,
      accessibilityNeeds: kind === 4 ? ['visually_impaired'] : [],
      country: french ? 'FR' : 'GB',
      region: null,
      timeZone: french ? 'Europe/Paris' : 'Europe/London',
      segment: null,
      exposedDataTypes:
        i % 4 === 0
          ? ['names', 'email_addresses', 'payment_cards']
          : ['names', 'email_addresses', 'postal_addresses'],
      affected: true,
    };
  });
}

export interface DemoSeed {
  incident: Incident;
  editor: StaffMember;
  approver: StaffMember;
  admin: StaffMember;
  created: boolean;
}

/**
 * Creates the demo incident, its people and two staff members; does nothing if it already exists.
 * Besides `people` made-up customers it seeds a few simulated recipients, whose bounces and failed
 * calls show escalation on the sandbox, unless told not to (`simulatedRecipients: false`).
 */
export async function seedDemo(
  deps: SnapshotDeps & Pick<Deps, 'vault'>,
  people = 36,
  options: { simulatedRecipients?: boolean } = {},
): Promise<DemoSeed> {
  const editor = await ensureStaff(deps.db, deps.vault, {
    email: DEMO_STAFF.editor,
    displayName: 'Dana Editor',
    role: 'editor',
  });
  const approver = await ensureStaff(deps.db, deps.vault, {
    email: DEMO_STAFF.approver,
    displayName: 'Sam Approver',
    role: 'approver',
  });
  const admin = await ensureStaff(deps.db, deps.vault, {
    email: DEMO_STAFF.admin,
    displayName: 'Alex Admin',
    role: 'admin',
  });
  const existing = await findIncidentBySlug(deps.db, DEMO_SLUG);
  if (existing) {
    await seedDemoCodes(deps, existing.id);
    return { incident: existing, editor, approver, admin, created: false };
  }

  const incident = await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const created = await insertIncident(tx, {
      slug: DEMO_SLUG,
      organisationName: 'Northwind Outdoor Supplies',
      state: 'notifying',
      dataTypes: ['names', 'email_addresses', 'postal_addresses', 'payment_cards'],
      discoveredAt: new Date(now.getTime() - 2 * 24 * 3600 * 1000),
      helplines: { en: '+44 800 000 0000', fr: '+33 800 000 000' },
      texts: {
        en: {
          title: 'Customer information exposed in our online shop',
          whatHappened:
            'On 21 November we found that someone had gained access to the database of our online shop between 14 and 21 November. We closed that access the same day.',
          whatData:
            'Names, email addresses and postal addresses of customers. For some customers, the last four digits and expiry date of a payment card. Full card numbers were not stored.',
          whatWeDid:
            'We closed the access, reset every staff password, brought in independent security experts and told the data protection authority.',
          whatYouShouldDo:
            'Watch your bank statements and tell your bank about any payment you do not recognise. Be wary of emails or calls that mention your order: we will never ask for your password or card details.',
          howToGetHelp:
            'Call our free helpline, 8:00 to 20:00 every day, or reply to the notice we sent you.',
        },
        fr: {
          title: 'Données de clients exposées dans notre boutique en ligne',
          whatHappened:
            "Le 21 novembre, nous avons découvert qu'une personne avait accédé à la base de données de notre boutique en ligne entre le 14 et le 21 novembre. Nous avons fermé cet accès le jour même.",
          whatData:
            "Noms, adresses e-mail et adresses postales des clients. Pour certains clients, les quatre derniers chiffres et la date d'expiration d'une carte bancaire. Les numéros complets n'étaient pas conservés.",
          whatWeDid:
            "Nous avons fermé l'accès, réinitialisé tous les mots de passe du personnel, fait appel à des experts indépendants et informé l'autorité de protection des données.",
          whatYouShouldDo:
            'Surveillez vos relevés bancaires et signalez à votre banque tout paiement que vous ne reconnaissez pas. Méfiez-vous des e-mails ou appels qui mentionnent votre commande : nous ne vous demanderons jamais votre mot de passe ni vos données de carte.',
          howToGetHelp:
            "Appelez notre ligne d'assistance gratuite, de 8 h à 20 h tous les jours, ou répondez au message que nous vous avons envoyé.",
        },
      },
    });
    await publishIncident(tx, created.id, now);
    await insertIncidentUpdate(tx, {
      incidentId: created.id,
      publishedAt: new Date(now.getTime() - 24 * 3600 * 1000),
      texts: {
        en: {
          title: 'Access closed',
          body: 'The access has been closed and the shop is running safely again.',
        },
        fr: {
          title: 'Accès fermé',
          body: "L'accès a été fermé et la boutique fonctionne de nouveau en toute sécurité.",
        },
      },
    });
    await insertIncidentUpdate(tx, {
      incidentId: created.id,
      publishedAt: now,
      texts: {
        en: {
          title: 'We are writing to every customer affected',
          body: 'Notices are going out by email, text message, phone call and letter.',
        },
        fr: {
          title: 'Nous écrivons à chaque client concerné',
          body: 'Les avis partent par e-mail, SMS, appel téléphonique et courrier.',
        },
      },
    });
    await upsertPeople(tx, deps.vault, created.id, [
      ...demoPeople(people),
      ...(options.simulatedRecipients === false ? [] : simulatedDemoPeople()),
    ]);
    return created;
  });
  // Seeded in one transaction with backdated updates, so the public page is published once, after it.
  await publishStatusSnapshot(deps, incident.id);
  await seedDemoCodes(deps, incident.id);
  return { incident, editor, approver, admin, created: true };
}

/**
 * Lets a newcomer sign in to the demo: every demo account gets the demo password (unless someone
 * already set one), the editor needs nothing more, and the approver and the admin, whose roles
 * require a second factor, get an authenticator secret each, returned to print. The demo entry point
 * refuses this in production.
 */
export async function ensureDemoCredentials(
  deps: Pick<Deps, 'db' | 'vault'>,
  seed: Pick<DemoSeed, 'editor' | 'approver' | 'admin'>,
): Promise<{ approverTotpSecret: string; adminTotpSecret: string }> {
  for (const [member, email] of [
    [seed.editor, DEMO_STAFF.editor],
    [seed.approver, DEMO_STAFF.approver],
    [seed.admin, DEMO_STAFF.admin],
  ] as const) {
    const credentials = await findStaffCredentialsByEmail(deps.db, deps.vault, email);
    if (!credentials?.passwordHash)
      await setStaffPassword(deps.db, member.id, await hashPassword(DEMO_PASSWORD));
  }
  const totpSecretOf = async (member: StaffMember, email: string) => {
    const account = await findStaffCredentialsByEmail(deps.db, deps.vault, email);
    if (account?.totpSecret) return account.totpSecret;
    const secret = newTotpSecret();
    await setStaffTotpSecret(deps.db, deps.vault, member.id, secret, null);
    return secret;
  };
  return {
    approverTotpSecret: await totpSecretOf(seed.approver, DEMO_STAFF.approver),
    adminTotpSecret: await totpSecretOf(seed.admin, DEMO_STAFF.admin),
  };
}
