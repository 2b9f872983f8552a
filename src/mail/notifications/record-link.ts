/** Model → the web page of one of its records (`{id}` replaced), from core and every addon's `web.recordPages`. */
export const RECORD_PAGES = Symbol('RECORD_PAGES');

/** Setting: the web address links in alerts start with (none when empty). */
export const BASE_URL_SETTING = 'web.base_url';

/**
 * Where a person reads a record: `web.base_url` followed by the record's web page, else its thread in the API;
 * null without a base URL (no link rather than a broken one) or without a record.
 */
export function recordLink(
  baseUrl: string | undefined,
  pages: Record<string, string>,
  model: string | null,
  id: number | null,
): string | null {
  const base = baseUrl?.trim().replace(/(?<!\/)\/+$/, '');
  if (!base || model === null || id === null) return null;
  const page = pages[model];
  return page
    ? `${base}${page.replace('{id}', String(id))}`
    : `${base}/api/v1/threads/${model}/${id}/messages`;
}
