import type { EntityManager } from '@mikro-orm/postgresql';

export interface TThrottlePolicy {
  /** Failures allowed before any delay. */
  freeFailures: number;
  /** Failures after which the (email, IP) pair is locked for `lockSeconds`. */
  lockFailures: number;
  baseDelayMs: number;
  lockSeconds: number;
}

/**
 * How long the next attempt must wait after `failures` consecutive failures: nothing at
 * first, then doubling delays, then the lock. Pure, so the unit test covers the curve.
 */
export function delayAfter(failures: number, policy: TThrottlePolicy): number {
  if (failures < policy.freeFailures) return 0;
  if (failures >= policy.lockFailures) return policy.lockSeconds * 1000;
  return Math.min(
    policy.baseDelayMs * 2 ** (failures - policy.freeFailures),
    policy.lockSeconds * 1000,
  );
}

/**
 * Login throttling per (email, client IP), in the database so every process shares it
 * (DESIGN §3). Only failures count; a success clears the pair. The email need not exist:
 * unknown and known emails are throttled alike, so the throttle tells nothing either.
 */
export async function secondsUntilAllowed(
  em: EntityManager,
  email: string,
  ip: string,
): Promise<number> {
  const rows = await em.execute<{ wait: string | null }[]>(
    `select extract(epoch from (next_allowed_at - now())) as wait
       from login_throttle where email = ? and ip = ? and next_allowed_at > now()`,
    [email, ip],
  );
  const wait = rows[0]?.wait;
  return wait ? Math.max(1, Math.ceil(Number(wait))) : 0;
}

export async function recordFailure(
  em: EntityManager,
  email: string,
  ip: string,
  policy: TThrottlePolicy,
) {
  const rows = await em.execute<{ failures: number }[]>(
    `insert into login_throttle (email, ip, failures, next_allowed_at, updated_at)
     values (?, ?, 1, now(), now())
     on conflict (email, ip) do update set failures = login_throttle.failures + 1, updated_at = now()
     returning failures`,
    [email, ip],
  );
  const delay = delayAfter(rows[0]!.failures, policy);
  if (delay > 0) {
    await em.execute(
      `update login_throttle set next_allowed_at = now() + (? * interval '1 millisecond') where email = ? and ip = ?`,
      [delay, email, ip],
    );
  }
}

export async function clearFailures(em: EntityManager, email: string, ip: string) {
  await em.execute('delete from login_throttle where email = ? and ip = ?', [email, ip]);
}
