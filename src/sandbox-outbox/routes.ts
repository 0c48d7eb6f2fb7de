import type { Express } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { renderEmailHtml } from '../notices/email.js';
import { buildLettersPdf, letterPrintOptions } from '../letters/pdf.js';
import { loadLetter } from '../letters/store.js';
import { findOutboxEntry, listOutbox } from './store.js';
import { staffOnly } from '../console/routing.js';
import { idOr404 } from '../platform/ids.js';

/**
 * What the sandbox provider "sent", rendered as each person would receive it: the email as it
 * displays, the SMS with its segment count, the call script, the printed letter. It shows personal
 * data, so it exists only while a sandbox provider is configured (a demo, a rehearsal), in any mode,
 * and every page needs signed-in staff allowed to read it.
 */
export function registerSandboxOutbox(app: Express, deps: Deps): void {
  const { email, sms, voice } = deps.config;
  if (![email.provider, sms.provider, voice.provider].includes('sandbox')) return;
  app.get('/sandbox/outbox', ...staffOnly(deps, 'outbox:read'), async (_req, res) => {
    const { entries, total } = await listOutbox(deps.db, deps.vault, 200);
    res.render('sandbox-outbox/index', { entries, total });
  });

  app.get('/sandbox/outbox/:id/email', ...staffOnly(deps, 'outbox:read'), async (req, res) => {
    const entry = await findOutboxEntry(deps.db, deps.vault, idOr404(req.params.id, 'message'));
    if (entry?.channel !== 'email') throw new NotFoundError('no such email');
    // The email's own inline styles, and nothing else: it is our template with every value escaped.
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      .type('html')
      .send(renderEmailHtml(entry.content));
  });

  app.get('/sandbox/outbox/:id/letter.pdf', ...staffOnly(deps, 'outbox:read'), async (req, res) => {
    const entry = await findOutboxEntry(deps.db, deps.vault, idOr404(req.params.id, 'message'));
    if (entry?.channel !== 'letter') throw new NotFoundError('no such letter');
    const letter = await loadLetter(deps.db, deps.vault, entry.messageId);
    if (!letter) throw new NotFoundError('no such letter');
    const pdf = await buildLettersPdf([letter], letterPrintOptions(deps));
    res.type('application/pdf').set('Cache-Control', 'no-store').send(pdf);
  });
}
