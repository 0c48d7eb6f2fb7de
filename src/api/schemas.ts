import type { FromSchema } from 'json-schema-to-ts';
import { INCIDENT_STATES } from '../incidents/store.js';
import { SLUG_PATTERN } from '../incidents/service.js';
import { AUDIENCES, CAMPAIGN_STATUSES } from '../campaigns/lifecycle.js';
import { CHANNELS } from '../channels/kinds.js';
import { GENERAL_MESSAGE_KINDS, MESSAGE_KINDS } from '../notices/render.js';
import { IMPORT_STATUSES } from '../imports/store.js';
import { IMPORT_COLUMNS } from '../imports/validate.js';
import { SUPPORTED_LOCALES } from '../platform/i18n.js';
import { ELIGIBILITIES, OFFER_MODES, POOL_KINDS } from '../codes/rules.js';

/**
 * The JSON shapes of the API, as JSON Schema 2020-12 (what OpenAPI 3.1 uses). The OpenAPI document
 * publishes them, the API validates request bodies with them, and the tests validate every response
 * with them: one definition for all three.
 */
export type JsonSchema = { [keyword: string]: unknown };

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string, extra: JsonSchema = {}): JsonSchema => ({ type: [type, 'null'], ...extra });
const dateTime = { type: 'string', format: 'date-time' } as const;
const id = { type: 'integer', minimum: 1 } as const;
const listOf = (name: string): JsonSchema => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: ref(name) } },
});

const incidentText = {
  type: 'object',
  required: ['title'],
  properties: {
    title: { type: 'string', maxLength: 300 },
    whatHappened: { type: 'string' },
    whatData: { type: 'string' },
    whatWeDid: { type: 'string' },
    whatYouShouldDo: { type: 'string' },
    howToGetHelp: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/*
 * Request bodies are written `as const`, so FromSchema derives their TypeScript types (at the bottom)
 * from the very definitions Ajv validates against: a field added to a schema reaches the handler's
 * type, and no hand-written interface can drift from what the API accepts.
 */
const NEW_INCIDENT = {
  type: 'object',
  required: ['slug', 'organisationName', 'texts'],
  properties: {
    slug: { type: 'string', pattern: SLUG_PATTERN.source },
    organisationName: { type: 'string', minLength: 1, maxLength: 200 },
    defaultLocale: { enum: [...SUPPORTED_LOCALES] },
    dataTypes: { type: 'array', items: { type: 'string' } },
    texts: {
      type: 'object',
      propertyNames: { enum: [...SUPPORTED_LOCALES] },
      additionalProperties: incidentText,
      minProperties: 1,
    },
    helplines: { type: 'object', additionalProperties: { type: 'string' } },
    discoveredAt: dateTime,
  },
  additionalProperties: false,
} as const;

const NEW_UPDATE = {
  type: 'object',
  required: ['texts'],
  properties: {
    texts: {
      type: 'object',
      minProperties: 1,
      propertyNames: { enum: [...SUPPORTED_LOCALES] },
      additionalProperties: {
        type: 'object',
        required: ['title', 'body'],
        properties: { title: { type: 'string', minLength: 1 }, body: { type: 'string', minLength: 1 } },
        additionalProperties: false,
      },
    },
    notify: {
      enum: ['nobody', 'subscribers', 'subscribers_and_affected'],
      description:
        'Tell people through an update campaign, submitted for a second person to approve (nobody by default).',
    },
  },
  additionalProperties: false,
} as const;

const NEW_PEOPLE = {
  type: 'object',
  required: ['people'],
  properties: {
    people: { type: 'array', items: ref('PersonRow'), minItems: 1, maxItems: 100_000 },
    acceptValidRows: { type: 'boolean', description: 'Import the valid rows even if some are wrong.' },
  },
  additionalProperties: false,
} as const;

const NEW_CAMPAIGN = {
  type: 'object',
  required: ['kind', 'audience'],
  properties: {
    kind: {
      enum: [...GENERAL_MESSAGE_KINDS],
      description: "Code offers and code reminders are made from a code pool, with the pool's audience.",
    },
    audience: { enum: [...AUDIENCES] },
    channels: {
      type: 'array',
      description: "Fallback order after each person's own needs and preference.",
      items: { enum: [...CHANNELS] },
      minItems: 1,
      uniqueItems: true,
    },
    updateId: id,
  },
  additionalProperties: false,
} as const;

const REVIEW = {
  type: 'object',
  properties: { note: { type: 'string', maxLength: 2000 } },
  additionalProperties: false,
} as const;

const NEW_CODE_POOL = {
  type: 'object',
  required: ['kind', 'name', 'vendorName', 'eligibility'],
  properties: {
    kind: { enum: [...POOL_KINDS] },
    name: { type: 'string', maxLength: 200 },
    vendorName: { type: 'string', maxLength: 200 },
    enrollmentUrlTemplate: {
      type: 'string',
      description: "The vendor's enrollment link, with {code} where the code goes.",
    },
    enrollBy: { type: 'string', description: 'YYYY-MM-DD: the last day a code can be used.' },
    eligibility: { enum: [...ELIGIBILITIES] },
    eligibleDataTypes: { type: 'array', items: { type: 'string' } },
    offerMode: { enum: [...OFFER_MODES] },
    lowStockThreshold: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    instructions: {
      type: 'object',
      description: 'How to use the code, per language.',
      propertyNames: { enum: [...SUPPORTED_LOCALES] },
      additionalProperties: { type: 'string', maxLength: 2_000 },
    },
  },
  additionalProperties: false,
} as const;

const REDEMPTION = {
  type: 'object',
  required: ['code'],
  properties: { code: { type: 'string', minLength: 1, maxLength: 200 } },
  additionalProperties: false,
} as const;

export const SCHEMAS = {
  Problem: {
    type: 'object',
    description: 'An error, as RFC 9457 problem details.',
    required: ['title', 'status'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['path', 'message'],
          properties: { path: { type: 'string' }, message: { type: 'string' } },
        },
      },
      problems: {
        type: 'array',
        description: 'For an uploaded file: each problem by line (nothing was stored).',
        items: { type: 'object', required: ['line', 'problem'], properties: { line: { type: 'integer' } } },
      },
    },
  },
  Incident: {
    type: 'object',
    required: [
      'id',
      'slug',
      'organisationName',
      'state',
      'defaultLocale',
      'dataTypes',
      'texts',
      'discoveredAt',
      'publishedAt',
      'updatedAt',
    ],
    properties: {
      id,
      slug: { type: 'string' },
      organisationName: { type: 'string' },
      state: { enum: [...INCIDENT_STATES] },
      defaultLocale: { type: 'string' },
      dataTypes: { type: 'array', items: { type: 'string' } },
      texts: { type: 'object', additionalProperties: incidentText },
      discoveredAt: nullable('string', { format: 'date-time' }),
      publishedAt: nullable('string', { format: 'date-time' }),
      updatedAt: dateTime,
    },
  },
  IncidentList: listOf('Incident'),
  NewIncident: NEW_INCIDENT,
  Update: {
    type: 'object',
    required: ['id', 'incidentId', 'texts', 'publishedAt'],
    properties: {
      id,
      incidentId: id,
      texts: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['title', 'body'],
          properties: { title: { type: 'string' }, body: { type: 'string' } },
        },
      },
      publishedAt: dateTime,
      campaignId: nullable('integer', {
        description: 'When posted with notify: the update campaign, submitted for approval.',
      }),
    },
  },
  UpdateList: listOf('Update'),
  NewUpdate: NEW_UPDATE,
  PersonRow: {
    type: 'object',
    description: 'One affected person, with the same fields as a CSV import row.',
    properties: Object.fromEntries(
      IMPORT_COLUMNS.map((column) => [
        column,
        { type: ['string', 'number', 'boolean', 'array', 'null'], items: { type: 'string' } },
      ]),
    ),
    additionalProperties: false,
  },
  NewPeople: NEW_PEOPLE,
  Import: {
    type: 'object',
    required: [
      'id',
      'incidentId',
      'status',
      'rowsProcessed',
      'rowsValid',
      'rowsInvalid',
      'peopleCreated',
      'peopleMerged',
      'failure',
      'errors',
    ],
    properties: {
      id,
      incidentId: id,
      status: { enum: [...IMPORT_STATUSES] },
      rowsProcessed: { type: 'integer' },
      rowsValid: { type: 'integer' },
      rowsInvalid: { type: 'integer' },
      peopleCreated: nullable('integer'),
      peopleMerged: nullable('integer'),
      failure: nullable('string'),
      errors: {
        type: 'array',
        description:
          'Problems by row (the first 200): the row as a spreadsheet numbers it (header = 1; for JSON people, the position from 1), the column, a reason code, and the value with contact details and names masked (j•••@e•••.com).',
        items: {
          type: 'object',
          required: ['line', 'column', 'reason', 'value'],
          properties: {
            line: { type: 'integer' },
            column: nullable('string'),
            reason: { type: 'string' },
            value: nullable('string'),
          },
        },
      },
    },
  },
  Campaign: {
    type: 'object',
    required: [
      'id',
      'incidentId',
      'kind',
      'audience',
      'channels',
      'status',
      'createdBy',
      'approvedBy',
      'scheduledFor',
      'createdAt',
    ],
    properties: {
      id,
      incidentId: id,
      kind: { enum: [...MESSAGE_KINDS] },
      audience: { enum: [...AUDIENCES] },
      channels: { type: 'array', items: { enum: [...CHANNELS] } },
      status: { enum: [...CAMPAIGN_STATUSES] },
      createdBy: nullable('integer'),
      approvedBy: nullable('integer'),
      scheduledFor: nullable('string', { format: 'date-time' }),
      createdAt: dateTime,
    },
  },
  CampaignList: listOf('Campaign'),
  NewCampaign: NEW_CAMPAIGN,
  Review: REVIEW,
  AudiencePlan: {
    type: 'object',
    description:
      'What the fan-out will create, computed by the same function it runs. A campaign part-way shows what is still to come.',
    required: [
      'campaignId',
      'at',
      'people',
      'byChannelAndLocale',
      'held',
      'fallbackLanguages',
      'missingTranslations',
      'skipped',
    ],
    properties: {
      campaignId: id,
      at: { ...dateTime, description: 'The instant the plan was computed for (calling hours depend on it).' },
      people: { type: 'integer', description: 'People who will get a first message row.' },
      byChannelAndLocale: {
        type: 'array',
        items: {
          type: 'object',
          required: ['channel', 'locale', 'people', 'held', 'fallbackLanguage'],
          properties: {
            channel: { enum: [...CHANNELS, 'none'], description: "'none': no usable contact on file." },
            locale: { type: 'string', description: 'The language the message is written in.' },
            people: { type: 'integer' },
            held: { type: 'integer', description: 'Of those, held for calling hours.' },
            fallbackLanguage: {
              type: 'integer',
              description: 'Of those, not in the language on their record.',
            },
          },
        },
      },
      held: {
        type: 'array',
        items: {
          type: 'object',
          required: ['channel', 'sendAfter', 'timeZones', 'people'],
          properties: {
            channel: { enum: [...CHANNELS] },
            sendAfter: dateTime,
            timeZones: { type: 'array', items: { type: 'string' } },
            people: { type: 'integer' },
          },
        },
      },
      fallbackLanguages: {
        type: 'array',
        items: {
          type: 'object',
          required: ['requested', 'used', 'people'],
          properties: {
            requested: { type: 'string' },
            used: { type: 'string' },
            people: { type: 'integer' },
          },
        },
      },
      missingTranslations: {
        type: 'array',
        description:
          "Per language: people whose message is written in a language the incident's text (or, for an update, the update's) lacks. `fallbackLocale` is the language of the text they get instead; null when the incident's own wording is left out of their notice.",
        items: {
          type: 'object',
          required: ['locale', 'people', 'text', 'fallbackLocale'],
          properties: {
            locale: { type: 'string' },
            people: { type: 'integer' },
            text: { enum: ['incident', 'update'] },
            fallbackLocale: nullable('string'),
          },
        },
      },
      skipped: {
        type: 'array',
        description: 'People left out because another campaign already holds their live notice.',
        items: {
          type: 'object',
          required: ['campaignId', 'people'],
          properties: { campaignId: id, people: { type: 'integer' } },
        },
      },
    },
  },
  Progress: {
    type: 'object',
    required: [
      'campaignId',
      'status',
      'total',
      'settled',
      'percent',
      'fanoutDone',
      'reached',
      'exhausted',
      'skipped',
      'byStatus',
      'byChannel',
      'failures',
      'held',
      'finishesAt',
      'resends',
    ],
    properties: {
      campaignId: id,
      status: { enum: [...CAMPAIGN_STATUSES] },
      total: {
        type: 'integer',
        description: 'People the fan-out gave a message (all of them once fanoutDone).',
      },
      settled: {
        type: 'integer',
        description: 'People reached, exhausted (every channel failed), sent a letter, or cancelled.',
      },
      reached: { type: 'integer', description: 'People confirmed reached: delivered or answered.' },
      exhausted: { type: 'integer' },
      skipped: {
        type: 'integer',
        description: 'People left out because another campaign already holds their live notice.',
      },
      held: {
        type: 'array',
        description: 'Messages waiting for calling hours, per channel and the time they will go.',
        items: {
          type: 'object',
          required: ['channel', 'sendAfter', 'n'],
          properties: { channel: { type: 'string' }, sendAfter: dateTime, n: { type: 'integer' } },
        },
      },
      finishesAt: nullable('string', {
        format: 'date-time',
        description:
          'When the last channel should finish, while sending; null when not sending or not within a year.',
      }),
      percent: { type: 'integer', minimum: 0, maximum: 100 },
      fanoutDone: { type: 'boolean' },
      resends: {
        type: 'integer',
        minimum: 0,
        description:
          'Messages sent again after an unknown outcome (a provider time-out): each may have arrived twice.',
      },
      byStatus: {
        type: 'object',
        description: 'Attempts in each status (a person tried on two channels counts on both).',
        additionalProperties: { type: 'integer' },
      },
      byChannel: {
        type: 'object',
        description: 'Attempts per channel and status, counted where they happened.',
        additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
      },
      failures: {
        type: 'array',
        items: {
          type: 'object',
          required: ['reason', 'channel', 'n'],
          properties: {
            reason: { type: 'string' },
            channel: nullable('string'),
            n: { type: 'integer' },
            movedOn: {
              type: 'integer',
              description: 'Of these, followed up on the next channel (or the same call, later).',
            },
          },
        },
      },
    },
  },
  Delivery: {
    type: 'object',
    required: [
      'messageId',
      'campaignId',
      'kind',
      'channel',
      'attempt',
      'status',
      'statusReason',
      'createdAt',
      'sentAt',
      'deliveredAt',
      'failedAt',
    ],
    properties: {
      messageId: id,
      campaignId: id,
      kind: { enum: [...MESSAGE_KINDS] },
      channel: nullable('string'),
      attempt: { type: 'integer' },
      locale: { type: 'string' },
      status: { type: 'string' },
      statusReason: nullable('string'),
      createdAt: dateTime,
      sentAt: nullable('string', { format: 'date-time' }),
      deliveredAt: nullable('string', { format: 'date-time' }),
      failedAt: nullable('string', { format: 'date-time' }),
    },
  },
  PersonDeliveries: {
    type: 'object',
    required: ['personId', 'incidentId', 'referenceCode', 'affected', 'deliveries'],
    properties: {
      personId: id,
      incidentId: id,
      referenceCode: { type: 'string' },
      locale: { type: 'string' },
      country: nullable('string'),
      affected: { type: 'boolean' },
      deliveries: { type: 'array', items: ref('Delivery') },
    },
  },
  DeliveryList: {
    type: 'object',
    required: ['deliveries', 'next'],
    properties: {
      deliveries: {
        type: 'array',
        items: {
          allOf: [
            ref('Delivery'),
            {
              type: 'object',
              required: ['incidentId', 'personId', 'referenceCode', 'locale'],
              properties: { incidentId: id, personId: id, referenceCode: { type: 'string' } },
            },
          ],
        },
      },
      next: { ...nullable('integer'), description: 'Pass as `before` for the next page; null on the last.' },
    },
  },
  NewCodePool: NEW_CODE_POOL,
  CodePool: {
    type: 'object',
    required: ['id', 'incidentId', 'kind', 'name', 'vendorName', 'eligibility', 'offerMode', 'createdAt'],
    properties: {
      id,
      incidentId: id,
      kind: { enum: [...POOL_KINDS] },
      name: { type: 'string' },
      vendorName: { type: 'string' },
      enrollmentUrlTemplate: nullable('string'),
      instructions: { type: 'object', additionalProperties: { type: 'string' } },
      enrollBy: nullable('string'),
      eligibility: { enum: [...ELIGIBILITIES] },
      eligibleDataTypes: { type: 'array', items: { type: 'string' } },
      offerMode: { enum: [...OFFER_MODES] },
      lowStockThreshold: { type: 'integer' },
      stockAlertLevel: { enum: ['low', 'empty', null] },
      createdAt: dateTime,
    },
  },
  CodePoolCreated: { type: 'object', required: ['pool'], properties: { pool: ref('CodePool') } },
  CodePoolWithStock: {
    type: 'object',
    required: ['pool', 'stock'],
    properties: {
      pool: ref('CodePool'),
      stock: {
        type: 'object',
        required: ['total', 'available', 'assigned', 'enrollmentStarted', 'redeemed'],
        properties: {
          total: { type: 'integer' },
          available: { type: 'integer' },
          assigned: { type: 'integer' },
          enrollmentStarted: { type: 'integer' },
          redeemed: { type: 'integer' },
        },
      },
    },
  },
  CodeUpload: {
    type: 'object',
    required: ['added', 'available'],
    properties: { added: { type: 'integer' }, available: { type: 'integer' } },
  },
  Redemption: REDEMPTION,
  RedemptionResult: {
    type: 'object',
    required: ['outcome', 'codeId'],
    properties: { outcome: { enum: ['redeemed', 'already_redeemed'] }, codeId: id },
  },
} satisfies Record<string, JsonSchema>;

export type SchemaName = keyof typeof SCHEMAS;

/** Request bodies, as the schemas above admit them (checked before a handler sees them). */
export type NewIncidentBody = FromSchema<typeof NEW_INCIDENT>;
export type NewUpdateBody = FromSchema<typeof NEW_UPDATE>;
/** Each person is a PersonRow, checked by reference; its columns are read by the import's own validation. */
export type NewPeopleBody = Omit<FromSchema<typeof NEW_PEOPLE>, 'people'> & {
  people: Record<string, unknown>[];
};
export type NewCampaignBody = FromSchema<typeof NEW_CAMPAIGN>;
export type ReviewBody = FromSchema<typeof REVIEW>;
