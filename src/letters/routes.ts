import type { Deps } from '../deps.js';
import type { ConsoleRoute } from '../console/routing.js';
import { noteAudit } from '../web/audit-trail.js';
import { idOr404 } from '../platform/ids.js';
import { campaignLetters, downloadLetters, markLettersPosted } from './service.js';

/**
 * The console's letters page: staff download a campaign's letters as one print-ready PDF, print them,
 * post them and say so. Letters carry names, postal addresses and reference codes (which, with a
 * postcode, sign a person in), so every route needs `campaigns:write`.
 */
export function letterConsoleRoutes(deps: Deps): ConsoleRoute[] {
  return [
    {
      method: 'get',
      path: '/console/campaigns/:campaignId/letters',
      access: 'campaigns:write',
      handler: async (req, res) => {
        const letters = await campaignLetters(deps, idOr404(req.params.campaignId, 'campaign'));
        res.render('console/letters/index', {
          ...letters,
          done: req.query.done === 'posted' ? 'posted' : null,
        });
      },
    },
    {
      method: 'get',
      path: '/console/campaigns/:campaignId/letters.pdf',
      access: 'campaigns:write',
      handler: async (req, res) => {
        const campaignId = idOr404(req.params.campaignId, 'campaign');
        const { pdf, envelope } = await downloadLetters(deps, campaignId);
        res
          .type('application/pdf')
          .set('Content-Disposition', `attachment; filename="campaign-${campaignId}-letters-${envelope}.pdf"`)
          .send(pdf);
      },
    },
    {
      method: 'post',
      path: '/console/campaigns/:campaignId/letters/posted',
      access: 'campaigns:write',
      audit: 'letters.batch.posted',
      handler: async (req, res) => {
        const campaignId = idOr404(req.params.campaignId, 'campaign');
        const { batch, newlyPosted } = await markLettersPosted(deps, {
          campaignId,
          staffId: res.locals.staff?.id ?? null,
        });
        noteAudit(res, {
          subjectType: 'campaign',
          subjectId: campaignId,
          details: { letters: newlyPosted, postedAt: batch.postedAt?.toISOString() ?? null },
        });
        res.redirect(303, `/console/campaigns/${campaignId}/letters?done=posted`);
      },
    },
  ];
}
