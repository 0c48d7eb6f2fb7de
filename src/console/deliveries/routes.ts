import type { Response } from 'express';
import type { Deps } from '../../deps.js';
import { recordAudit } from '../../audit/store.js';
import { deliveriesCsv, findDeliveriesByReference, searchDeliveries } from '../../deliveries/search.js';
import {
  EMPTY_DELIVERY_FILTER,
  filterQuery,
  parseDeliveryFilter,
  type DeliveryFilter,
  type FilterError,
} from '../../deliveries/filter.js';
import { MESSAGE_STATUSES } from '../../deliveries/status.js';
import { CHANNELS } from '../../channels/kinds.js';
import { findIncidentById } from '../../incidents/store.js';
import { SUPPORTED_LOCALES } from '../../platform/i18n.js';
import { can } from '../../staff/permissions.js';
import { staffOf } from '../../web/staff.js';
import { formValues } from '../../web/forms.js';
import { listIncidentSummaries } from '../incidents/store.js';
import type { ConsoleRoute } from '../routing.js';

/** The search form's own fields, for errors that concern the page cursor or size rather than a filter. */
const FORM_FIELDS = new Set(['incident', 'campaign', 'status', 'channel', 'language', 'from', 'to']);

/**
 * For a support agent on the phone, the caller reads out their reference code and the agent sees what
 * was sent; for staff following a send, every delivery by status, channel, campaign, language and
 * day, a page at a time, and the same list as CSV.
 */
export function deliveryRoutes(deps: Deps): ConsoleRoute[] {
  const searchView = async (
    res: Response,
    extra: { filter: DeliveryFilter; values: Record<string, string> },
  ) => ({
    incidents: await listIncidentSummaries(deps.db, res.locals.lang),
    statuses: MESSAGE_STATUSES,
    channels: CHANNELS,
    locales: SUPPORTED_LOCALES,
    filterQuery,
    ...extra,
  });
  // A refused search shows the form again as typed, each problem beside its field.
  const refuse = async (res: Response, errors: FilterError[], values: Record<string, string>) => {
    res.status(400).render('console/deliveries/index', {
      ...(await searchView(res, { filter: EMPTY_DELIVERY_FILTER, values })),
      reference: '',
      found: null,
      incident: null,
      results: null,
      errors: errors.map((error) => ({
        field: FORM_FIELDS.has(error.field) ? error.field : 'results',
        messageKey: error.messageKey,
      })),
    });
  };

  return [
    {
      method: 'get',
      path: '/console/deliveries',
      access: 'deliveries:search',
      handler: async (req, res) => {
        const reference = typeof req.query.reference === 'string' ? req.query.reference.trim() : '';
        if (reference) {
          const found = await findDeliveriesByReference(deps.db, deps.vault, reference);
          const incident = found ? await findIncidentById(deps.db, found.incidentId) : null;
          res.status(found ? 200 : 404).render('console/deliveries/index', {
            ...(await searchView(res, { filter: EMPTY_DELIVERY_FILTER, values: {} })),
            reference,
            found,
            incident,
            results: null,
            errors: found ? [] : [{ field: 'reference', messageKey: 'console:deliveries.notFound' }],
          });
          return;
        }
        const values = formValues(req.query);
        const parsed = parseDeliveryFilter(req.query);
        if (!parsed.ok) {
          await refuse(res, parsed.errors, values);
          return;
        }
        const results = await searchDeliveries(deps.db, deps.vault, {
          filter: parsed.filter,
          before: parsed.before,
          limit: parsed.limit,
          withContacts: false,
        });
        res.render('console/deliveries/index', {
          ...(await searchView(res, { filter: parsed.filter, values })),
          reference,
          found: null,
          incident: null,
          results,
          firstPage: parsed.before === null,
          errors: [],
        });
      },
    },
    {
      method: 'get',
      path: '/console/deliveries.csv',
      access: 'deliveries:search',
      handler: async (req, res) => {
        const parsed = parseDeliveryFilter(req.query);
        if (!parsed.ok) {
          await refuse(res, parsed.errors, formValues(req.query));
          return;
        }
        const staff = staffOf(res);
        const withContacts = can(staff.role, 'people:contacts');
        await recordAudit(
          deps.db,
          { staffId: staff.id, apiKeyId: null },
          {
            action: 'export.deliveries',
            subjectType: parsed.filter.incidentId === null ? null : 'incident',
            subjectId: parsed.filter.incidentId,
            details: { ...parsed.filter, withContacts },
          },
          deps.clock.now(),
        );
        res.set('Content-Type', 'text/csv; charset=utf-8');
        res.set('Content-Disposition', 'attachment; filename="deliveries.csv"');
        for await (const chunk of deliveriesCsv(deps.db, deps.vault, {
          filter: parsed.filter,
          withContacts,
        })) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        }
        res.end();
      },
    },
  ];
}
