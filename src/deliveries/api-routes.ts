import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { problem, type ApiRoute } from '../api/routing.js';
import { loadIncident } from '../incidents/service.js';
import { findDeliveriesByReference, searchDeliveries } from './search.js';
import { DELIVERY_PAGE_MAX, DELIVERY_PAGE_SIZE, parseDeliveryFilter } from './filter.js';

const text = { type: 'string' } as const;

/** The deliveries part of `/api/v1`: what support agents search in the console, for an integration. */
export function deliveryApiRoutes(deps: Deps): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/deliveries',
      operationId: 'searchDeliveries',
      summary: 'Everything sent to the person with this reference code, and its status',
      access: 'deliveries:search',
      query: [
        {
          name: 'reference',
          required: true,
          description: "The reference code printed on the person's notice (any case, dashes optional).",
          schema: { type: 'string' },
        },
      ],
      responses: { 200: 'PersonDeliveries' },
      handler: async (req, res) => {
        const reference = typeof req.query.reference === 'string' ? req.query.reference : '';
        const found = await findDeliveriesByReference(deps.db, deps.vault, reference);
        if (!found) throw new NotFoundError('No one has that reference code.');
        res.json(found);
      },
    },
    {
      method: 'get',
      path: '/incidents/:id/deliveries',
      operationId: 'listDeliveries',
      summary:
        "An incident's messages, newest first, filtered as in the console's delivery search; no contact details",
      access: 'deliveries:search',
      query: [
        { name: 'campaign', required: false, description: 'A campaign id.', schema: text },
        {
          name: 'status',
          required: false,
          description: 'A message status (queued, sending, unknown, sent, delivered, answered, bounced, …).',
          schema: text,
        },
        {
          name: 'channel',
          required: false,
          description: "email, sms, voice, letter, or 'none' (no usable contact on file).",
          schema: text,
        },
        {
          name: 'language',
          required: false,
          description: 'The language the message was written in.',
          schema: text,
        },
        {
          name: 'from',
          required: false,
          description: 'Queued on or after this day, YYYY-MM-DD in UTC.',
          schema: text,
        },
        {
          name: 'to',
          required: false,
          description: 'Queued on or before this day, YYYY-MM-DD in UTC.',
          schema: text,
        },
        {
          name: 'before',
          required: false,
          description: "The previous answer's `next`: the following page.",
          schema: text,
        },
        {
          name: 'limit',
          required: false,
          description: `Messages per page, 1 to ${DELIVERY_PAGE_MAX} (${DELIVERY_PAGE_SIZE} by default).`,
          schema: text,
        },
      ],
      responses: { 200: 'DeliveryList' },
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const parsed = parseDeliveryFilter({ ...req.query, incident: String(incident.id) });
        if (!parsed.ok) {
          problem(res, 400, 'The search is not valid', {
            errors: parsed.errors.map((error) => ({
              path: `/query/${error.field}`,
              message: deps.i18n.t(error.messageKey, { lng: 'en' }),
            })),
          });
          return;
        }
        res.json(
          await searchDeliveries(deps.db, deps.vault, {
            filter: parsed.filter,
            before: parsed.before,
            limit: parsed.limit,
            withContacts: false,
          }),
        );
      },
    },
  ];
}
