import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiToken } from '@/lib/server/entities';
import { resolveActorByTokenHash, type TResolvedActor } from '@/lib/server/authz/actor';

/** How stale a token's `lastUsedAt` may get before a request moves it. */
const LAST_USED_STEP_MS = 60_000;

/** Tokens look like `rpt_<43 base64url chars>`; only their SHA-256 is stored. */
const PREFIX = 'rpt_';

export function newTokenSecret(): { token: string; hash: string } {
  const token = PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** `Authorization: Bearer rpt_…` → the token's value, or undefined. */
export function bearerFrom(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(rpt_[A-Za-z0-9_-]{20,100})$/.exec(header?.trim() ?? '');
  return match?.[1];
}

/**
 * The actor behind an API token and its open view-as: the token must exist and be
 * unexpired, and its user must still be allowed in with the same session version as when
 * the token was made (a new group, disabling or a reset ends every token; deleting the
 * user deletes them).
 */
export async function actorFromApiToken(
  em: EntityManager,
  token: string | undefined,
): Promise<TResolvedActor | null> {
  if (!token) return null;
  const resolved = await resolveActorByTokenHash(em, hashToken(token));
  if (!resolved) return null;
  // "Last used" to the minute: a write on every request would put a WAL flush in front
  // of every scripted call.
  const now = new Date();
  if (!resolved.lastUsedAt || now.getTime() - resolved.lastUsedAt.getTime() > LAST_USED_STEP_MS) {
    await em.nativeUpdate(ApiToken, { id: resolved.tokenId }, { lastUsedAt: now });
  }
  return { actor: resolved.actor, openView: resolved.openView };
}
