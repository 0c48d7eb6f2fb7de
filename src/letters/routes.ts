import express, { type Express } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { buildLettersPdf } from './pdf.js';
import { loadCampaignLetters, markBatchPosted, recordBatchDownload } from './store.js';

type LetterDeps = Pick<Deps, 'config' | 'db' | 'vault' | 'clock'>;

function campaignIdFrom(value: unknown): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('no such campaign');
  return id;
}

/**
 * Staff download a campaign's letters as one print-ready PDF and mark the batch posted. The router
 * holds no access control of its own: the staff console mounts it behind sign-in. Until then it is
 * mounted only outside production, like the sandbox outbox.
 */
export function lettersRouter(deps: LetterDeps): express.Router {
  const router = express.Router();
  router.get('/campaigns/:campaignId/letters.pdf', async (req, res) => {
    const campaignId = campaignIdFrom(req.params.campaignId);
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
    const campaignId = campaignIdFrom(req.params.campaignId);
    const batch = await markBatchPosted(deps.db, campaignId, null, deps.clock.now());
    if (!batch) throw new NotFoundError('download the letters before marking them posted');
    res.json({ campaignId: batch.campaignId, letters: batch.letters, postedAt: batch.postedAt });
  });
  return router;
}

export function registerLetters(app: Express, deps: LetterDeps): void {
  if (deps.config.env === 'production') return;
  app.use('/sandbox/letters', lettersRouter(deps));
}
