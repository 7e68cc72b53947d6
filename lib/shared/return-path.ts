/**
 * Where sign-in returns to (`/login?next=…`): a page of this panel, by its path, or null.
 * Only a path on this origin ("/customers/…?tab=balance"): never another origin
 * (`//evil.example`, `/\evil.example`, a scheme), never the sign-in page itself or the
 * API, nothing with control characters, and not longer than a link one would follow.
 */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2_000) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, 'http://panel.invalid');
  } catch {
    return null;
  }
  if (url.origin !== 'http://panel.invalid') return null;
  if (/^\/(login|api)(\/|$)/.test(url.pathname)) return null;
  // Next's own parameter for a client-side navigation's payload is not part of the page.
  url.searchParams.delete('_rsc');
  return `${url.pathname}${url.search}${url.hash}`;
}
