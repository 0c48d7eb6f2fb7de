import type { Deps } from '../../src/deps.js';
import { insertIncident, type Incident, type NewIncident } from '../../src/incidents/store.js';
import { publishIncidentPage } from '../../src/incidents/service.js';
import type { SnapshotDeps } from '../../src/status-page/snapshot.js';
import { upsertPeople, type PersonInput } from '../../src/people/store.js';
import { ensureStaff, type StaffRole } from '../../src/staff/store.js';
import { uniqueName } from './context.js';
import { approveCampaign, createCampaign, submitCampaign } from '../../src/campaigns/service.js';
import { DEFAULT_CHANNEL_POLICY } from '../../src/campaigns/channel-policy.js';
import type { Campaign } from '../../src/campaigns/store.js';
import type { Audience } from '../../src/campaigns/lifecycle.js';
import type { MessageKind } from '../../src/notices/render.js';

/** Test data with keyword defaults: say only what matters to the test. */
export function makePerson(overrides: Partial<PersonInput> = {}): PersonInput {
  return {
    name: 'Alex Example',
    email: `${uniqueName('person')}@example.com`,
    phone: null,
    postalAddress: null,
    postalCode: null,
    birthYear: null,
    locale: 'en',
    preferredChannel: null,
    accessibilityNeeds: [],
    country: 'GB',
    region: null,
    timeZone: 'Europe/London',
    segment: null,
    exposedDataTypes: ['names', 'email_addresses'],
    affected: true,
    ...overrides,
  };
}

/** A published incident, published the way staff publish one: its status page snapshot with it. */
export async function makeIncident(
  deps: SnapshotDeps,
  overrides: Partial<NewIncident> = {},
): Promise<Incident> {
  const incident = await insertIncident(deps.db, {
    slug: uniqueName('incident').replace(/_/g, '-'),
    organisationName: 'Acme Bikes',
    dataTypes: ['names', 'email_addresses'],
    helplines: { en: '+44 800 111 2222' },
    texts: {
      en: {
        title: 'Customer emails exposed',
        whatHappened: 'An old backup was left readable.',
        whatData: 'Names and email addresses.',
        whatWeDid: 'We removed it.',
        whatYouShouldDo: 'Be wary of emails about your order.',
        howToGetHelp: 'Call us.',
      },
      fr: {
        title: 'Adresses e-mail de clients exposées',
        whatHappened: 'Une ancienne sauvegarde était lisible.',
        whatData: 'Noms et adresses e-mail.',
        whatWeDid: 'Nous l’avons supprimée.',
        whatYouShouldDo: 'Méfiez-vous des e-mails au sujet de votre commande.',
        howToGetHelp: 'Appelez-nous.',
      },
    },
    ...overrides,
  });
  await publishIncidentPage(deps, incident.id);
  return incident;
}

export async function makePeople(
  deps: Pick<Deps, 'db' | 'vault'>,
  incidentId: number,
  people: PersonInput[],
) {
  return upsertPeople(deps.db, deps.vault, incidentId, people);
}

export async function makeStaff(deps: Pick<Deps, 'db' | 'vault'>, role: StaffRole) {
  return ensureStaff(deps.db, deps.vault, {
    email: `${uniqueName(role)}@staff.example`,
    displayName: `Test ${role}`,
    role,
  });
}

/**
 * A campaign (a first notice to the affected people unless told otherwise), made by one new editor
 * and approved by another staff member: ready to start (benchmarks start their workers first).
 */
export async function makeApprovedCampaign(
  deps: Pick<Deps, 'db' | 'vault' | 'queues' | 'clock'>,
  incidentId: number,
  options: { kind?: MessageKind; audience?: Audience; updateId?: number | null } = {},
): Promise<Campaign> {
  const campaign = await createCampaign(deps, {
    incidentId,
    kind: options.kind ?? 'initial_notice',
    audience: options.audience ?? 'affected',
    channelPolicy: DEFAULT_CHANNEL_POLICY,
    createdBy: (await makeStaff(deps, 'editor')).id,
    updateId: options.updateId ?? null,
  });
  await submitCampaign(deps, { campaignId: campaign.id });
  await approveCampaign(deps, {
    campaignId: campaign.id,
    approverId: (await makeStaff(deps, 'approver')).id,
  });
  return campaign;
}
