/** A minimal Atom (RFC 4287) document: escaped text only, no HTML content. */

const xml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

export interface AtomEntry {
  id: string;
  title: string;
  updated: Date;
  summary: string;
}

export function atomFeed(feed: {
  id: string;
  title: string;
  self: string;
  page: string;
  updated: Date;
  entries: AtomEntry[];
}): string {
  const entries = feed.entries
    .map(
      (e) => `  <entry>
    <id>${xml(e.id)}</id>
    <title>${xml(e.title)}</title>
    <updated>${e.updated.toISOString()}</updated>
    <link rel="alternate" href="${xml(feed.page)}"/>
    <summary>${xml(e.summary)}</summary>
  </entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${xml(feed.id)}</id>
  <title>${xml(feed.title)}</title>
  <updated>${feed.updated.toISOString()}</updated>
  <author><name>Vigil</name></author>
  <link rel="self" type="application/atom+xml" href="${xml(feed.self)}"/>
  <link rel="alternate" type="text/html" href="${xml(feed.page)}"/>
${entries}
</feed>
`;
}
