import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { SUPPORTED_LOCALES } from '../../platform/i18n.js';
import { ConflictError } from '../../platform/errors.js';
import { parseForm } from '../../web/forms.js';
import { listIncidentUpdates, INCIDENT_STATES, type IncidentState } from '../../incidents/store.js';
import { campaignSummaries, publishIncidentUpdate } from '../../campaigns/service.js';
import { type ConsoleRoute } from '../routing.js';
import { noteAudit } from '../../web/audit-trail.js';
import { staffOf } from '../../web/staff.js';
import { countPeopleByCountry, listIncidentSummaries } from './store.js';
import {
  changeIncidentState,
  createIncident,
  editIncident,
  loadIncident,
  SLUG_PATTERN,
  publishIncidentPage,
} from '../../incidents/service.js';
import { DATA_TYPES } from '../../incidents/data-types.js';
import { retentionOf } from '../../retention/purge.js';
import {
  copyUpdateText,
  missingLanguagesByField,
  missingTexts,
  missingUpdateLanguages,
  readIncidentTexts,
  readList,
  readUpdateValues,
  TEXT_FIELDS,
  updateLocaleOrder,
  updateTexts,
} from './texts.js';
import { listImports } from '../../imports/store.js';

const newIncidentForm = z.object({
  organisationName: z.string().trim().min(1, 'console:incidents.errors.organisationMissing').max(200),
  slug: z.string().trim().toLowerCase().regex(SLUG_PATTERN, 'console:incidents.errors.slugInvalid'),
  title: z.string().trim().min(1, 'console:incidents.errors.titleMissing').max(300),
  defaultLocale: z.enum(SUPPORTED_LOCALES).default('en'),
  discoveredAt: z.string().optional(),
});

function parseDate(value: unknown): Date | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const date = new Date(value.length === 16 ? `${value}:00Z` : value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function incidentRoutes(deps: Deps): ConsoleRoute[] {
  const editorView = (incident: Awaited<ReturnType<typeof loadIncident>>) => ({
    incident,
    locales: SUPPORTED_LOCALES,
    fields: TEXT_FIELDS,
    dataTypes: DATA_TYPES,
    missing: missingTexts(incident.texts, SUPPORTED_LOCALES),
    missingByField: missingLanguagesByField(incident.texts, SUPPORTED_LOCALES),
    errors: [] as { field: string; messageKey: string }[],
  });

  const updateView = (
    incident: Awaited<ReturnType<typeof loadIncident>>,
    values: Record<string, string>,
    errors: { field: string; messageKey: string }[] = [],
    copiedTo: string | null = null,
  ) => ({
    incident,
    locales: updateLocaleOrder(SUPPORTED_LOCALES, incident.defaultLocale),
    values,
    errors,
    copiedTo,
    missing: missingUpdateLanguages(values, SUPPORTED_LOCALES),
  });

  return [
    {
      method: 'get',
      path: '/console',
      access: 'incidents:read',
      handler: async (_req, res) => {
        res.render('console/incidents/index', {
          incidents: await listIncidentSummaries(deps.db, res.locals.lang),
        });
      },
    },
    {
      method: 'get',
      path: '/console/incidents/new',
      access: 'incidents:write',
      handler: (_req, res) => {
        res.render('console/incidents/new', { errors: [], values: {}, locales: SUPPORTED_LOCALES });
      },
    },
    {
      method: 'post',
      path: '/console/incidents',
      access: 'incidents:write',
      audit: 'incident.create',
      handler: async (req, res) => {
        const form = parseForm(newIncidentForm, req.body);
        if (!form.ok) {
          res.status(400).render('console/incidents/new', {
            errors: form.errors,
            values: form.values,
            locales: SUPPORTED_LOCALES,
          });
          return;
        }
        const { title, discoveredAt, ...rest } = form.data;
        try {
          const incident = await createIncident(deps, {
            ...rest,
            texts: { [rest.defaultLocale]: { title } },
            discoveredAt: parseDate(discoveredAt),
          });
          noteAudit(res, { subjectType: 'incident', subjectId: incident.id });
          res.redirect(303, `/console/incidents/${incident.id}/edit`);
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
          res.status(400).render('console/incidents/new', {
            errors: [{ field: 'slug', messageKey: 'console:incidents.errors.slugTaken' }],
            values: req.body as Record<string, unknown>,
            locales: SUPPORTED_LOCALES,
          });
        }
      },
    },
    {
      method: 'get',
      path: '/console/incidents/:id',
      access: 'incidents:read',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const [campaigns, imports, countries, updates, retention] = await Promise.all([
          campaignSummaries(deps, { incidentId: incident.id }),
          listImports(deps.db, incident.id, 5),
          countPeopleByCountry(deps.db, incident.id),
          listIncidentUpdates(deps.db, incident.id),
          retentionOf(deps, incident.id),
        ]);
        res.render('console/incidents/show', {
          incident,
          retention,
          retentionDays: deps.config.retentionDays,
          campaigns,
          imports,
          countries,
          updates,
          states: INCIDENT_STATES,
          missing: missingTexts(incident.texts, SUPPORTED_LOCALES),
          people: countries.reduce((sum, row) => sum + row.people, 0),
        });
      },
    },
    {
      method: 'get',
      path: '/console/incidents/:id/edit',
      access: 'incidents:write',
      handler: async (req, res) => {
        res.render('console/incidents/edit', editorView(await loadIncident(deps, req.params.id)));
      },
    },
    {
      method: 'post',
      path: '/console/incidents/:id/edit',
      access: 'incidents:write',
      audit: 'incident.edit',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const body = req.body as Record<string, unknown>;
        const { texts, helplines } = readIncidentTexts(body, SUPPORTED_LOCALES);
        const organisationName =
          typeof body.organisationName === 'string' ? body.organisationName.trim() : '';
        const dataTypes = readList(body, 'dataTypes').filter((type) =>
          (DATA_TYPES as readonly string[]).includes(type),
        );
        const errors: { field: string; messageKey: string }[] = [];
        if (!organisationName)
          errors.push({
            field: 'organisationName',
            messageKey: 'console:incidents.errors.organisationMissing',
          });
        if (!texts[incident.defaultLocale]?.title)
          errors.push({
            field: `text.${incident.defaultLocale}.title`,
            messageKey: 'console:incidents.errors.titleMissing',
          });
        if (errors.length > 0) {
          res.status(400).render('console/incidents/edit', {
            ...editorView({ ...incident, organisationName, texts, helplines, dataTypes }),
            errors,
          });
          return;
        }
        await editIncident(deps, incident.id, {
          organisationName,
          dataTypes,
          texts,
          helplines,
          discoveredAt: parseDate(body.discoveredAt) ?? incident.discoveredAt,
        });
        res.redirect(303, `/console/incidents/${incident.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/incidents/:id/state',
      access: 'incidents:write',
      audit: 'incident.state',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const state = (req.body as Record<string, unknown>).state;
        if ((INCIDENT_STATES as readonly unknown[]).includes(state)) {
          await changeIncidentState(deps, incident.id, state as IncidentState);
          noteAudit(res, { details: { from: incident.state, to: state as string } });
        }
        res.redirect(303, `/console/incidents/${incident.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/incidents/:id/publish',
      access: 'incidents:write',
      audit: 'incident.publish',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        await publishIncidentPage(deps, incident.id);
        res.redirect(303, `/console/incidents/${incident.id}`);
      },
    },
    {
      method: 'get',
      path: '/console/incidents/:id/updates/new',
      access: 'incidents:write',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        res.render('console/incidents/update', updateView(incident, {}));
      },
    },
    {
      // "Copy the English text here": the form comes back with the default language's text in the
      // chosen language's empty boxes, as a start for the translator. Works without JavaScript.
      method: 'post',
      path: '/console/incidents/:id/updates/new',
      access: 'incidents:write',
      audit: 'incident.update_copy',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const body = req.body as Record<string, unknown>;
        const values = readUpdateValues(body, SUPPORTED_LOCALES);
        const target = typeof body.copyFrom === 'string' ? body.copyFrom : '';
        if (!(SUPPORTED_LOCALES as readonly string[]).includes(target)) {
          res
            .status(400)
            .render(
              'console/incidents/update',
              updateView(incident, values, [
                { field: 'languages', messageKey: 'drafting:update.errors.copyTarget' },
              ]),
            );
          return;
        }
        res.render(
          'console/incidents/update',
          updateView(incident, copyUpdateText(values, incident.defaultLocale, target), [], target),
        );
      },
    },
    {
      method: 'post',
      path: '/console/incidents/:id/updates',
      access: 'incidents:write',
      audit: 'incident.update_post',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const body = req.body as Record<string, unknown>;
        const values = readUpdateValues(body, SUPPORTED_LOCALES);
        const texts = updateTexts(values, SUPPORTED_LOCALES);
        const main = texts[incident.defaultLocale];
        if (!main?.title || !main.body) {
          res.status(400).render(
            'console/incidents/update',
            updateView(incident, values, [
              {
                field: `${main?.title ? 'body' : 'title'}.${incident.defaultLocale}`,
                messageKey: 'console:incidents.errors.updateMissing',
              },
            ]),
          );
          return;
        }
        // "Tell people" drafts an update campaign for subscribers and asks for its approval: it goes
        // out like any other mass send, once a second person says yes.
        const { update, campaign } = await publishIncidentUpdate(deps, {
          incidentId: incident.id,
          texts,
          notify: body.notify === 'yes' ? 'subscribers' : 'nobody',
          createdBy: staffOf(res).id,
        });
        noteAudit(res, {
          subjectType: 'incident',
          subjectId: incident.id,
          details: { updateId: update.id, notify: campaign !== null },
        });
        if (campaign) {
          res.redirect(303, `/console/campaigns/${campaign.id}`);
          return;
        }
        res.redirect(303, `/console/incidents/${incident.id}`);
      },
    },
  ];
}
