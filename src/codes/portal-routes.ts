import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { findPublishedIncident, type Incident } from '../incidents/store.js';
import { formProtection } from '../web/session.js';
import { listPersonalOffers, revealCode, startEnrollment, type CodeDeps } from './service.js';
import { formatDay } from './rules.js';
import { codesPath } from './paths.js';
import { findPersonScope } from '../people/store.js';
import { idOr404 } from '../platform/ids.js';

type PortalDeps = CodeDeps & Pick<Deps, 'redis'>;

/** Where a person proves who they are (the portal's lookup). */
export const lookupPath = (slug: string) => `/incidents/${slug}/check`;

/**
 * The person this session proved to be, if they belong to this incident. Codes are shown only to
 * someone who passed the lookup (reference code and verifier, or a one-time code).
 */
async function verifiedPersonId(
  deps: Pick<Deps, 'db'>,
  req: Request,
  incident: Incident,
): Promise<number | null> {
  const portal = req.session.portal;
  if (!portal) return null;
  const scope = await findPersonScope(deps.db, portal.personId);
  return scope?.incidentId === incident.id ? portal.personId : null;
}

async function publishedIncident(deps: Pick<Deps, 'db'>, slug: string | undefined): Promise<Incident> {
  const incident = slug ? await findPublishedIncident(deps.db, slug) : null;
  if (!incident) throw new NotFoundError('no such incident');
  return incident;
}

function verifyFirst(res: Response, incident: Incident): void {
  res.status(403).render('codes/verify-first', { incident, lookupUrl: lookupPath(incident.slug) });
}

// A page with a personal code on it must never be kept by a shared cache or the back button.
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** The person's codes: see the offers, reveal a code, follow the link to the vendor. */
export function portalCodesRouter(deps: PortalDeps): express.Router {
  const router = express.Router();
  router.use('/incidents/:slug/codes', formProtection(deps), noStore);

  router.get('/incidents/:slug/codes', async (req, res) => {
    const incident = await publishedIncident(deps, req.params.slug);
    const personId = await verifiedPersonId(deps, req, incident);
    if (personId === null) return verifyFirst(res, incident);
    const offers = await listPersonalOffers(deps, { personId, locale: res.locals.lang });
    res.render('codes/portal', {
      incident,
      offers,
      actionBase: codesPath(incident.slug),
      formatDay: (day: string) => formatDay(res.locals.lang, day),
    });
  });

  router.post('/incidents/:slug/codes/:poolId/reveal', async (req, res) => {
    const incident = await publishedIncident(deps, req.params.slug);
    const personId = await verifiedPersonId(deps, req, incident);
    if (personId === null) return verifyFirst(res, incident);
    const poolId = idOr404(req.params.poolId, 'offer');
    await revealCode(deps, { personId, poolId });
    // Whatever the outcome (the code, or "being replenished"), the page says it; a reload does not post again.
    res.redirect(303, `${codesPath(incident.slug)}#pool-${poolId}`);
  });

  router.get('/incidents/:slug/codes/:poolId/enroll', async (req, res) => {
    const incident = await publishedIncident(deps, req.params.slug);
    const personId = await verifiedPersonId(deps, req, incident);
    if (personId === null) return verifyFirst(res, incident);
    const url = await startEnrollment(deps, { personId, poolId: idOr404(req.params.poolId, 'offer') });
    res.redirect(303, url);
  });

  return router;
}
