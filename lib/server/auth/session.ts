/** next-auth's session cookie: `__Secure-` prefixed when the public URL is https. */
export const SESSION_COOKIE_NAMES = [
  '__Secure-next-auth.session-token',
  'next-auth.session-token',
] as const;

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

export function sessionTokenFrom(get: (name: string) => string | undefined): string | undefined {
  for (const name of SESSION_COOKIE_NAMES) {
    const value = get(name);
    if (value) return value;
  }
  return undefined;
}
