/**
 * Where sign-in returns to (`/login?next=…`): a page of this panel, by its path, or null.
 * Only a path on this origin ("/customers/…?tab=balance"): never another origin
 * (`//evil.example`, `/\evil.example`, a scheme — nor one that dot segments make of a
 * path: `/.//evil.example` is `//evil.example` once resolved), never the sign-in page
 * itself or the API, nothing with control characters, and not longer than a link one
 * would follow. The path is judged as a browser will resolve it, and given back so.
 */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2_000) return null;
  if (!value.startsWith('/') || value.includes('\\')) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, 'http://panel.invalid');
  } catch {
    return null;
  }
  if (url.origin !== 'http://panel.invalid') return null;
  const path = url.pathname;
  if (path.startsWith('//') || path.includes('\\')) return null;
  if (/^\/(login|api)(\/|$)/.test(path)) return null;
  // Next's own parameter for a client-side navigation's payload is not part of the page;
  // the rest of the query is kept as it was written.
  const search = url.search
    .slice(1)
    .split('&')
    .filter((part) => part !== '' && !/^_rsc(=|$)/.test(part))
    .join('&');
  return `${path}${search ? `?${search}` : ''}${url.hash}`;
}
