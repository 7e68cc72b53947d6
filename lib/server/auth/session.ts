import type { EntityManager } from '@mikro-orm/postgresql';
import { decode } from 'next-auth/jwt';
import { resolveActorWithView, type TResolvedActor } from '@/lib/server/authz/actor';

/** next-auth's session cookie: `__Secure-` prefixed when the public URL is https. */
export const SESSION_COOKIE_NAMES = [
  '__Secure-next-auth.session-token',
  'next-auth.session-token',
] as const;

/** Session lifetime; the session version stamp ends it sooner when access changes. */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

/** The claims the panel keeps in its JWT: kept tiny so the cookie never gets chunked. */
export interface TSessionClaims {
  sub: string;
  sv: number;
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

/**
 * The actor behind a session token and its open view-as, or null: a token that does not decode, has
 * expired, or whose user, group or account no longer allows access (the session
 * version stamp makes a disabled user's cookie die at once). Used by pages, route
 * handlers and the Socket.IO handshake alike.
 */
export async function actorFromSessionToken(
  em: EntityManager,
  token: string | undefined,
  secret: string,
): Promise<TResolvedActor | null> {
  if (!token) return null;
  const claims = await decode({ token, secret }).catch(() => null);
  if (!claims || typeof claims.sub !== 'string' || typeof claims.sv !== 'number') return null;
  return resolveActorWithView(em, { userId: claims.sub, sessionVersion: claims.sv });
}
