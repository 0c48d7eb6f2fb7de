import type { Response } from 'express';
import type { Deps } from '../../deps.js';
import { CALLBACK_HOURS } from '../../support/slots.js';
import { NotFoundError } from '../../platform/errors.js';
import { listStaff } from '../../staff/store.js';
import { can, isStaffRole } from '../../staff/permissions.js';
import { type ConsoleRoute } from '../routing.js';
import { noteAudit } from '../../web/audit-trail.js';
import { idOr404, positiveId } from '../../platform/ids.js';
import { staffOf } from '../../web/staff.js';
import {
  addSupportNote,
  assignSupportRequest,
  closeSupportRequest,
  findSupportRequest,
  listSupportNotes,
  listSupportRequests,
  SUPPORT_STATUSES,
  type SupportRequest,
  type SupportStatus,
} from './store.js';
import {
  ANSWER_TEMPLATES,
  answerChannel,
  answerSupportRequest,
  renderAnswerTemplate,
  type AnswerTemplate,
} from '../../inbound/service.js';
import { listSupportReplies, smsOptOutOf } from '../../inbound/store.js';
import { findIncidentById } from '../../incidents/store.js';

const PAGE = 200;

/** The support queue: callback requests and messages from the portal; an agent takes one, notes, closes. */
export function supportRoutes(deps: Deps): ConsoleRoute[] {
  const load = async (idParam: unknown) => {
    const request = await findSupportRequest(deps.db, deps.vault, idOr404(idParam, 'support request'));
    if (!request) throw new NotFoundError('There is no such support request.');
    return request;
  };
  const field = (body: unknown, name: string) => {
    const value = (body as Record<string, unknown>)[name];
    return typeof value === 'string' ? value.trim() : '';
  };

  const showRequest = async (
    res: Response,
    request: SupportRequest,
    errors: { field: string; messageKey: string }[] = [],
  ) => {
    const staff = (await listStaff(deps.db)).filter(
      (member) => isStaffRole(member.role) && can(member.role, 'support:manage'),
    );
    const channel = answerChannel(request);
    const incident = request.incidentId ? await findIncidentById(deps.db, request.incidentId) : null;
    res.status(errors.length ? 400 : 200).render('console/support/show', {
      request,
      notes: await listSupportNotes(deps.db, deps.vault, request.id),
      replies: await listSupportReplies(deps.db, deps.vault, request.id),
      answerChannel: channel,
      optedOut:
        channel === 'sms' && request.phone
          ? (await smsOptOutOf(deps.db, deps.vault.hash('phone', request.phone))) !== null
          : false,
      // Shown in the person's language: what the agent picks is exactly what is sent.
      templates: ANSWER_TEMPLATES.map((name) => ({
        name,
        text: renderAnswerTemplate(deps, name, request.locale, incident),
      })),
      staffList: staff,
      statuses: SUPPORT_STATUSES,
      slotHours: CALLBACK_HOURS,
      errors,
    });
  };

  return [
    {
      method: 'get',
      path: '/console/support',
      access: 'support:manage',
      handler: async (req, res) => {
        const show = req.query.show === 'closed' ? 'closed' : 'waiting';
        const statuses: SupportStatus[] = show === 'closed' ? ['closed'] : ['open', 'assigned'];
        res.render('console/support/index', {
          show,
          slotHours: CALLBACK_HOURS,
          requests: await listSupportRequests(deps.db, deps.vault, { statuses, limit: PAGE }),
        });
      },
    },
    {
      method: 'get',
      path: '/console/support/:id',
      access: 'support:manage',
      handler: async (req, res) => showRequest(res, await load(req.params.id)),
    },
    {
      method: 'post',
      path: '/console/support/:id/assign',
      access: 'support:manage',
      audit: 'support.assign',
      handler: async (req, res) => {
        const request = await load(req.params.id);
        const staffId = positiveId(field(req.body, 'staffId')) ?? staffOf(res).id;
        await assignSupportRequest(deps.db, request.id, staffId, deps.clock.now());
        noteAudit(res, { subjectType: 'support_request', details: { assignedTo: staffId } });
        res.redirect(303, `/console/support/${request.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/support/:id/notes',
      access: 'support:manage',
      audit: 'support.note',
      handler: async (req, res) => {
        const request = await load(req.params.id);
        const text = field(req.body, 'note').slice(0, 5_000);
        if (!text) {
          await showRequest(res, request, [
            { field: 'note', messageKey: 'console:support.errors.noteMissing' },
          ]);
          return;
        }
        await addSupportNote(deps.db, deps.vault, {
          requestId: request.id,
          staffId: staffOf(res).id,
          text,
          at: deps.clock.now(),
        });
        noteAudit(res, { subjectType: 'support_request' });
        res.redirect(303, `/console/support/${request.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/support/:id/answer',
      access: 'support:manage',
      audit: 'support.answer',
      handler: async (req, res) => {
        const request = await load(req.params.id);
        const text = field(req.body, 'text').slice(0, 5_000);
        const chosen = field(req.body, 'template');
        const template = (ANSWER_TEMPLATES as readonly string[]).includes(chosen)
          ? (chosen as AnswerTemplate)
          : null;
        if (!text && !template) {
          await showRequest(res, request, [
            { field: 'text', messageKey: 'inbound:console.errors.answerMissing' },
          ]);
          return;
        }
        const { replyId } = await answerSupportRequest(deps, {
          requestId: request.id,
          staffId: staffOf(res).id,
          text: text || null,
          template,
        });
        noteAudit(res, { subjectType: 'support_request', details: { supportReplyId: replyId, template } });
        res.redirect(303, `/console/support/${request.id}`);
      },
    },
    {
      method: 'post',
      path: '/console/support/:id/close',
      access: 'support:manage',
      audit: 'support.close',
      handler: async (req, res) => {
        const request = await load(req.params.id);
        await closeSupportRequest(deps.db, request.id, deps.clock.now());
        noteAudit(res, { subjectType: 'support_request' });
        res.redirect(303, '/console/support');
      },
    },
  ];
}
