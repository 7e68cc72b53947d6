import type { EntityManager } from '@mikro-orm/postgresql';
import { evaluateActor, unsafeFindLoginRow } from '@/lib/server/authz/actor';
import { verifyPassword } from './password';
import type { TSessionClaims } from './session';
import {
  claimLoginAttempt,
  loginSucceeded,
  pruneThrottles,
  type TLoginThrottlePolicy,
} from './throttle';

export type TLoginResult =
  | { ok: true; claims: Omit<TSessionClaims, 'sid'> }
  | { ok: false; reason: 'refused' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * Checks an email and password for a client IP. Every refusal reads alike (unknown
 * email, wrong password, disabled user, suspended account, no usable group) and an
 * unknown email costs the same time; failures are throttled per (email, IP) and per IP.
 * The attempt is claimed (counted) before the password is checked, so concurrent guesses
 * cannot slip past the throttle; a success gives the claim back.
 */
export async function authenticate(
  em: EntityManager,
  input: { email: string; password: string; ip: string },
  policy: TLoginThrottlePolicy,
): Promise<TLoginResult> {
  const email = input.email.trim().toLowerCase();
  const wait = await claimLoginAttempt(em, email, input.ip, policy);
  if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait };

  const row = await unsafeFindLoginRow(em, email);
  const passwordOk = await verifyPassword(row?.password_hash ?? null, input.password);
  const result = row && passwordOk ? evaluateActor(row) : null;
  if (!result || !('actor' in result)) {
    // Counted when claimed. Refusals are what add rows, so they also clear out old ones.
    await pruneThrottles(em, policy);
    return { ok: false, reason: 'refused' };
  }
  await loginSucceeded(em, email, input.ip);
  // Raw SQL on purpose: a sign-in is not an edit, so it must not bump the user's version
  // (MikroORM's nativeUpdate would) and make an admin's open form stale.
  await em.execute('update app_user set last_login_at = now() where id = ?', [result.actor.userId]);
  return { ok: true, claims: { sub: result.actor.userId, sv: result.actor.sessionVersion } };
}

/** The client address the custom server stamped on the request (never a client header). */
export const CLIENT_IP_HEADER = 'x-panel-client-ip';
