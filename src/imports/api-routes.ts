import type { Deps } from '../deps.js';
import type { ApiRoute } from '../api/routing.js';
import type { NewPeopleBody } from '../api/schemas.js';
import { noteAudit } from '../web/audit-trail.js';
import { staffOf } from '../web/staff.js';
import { loadIncident } from '../incidents/service.js';
import { commitImport, csvRecords, discardImport, loadImport, objectRecords, runImport } from './run.js';
import { listImportErrors, type ImportRecord } from './store.js';

const SHOWN_IMPORT_ERRORS = 200;

async function importJson(deps: Pick<Deps, 'db'>, record: ImportRecord) {
  return {
    id: record.id,
    incidentId: record.incidentId,
    status: record.status,
    rowsProcessed: record.rowsProcessed,
    rowsValid: record.rowsValid,
    rowsInvalid: record.rowsInvalid,
    peopleCreated: record.peopleCreated,
    peopleMerged: record.peopleMerged,
    failure: record.failure,
    errors: await listImportErrors(deps.db, record.id, SHOWN_IMPORT_ERRORS),
  };
}

/** The imports part of `/api/v1`: JSON or CSV, through the same import run as the console's upload. */
export function importApiRoutes(deps: Deps): ApiRoute[] {
  return [
    {
      method: 'post',
      path: '/incidents/:id/people',
      operationId: 'importPeople',
      summary: 'Import affected people, as JSON or as CSV (all or nothing unless acceptValidRows)',
      access: 'people:import',
      audit: 'import.upload',
      body: { schema: 'NewPeople', csv: 'The same columns as a console import.' },
      query: [
        {
          name: 'acceptValidRows',
          required: false,
          description: 'For CSV: `yes` imports the valid rows even if some are wrong.',
          schema: { type: 'string' },
        },
      ],
      responses: { 201: 'Import' },
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const csv = typeof req.is('text/csv') === 'string';
        const body = csv ? null : (req.body as NewPeopleBody);
        const record = await runImport(deps, {
          incidentId: incident.id,
          createdBy: staffOf(res).id,
          filename: csv ? 'api.csv' : 'api.json',
          records: body ? objectRecords(body.people) : csvRecords(req),
          acceptValidRows: body ? body.acceptValidRows === true : req.query.acceptValidRows === 'yes',
        });
        noteAudit(res, {
          subjectType: 'import',
          subjectId: record.id,
          details: {
            incidentId: incident.id,
            status: record.status,
            valid: record.rowsValid,
            invalid: record.rowsInvalid,
          },
        });
        res.status(201).json(await importJson(deps, record));
      },
    },
    {
      method: 'get',
      path: '/imports/:id',
      operationId: 'getImport',
      summary: 'An import and its problems by line',
      access: 'people:import',
      responses: { 200: 'Import' },
      handler: async (req, res) => {
        res.json(await importJson(deps, await loadImport(deps, req.params.id)));
      },
    },
    {
      method: 'post',
      path: '/imports/:id/accept',
      operationId: 'acceptImport',
      summary: 'Import the valid rows of an import that had problems',
      access: 'people:import',
      audit: 'import.accept_valid_rows',
      responses: { 200: 'Import' },
      handler: async (req, res) => {
        const record = await commitImport(deps, (await loadImport(deps, req.params.id)).id);
        noteAudit(res, {
          subjectType: 'import',
          details: { created: record.peopleCreated, merged: record.peopleMerged },
        });
        res.json(await importJson(deps, record));
      },
    },
    {
      method: 'post',
      path: '/imports/:id/discard',
      operationId: 'discardImport',
      summary: 'Throw an import with problems away',
      access: 'people:import',
      audit: 'import.discard',
      responses: { 200: 'Import' },
      handler: async (req, res) => {
        const record = await discardImport(deps, (await loadImport(deps, req.params.id)).id);
        noteAudit(res, { subjectType: 'import' });
        res.json(await importJson(deps, record));
      },
    },
  ];
}
