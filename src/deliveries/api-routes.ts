import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import type { ApiRoute } from '../api/routing.js';
import { findDeliveriesByReference } from './search.js';

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
  ];
}
