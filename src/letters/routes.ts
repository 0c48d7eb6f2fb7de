import express from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { buildLettersPdf } from './pdf.js';
import { loadCampaignLetters, markBatchPosted, recordBatchDownload } from './store.js';
import { idOr404 } from '../platform/ids.js';

type LetterDeps = Pick<Deps, 'config' | 'db' | 'vault' | 'clock'>;

/**
 * Staff download a campaign's letters as one print-ready PDF and mark the batch posted. The router
 * holds no access control of its own: the staff console mounts it, and only it, behind sign-in, the
 * `campaigns:write` permission, CSRF protection and the audit log. Letters carry names, postal
 * addresses and reference codes (which, with a postcode, sign a person in), so nothing else may.
 */
export function lettersRouter(deps: LetterDeps): express.Router {
  const router = express.Router();
  router.get('/campaigns/:campaignId/letters.pdf', async (req, res) => {
    const campaignId = idOr404(req.params.campaignId, 'campaign');
    const letters = await loadCampaignLetters(deps.db, deps.vault, campaignId);
    if (letters.length === 0) throw new NotFoundError('this campaign has no letters');
    const envelope = deps.config.letters.envelope;
    const pdf = await buildLettersPdf(letters, { envelope, date: deps.clock.now() });
    await recordBatchDownload(deps.db, campaignId, letters.length, envelope, deps.clock.now());
    res
      .type('application/pdf')
      .set('Content-Disposition', `attachment; filename="campaign-${campaignId}-letters-${envelope}.pdf"`)
      .set('Cache-Control', 'no-store')
      .send(pdf);
  });
  router.post('/campaigns/:campaignId/letters/posted', async (req, res) => {
    const campaignId = idOr404(req.params.campaignId, 'campaign');
    const batch = await markBatchPosted(deps.db, campaignId, res.locals.staff?.id ?? null, deps.clock.now());
    if (!batch) throw new NotFoundError('download the letters before marking them posted');
    res.redirect(303, `/console/campaigns/${campaignId}`);
  });
  return router;
}
