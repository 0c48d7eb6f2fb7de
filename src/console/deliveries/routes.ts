import type { Deps } from '../../deps.js';
import { findDeliveriesByReference } from '../../deliveries/search.js';
import { findIncidentById } from '../../incidents/store.js';
import type { ConsoleRoute } from '../routing.js';

/** For a support agent on the phone: the caller reads out their reference code, the agent sees what was sent. */
export function deliveryRoutes(deps: Deps): ConsoleRoute[] {
  return [
    {
      method: 'get',
      path: '/console/deliveries',
      access: 'deliveries:search',
      handler: async (req, res) => {
        const reference = typeof req.query.reference === 'string' ? req.query.reference.trim() : '';
        const found = reference ? await findDeliveriesByReference(deps.db, deps.vault, reference) : null;
        const incident = found ? await findIncidentById(deps.db, found.incidentId) : null;
        res.status(reference && !found ? 404 : 200).render('console/deliveries/index', {
          reference,
          found,
          incident,
          errors:
            reference && !found ? [{ field: 'reference', messageKey: 'console:deliveries.notFound' }] : [],
        });
      },
    },
  ];
}
