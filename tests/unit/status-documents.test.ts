import { describe, expect, it } from 'vitest';
import {
  cacheControl,
  chooseEncoding,
  etagFor,
  matchesEtag,
  strongEtag,
} from '../../src/status-page/documents.js';

describe('status page documents', () => {
  it('sends brotli, then gzip, then nothing, as the client accepts', () => {
    expect(chooseEncoding(undefined)).toBe('identity');
    expect(chooseEncoding('')).toBe('identity');
    expect(chooseEncoding('gzip, deflate, br')).toBe('br');
    expect(chooseEncoding('gzip, deflate')).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip');
    expect(chooseEncoding('gzip;q=0.5, br;q=0.1')).toBe('gzip');
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('*;q=0, identity')).toBe('identity');
    expect(chooseEncoding('deflate')).toBe('identity');
  });

  it('gives each encoding its own strong tag and answers If-None-Match by weak comparison', () => {
    const etag = strongEtag(Buffer.from('<p>page</p>'));
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const document = { etag };
    const tags = new Set([etagFor(document, 'identity'), etagFor(document, 'gzip'), etagFor(document, 'br')]);
    expect(tags.size).toBe(3);
    expect(etagFor(document, 'br')).toMatch(/^"[A-Za-z0-9_-]+-br"$/);
    expect(matchesEtag(etag, etag)).toBe(true);
    expect(matchesEtag(`"other", W/${etag}`, etag)).toBe(true);
    expect(matchesEtag('*', etag)).toBe(true);
    expect(matchesEtag(etagFor(document, 'gzip'), etag)).toBe(false);
    expect(matchesEtag(undefined, etag)).toBe(false);
  });

  it('lets shared caches keep the page briefly and serve it stale through errors', () => {
    expect(
      cacheControl({ maxAgeSeconds: 30, staleWhileRevalidateSeconds: 60, staleIfErrorSeconds: 604800 }),
    ).toBe('public, max-age=30, stale-while-revalidate=60, stale-if-error=604800');
  });
});
