import type { Response } from 'express';
import type { Deps } from '../../deps.js';
import { ValidationError } from '../../platform/errors.js';
import {
  commitImport,
  csvRecords,
  discardImport,
  loadImport,
  MAX_STORED_ERRORS,
  runImport,
} from '../../imports/run.js';
import { listImportErrors, listImports } from '../../imports/store.js';
import { IMPORT_COLUMNS } from '../../imports/validate.js';
import { type ConsoleRoute } from '../routing.js';
import { noteAudit } from '../../web/audit-trail.js';
import { loadIncident } from '../../incidents/service.js';
import { readUpload } from './upload.js';
import { csvCell } from '../../exports/csv.js';
import { staffOf } from '../../web/staff.js';

const SHOWN_ERRORS = 200;

const FAILURES = [
  'unknown_column',
  'duplicate_column',
  'no_contact_column',
  'empty_file',
  'no_rows',
  'csv_malformed',
  'unreadable',
];

/** `unknown_column:Fone at line 1` → its parts, for a sentence in the editor's language. */
function describeFailure(failure: string | null) {
  const match = /^([a-z_]+)(?::(.*?))?(?: at line (\d+))?$/.exec(failure ?? '');
  const code = match?.[1] && FAILURES.includes(match[1]) ? match[1] : 'unreadable';
  return { code, detail: match?.[2] ?? '', line: match?.[3] ?? '' };
}

export function importRoutes(deps: Deps): ConsoleRoute[] {
  const renderList = async (
    res: Response,
    incidentId: number,
    status = 200,
    errors: { field: string; messageKey: string }[] = [],
  ) => {
    const incident = await loadIncident(deps, incidentId);
    const imports = await listImports(deps.db, incident.id);
    res.status(status).render('console/imports/index', {
      incident,
      imports,
      columns: IMPORT_COLUMNS,
      errors,
      refreshSeconds: imports.some((record) => record.status === 'validating') ? 3 : 0,
    });
  };

  return [
    {
      method: 'get',
      path: '/console/incidents/:id/imports',
      access: 'people:import',
      handler: async (req, res) => renderList(res, (await loadIncident(deps, req.params.id)).id),
    },
    {
      method: 'post',
      path: '/console/incidents/:id/imports',
      access: 'people:import',
      body: 'multipart',
      audit: 'import.upload',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        try {
          const record = await readUpload(req, (file, fields, filename) =>
            runImport(deps, {
              incidentId: incident.id,
              createdBy: staffOf(res).id,
              filename: filename.slice(0, 200) || null,
              records: csvRecords(file),
              acceptValidRows: fields.acceptValidRows === 'yes',
            }),
          );
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
          res.redirect(303, `/console/imports/${record.id}`);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          await renderList(res, incident.id, 400, [
            { field: 'file', messageKey: 'console:imports.errors.noFile' },
          ]);
        }
      },
    },
    {
      method: 'get',
      path: '/console/imports/:id',
      access: 'people:import',
      handler: async (req, res) => {
        const record = await loadImport(deps, req.params.id);
        const incident = await loadIncident(deps, record.incidentId);
        res.render('console/imports/show', {
          incident,
          record,
          rowErrors: await listImportErrors(deps.db, record.id, SHOWN_ERRORS),
          failure: describeFailure(record.failure),
          refreshSeconds: record.status === 'validating' ? 2 : 0,
        });
      },
    },
    {
      method: 'get',
      path: '/console/imports/:id/errors.csv',
      access: 'people:import',
      handler: async (req, res) => {
        const record = await loadImport(deps, req.params.id);
        const t = res.locals.t;
        res.set('Content-Type', 'text/csv; charset=utf-8');
        res.set('Content-Disposition', `attachment; filename="import-${record.id}-problems.csv"`);
        res.write(
          `${[t('console:imports.line'), t('console:imports.column'), t('imports:value'), t('console:imports.problem'), 'code'].map(csvCell).join(',')}\n`,
        );
        // At most MAX_STORED_ERRORS rows: small enough to send in one piece.
        const rows = await listImportErrors(deps.db, record.id, MAX_STORED_ERRORS);
        res.write(
          rows
            .map((error) =>
              [
                String(error.line),
                error.column ?? '',
                error.value ?? '',
                t(`console:imports.reasons.${error.reason}`),
                error.reason,
              ]
                .map(csvCell)
                .join(','),
            )
            .join('\n'),
        );
        res.end();
      },
    },
    {
      method: 'post',
      path: '/console/imports/:id/accept',
      access: 'people:import',
      audit: 'import.accept_valid_rows',
      handler: async (req, res) => {
        const record = await commitImport(deps, (await loadImport(deps, req.params.id)).id);
        noteAudit(res, {
          subjectType: 'import',
          details: { created: record.peopleCreated, merged: record.peopleMerged },
        });
        res.redirect(303, `/console/imports/${record.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/imports/:id/discard',
      access: 'people:import',
      audit: 'import.discard',
      handler: async (req, res) => {
        const record = await discardImport(deps, (await loadImport(deps, req.params.id)).id);
        noteAudit(res, { subjectType: 'import' });
        res.redirect(303, `/console/incidents/${record.incidentId}/imports`);
      },
    },
  ];
}
