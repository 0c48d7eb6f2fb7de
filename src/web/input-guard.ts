import type { RequestHandler } from 'express';

/**
 * One guard in front of every route, the status page's fast path included: a path or query that is
 * not valid percent-encoded UTF-8, or that holds a NUL character, is refused with 400 before any route
 * sees it. Routes then never pass such a string to PostgreSQL (which rejects NUL and invalid UTF-8),
 * and Express never fails to decode a route parameter, both of which used to end in a 500.
 *
 * It answers by itself, with no template, because it runs before the locale and the views are set up.
 */
export const rejectMalformedInput: RequestHandler = (req, res, next) => {
  const [path = '', query = ''] = req.url.split('?', 2);
  if (isCleanText(path) && query.split('&').every((pair) => isCleanText(pair.replace(/\+/g, ' ')))) {
    next();
    return;
  }
  res
    .status(400)
    .set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'")
    .set('Cache-Control', 'no-store');
  if (path.startsWith('/api/') || path.startsWith('/webhooks/')) {
    res.type('application/problem+json').json({ title: 'The address is not valid', status: 400 });
    return;
  }
  res
    .type('html')
    .send(
      '<!doctype html><html lang="en"><meta charset="utf-8"><title>Error: this address is not valid</title>' +
        '<h1>This address is not valid</h1><p>Check the link, or start again from the <a href="/">home page</a>.</p></html>',
    );
};

function isCleanText(encoded: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return false;
  }
  return !decoded.includes('\0');
}
