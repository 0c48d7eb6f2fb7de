import type { Response } from 'express';

/** The friendly refusal: 429, when to come back, and what to do meanwhile. */
export function refuseTooMany(res: Response, retryAfterSeconds: number): void {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  res.set('Retry-After', String(Math.max(1, retryAfterSeconds)));
  res.status(429).render('errors/rate-limited', { minutes });
}
