/** The incident's updates as an Atom feed (RFC 4287), for feed readers and journalists. Pure. */

export interface FeedInput {
  /** Absolute URL of this feed. */
  selfUrl: string;
  /** Absolute URL of the status page the feed belongs to. */
  pageUrl: string;
  /** A stable id for the feed, e.g. a tag: URI. */
  id: string;
  title: string;
  organisation: string;
  locale: string;
  /** When anything on the page last changed. */
  updated: Date;
  entries: { id: string; title: string; body: string; published: Date; url: string }[];
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) =>
    char === '<'
      ? '&lt;'
      : char === '>'
        ? '&gt;'
        : char === '&'
          ? '&amp;'
          : char === "'"
            ? '&apos;'
            : '&quot;',
  );
}

export function buildAtomFeed(feed: FeedInput): string {
  const entries = feed.entries.map(
    (entry) => `  <entry>
    <id>${escapeXml(entry.id)}</id>
    <title>${escapeXml(entry.title)}</title>
    <link rel="alternate" type="text/html" href="${escapeXml(entry.url)}"/>
    <published>${entry.published.toISOString()}</published>
    <updated>${entry.published.toISOString()}</updated>
    <content type="text">${escapeXml(entry.body)}</content>
  </entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${escapeXml(feed.locale)}">
  <id>${escapeXml(feed.id)}</id>
  <title>${escapeXml(feed.title)}</title>
  <updated>${feed.updated.toISOString()}</updated>
  <author><name>${escapeXml(feed.organisation)}</name></author>
  <link rel="self" type="application/atom+xml" href="${escapeXml(feed.selfUrl)}"/>
  <link rel="alternate" type="text/html" href="${escapeXml(feed.pageUrl)}"/>
${entries.join('\n')}
</feed>
`;
}

/** A tag: URI (RFC 4151) that stays the same wherever the site moves to. */
export function tagUri(host: string, since: Date, specific: string): string {
  return `tag:${host},${since.toISOString().slice(0, 10)}:${specific}`;
}
