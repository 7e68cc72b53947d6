import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '@/lib/server/entities';
import { evaluateActor, unsafeFindLoginRow } from '@/lib/server/authz/actor';
import { verifyPassword } from './password';
import type { TSessionClaims } from './session';

/**
 * Checks an email and password. Returns the session claims, or null for every kind of
 * refusal alike (unknown email, wrong password, disabled user, suspended account, no
 * usable group): the answer never tells which, and an unknown email costs the same time.
 */
export async function authenticate(
  em: EntityManager,
  email: string,
  password: string,
): Promise<TSessionClaims | null> {
  const row = await unsafeFindLoginRow(em, email);
  const passwordOk = await verifyPassword(row?.password_hash ?? null, password);
  if (!row || !passwordOk) return null;
  const result = evaluateActor(row);
  if (!('actor' in result)) return null;
  await em.nativeUpdate(User, { id: row.user_id }, { lastLoginAt: new Date() });
  return { sub: result.actor.userId, sv: result.actor.sessionVersion };
}
