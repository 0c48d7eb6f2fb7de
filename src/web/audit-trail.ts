import type { RequestHandler, Response } from 'express';
import type { Deps } from '../deps.js';
import { recordAudit, type AuditEntry } from '../audit/store.js';
import { positiveId } from '../platform/ids.js';

/*
 * The audit record of a state-changing request, for the console's table and the API's table alike:
 * the table puts auditTrail in front of each row, and the handler says what it changed with noteAudit.
 */

const auditNotes = new WeakMap<Response, Omit<AuditEntry, 'action' | 'outcome'>>();

/** Tells the audit record which thing a handler changed, and how (ids, counts, states: no personal data). */
export function noteAudit(res: Response, note: Omit<AuditEntry, 'action' | 'outcome'>): void {
  auditNotes.set(res, { ...auditNotes.get(res), ...note });
}

/** Records every state-changing request once its answer is known: done, or refused by the permission check. */
export function auditTrail(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  action: string,
  actorOf: (res: Response) => { staffId: number | null; apiKeyId: number | null },
): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.on('finish', () => {
      const outcome = res.statusCode < 400 ? 'ok' : res.statusCode === 403 ? 'refused' : null;
      if (!outcome) return;
      const note = auditNotes.get(res) ?? {};
      recordAudit(
        deps.db,
        actorOf(res),
        {
          action,
          outcome,
          subjectType: note.subjectType ?? null,
          subjectId: note.subjectId ?? positiveId(req.params.id),
          ...(note.details ? { details: note.details } : {}),
        },
        deps.clock.now(),
      ).catch((error: unknown) => deps.logger.error({ err: error, action }, 'audit record failed'));
    });
    next();
  };
}
