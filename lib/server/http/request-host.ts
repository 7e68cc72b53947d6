/**
 * The hostname a request arrived on, from its Host header: lower-case, without the port
 * or a trailing dot (an IPv6 literal keeps its brackets); null when there is none.
 * Sessions are bound to it and a brand's portal is found by it (issue 19). The Host is
 * the client's to choose: it decides which brand a page shows and which host a session
 * belongs to, never who is signed in. Behind a proxy, pass the original Host through.
 */
export function requestHostname(host: string | null | undefined): string | null {
  const value = host?.trim().toLowerCase();
  if (!value) return null;
  const name = value.startsWith('[')
    ? value.slice(0, value.indexOf(']') + 1)
    : value.replace(/:\d*$/, '');
  const bare = name.replace(/\.$/, '');
  return bare && bare.length <= 253 ? bare : null;
}

/**
 * The origin of the page a cookie-carrying request must come from: the host it was sent
 * to (`host`, its Host header: a brand's portal or the main URL; the session it carries
 * is bound to that host, issue 19) under PUBLIC_URL's scheme. A page on another portal,
 * or a sibling subdomain, is not it. Asked by cookie writes (api/same-origin.ts) and by
 * the socket's handshake (services/brands/portal-hostnames.ts `isAllowedSessionOrigin`).
 */
export function ownOrigin(host: string | null | undefined, publicUrl: string): string {
  const panel = new URL(publicUrl);
  if (!host || !URL.canParse(`${panel.protocol}//${host}`)) return panel.origin;
  return new URL(`${panel.protocol}//${host}`).origin;
}
