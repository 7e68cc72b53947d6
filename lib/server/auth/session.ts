/**
 * next-auth's session cookie: `__Host-` prefixed when the public URL is https (set so by
 * lib/server/auth/options.ts), and then that name alone. An unprefixed cookie could be
 * planted over plain http, and a `__Secure-` one by a sibling subdomain (a white-label
 * reseller's site: `__Secure-` allows `Domain=`), and the browser sends the planted one
 * too — read, a cookie next-auth never set would sign the victim in as whoever planted
 * it (login CSRF). `__Host-` cookies are the host's own: Secure, `Path=/`, no Domain.
 */
export function sessionCookieName(publicUrl: string): string {
  return secureCookies(publicUrl) ? '__Host-next-auth.session-token' : 'next-auth.session-token';
}

export function secureCookies(publicUrl: string): boolean {
  return publicUrl.startsWith('https:');
}

/** Session lifetime; the session version stamp ends it sooner when access changes. */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

/**
 * The claims the panel keeps in its JWT, kept tiny so the cookie never gets chunked: the
 * user, its session version, and the server-side session row (`user_session`).
 */
export interface TSessionClaims {
  sub: string;
  sv: number;
  sid: string;
}

export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const rawPart of header.split(';')) {
    const part = rawPart.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    try {
      cookies.set(name, decodeURIComponent(raw));
    } catch {
      cookies.set(name, raw);
    }
  }
  return cookies;
}

/** The session cookie's value, by the one name the public URL gives it. */
export function sessionTokenFrom(
  get: (name: string) => string | undefined,
  publicUrl: string,
): string | undefined {
  return get(sessionCookieName(publicUrl)) || undefined;
}
