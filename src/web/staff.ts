import type { Response } from 'express';

export type SignedInStaff = NonNullable<Response['locals']['staff']>;

/**
 * The staff member behind a request on an authenticated route (a console page or an /api/v1 row).
 * The console's and the API's routers put it there before any handler runs, so its absence is a
 * bug in the routing, not something to answer the client about: it fails loudly, as a 500.
 */
export function staffOf(res: Response): SignedInStaff {
  const staff = res.locals.staff;
  if (!staff) throw new Error('an authenticated route ran without a signed-in staff member');
  return staff;
}
