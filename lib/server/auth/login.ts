import type { EntityManager } from '@mikro-orm/postgresql';
import { evaluateActor, unsafeFindLoginRow } from '@/lib/server/authz/actor';
import { verifyPassword } from './password';
import type { TSessionClaims } from './session';
import {
  clearFailures,
  recordFailure,
  secondsUntilAllowed,
  type TThrottlePolicy,
} from './throttle';

export type TLoginResult =
  | { ok: true; claims: Omit<TSessionClaims, 'sid'> }
  | { ok: false; reason: 'refused' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * Checks an email and password for a client IP. Every refusal reads alike (unknown
 * email, wrong password, disabled user, suspended account, no usable group) and an
 * unknown email costs the same time; failures are throttled per (email, IP).
 */
export async function authenticate(
  em: EntityManager,
  input: { email: string; password: string; ip: string },
  policy: TThrottlePolicy,
): Promise<TLoginResult> {
  const email = input.email.trim().toLowerCase();
  const wait = await secondsUntilAllowed(em, email, input.ip);
  if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait };

  const row = await unsafeFindLoginRow(em, email);
  const passwordOk = await verifyPassword(row?.password_hash ?? null, input.password);
  const result = row && passwordOk ? evaluateActor(row) : null;
  if (!result || !('actor' in result)) {
    await recordFailure(em, email, input.ip, policy);
    return { ok: false, reason: 'refused' };
  }
  await clearFailures(em, email, input.ip);
  // Raw SQL on purpose: a sign-in is not an edit, so it must not bump the user's version
  // (MikroORM's nativeUpdate would) and make an admin's open form stale.
  await em.execute('update app_user set last_login_at = now() where id = ?', [result.actor.userId]);
  return { ok: true, claims: { sub: result.actor.userId, sv: result.actor.sessionVersion } };
}

/** The client address the custom server stamped on the request (never a client header). */
export const CLIENT_IP_HEADER = 'x-panel-client-ip';
