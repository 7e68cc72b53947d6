import type { EntityManager } from '@mikro-orm/postgresql';
import { mutate } from '@/lib/server/live/change-log';
import { SESSION_MAX_AGE_SECONDS } from './session';
import { enter, GATE_ORDER } from './door';

/**
 * Server-side browser sessions (`user_session`): a sign-in opens one (only while the
 * password it checked is still the user's) and its id goes into the cookie; the door
 * admits the cookie only while the row stands. Ending a row ends that cookie everywhere
 * at once, and — through the change log entry its caller writes — every socket opened
 * with it.
 */
export async function openSession(
  em: EntityManager,
  userId: string,
  /** The password hash the sign-in verified. */
  verifiedHash: string,
  /** The hostname it signed in on (`requestHostname`): the cookie opens it there only. */
  host: string,
  /** Whether the sign-in checked a second factor (the user had MFA on). */
  mfaChecked: boolean,
): Promise<string | null> {
  const id = crypto.randomUUID();
  const opened = await em.execute<{ id: string }[]>(
    `insert into user_session (id, user_id, host, created_at, expires_at)
     select ?, ?, ?, now(), now() + (? * interval '1 second')
      where ${STILL_AS_CHECKED}
     returning id`,
    [id, userId, host, SESSION_MAX_AGE_SECONDS, userId, verifiedHash, mfaChecked],
  );
  if (!opened.length) return null;
  await pruneSessions(em, userId);
  return id;
}

/**
 * "The password verified is still the user's", with a share lock on the user's row: a
 * password change in flight holds that row until it commits, so a sign-in that checked
 * the old password either lands before the change (and the change ends its session) or
 * finds the new hash and opens nothing. Parameters: user id, verified hash.
 */
export const STILL_THE_PASSWORD = `exists (
  select 1 from app_user u where u.id = ? and u.password_hash = ? for share)`;

/**
 * `STILL_THE_PASSWORD` for a session, and MFA still off unless the sign-in checked a code:
 * turning MFA on ends every other session (own-mfa.ts) under the user's row lock, so a
 * password-only sign-in checked just before it waits here and then opens nothing, rather
 * than a session the enrolment never saw. One locked read, so the condition is judged on
 * the row as it is after the wait. Parameters: user id, verified hash, code checked.
 */
const STILL_AS_CHECKED = `exists (
  select 1 from app_user u
   where u.id = ? and u.password_hash = ? and (?::boolean or u.mfa_enabled_at is null)
     for share)`;

/** Rows of sessions that ended over a day ago tell nothing the audit does not. */
async function pruneSessions(em: EntityManager, userId: string): Promise<void> {
  await em.execute(
    `delete from user_session where user_id = ? and (revoked_at < now() - interval '1 day'
        or expires_at < now() - interval '1 day')`,
    [userId],
  );
}

/** Ends one session (sign-out); true when it was still open. */
export async function endSession(
  em: EntityManager,
  userId: string,
  sessionId: string,
): Promise<boolean> {
  const ended = await em.execute<{ id: string }[]>(
    `update user_session set revoked_at = now()
      where id = ? and user_id = ? and revoked_at is null returning id`,
    [sessionId, userId],
  );
  return ended.length > 0;
}

/**
 * Ends every session of the user but `keep` (the one changing its password). Returns
 * how many were open.
 */
export async function endOtherSessions(
  em: EntityManager,
  userId: string,
  keep: string | null,
): Promise<number> {
  const ended = await em.execute<{ id: string }[]>(
    `update user_session set revoked_at = now()
      where user_id = ? and revoked_at is null and expires_at > now()
        and id is distinct from ?::uuid
      returning id`,
    [userId, keep],
  );
  await pruneSessions(em, userId);
  return ended.length;
}

/**
 * Sign-out: ends the cookie's session row and writes it to the change log, which closes
 * every socket opened with that session on every process (server/revocation.ts) and is
 * the audit's "signed out". A cookie that names nobody any more has nothing to end.
 */
export async function signOutSession(
  em: EntityManager,
  claims: { sub?: unknown; sv?: unknown; sid?: unknown },
): Promise<void> {
  const { sub, sv, sid } = claims;
  if (typeof sub !== 'string' || typeof sv !== 'number' || typeof sid !== 'string') return;
  const result = await enter(
    em,
    { kind: 'resume', ref: { kind: 'session', userId: sub, sessionVersion: sv, sessionId: sid } },
    { pass: GATE_ORDER, realActor: true },
  );
  if (!result.ok) {
    await endSession(em, sub, sid);
    return;
  }
  const person = result.entry.real;
  await mutate(em, person, async (tx, record) => {
    if (!(await endSession(tx, sub, sid))) return;
    record({
      resource: 'sessions',
      entityId: sid,
      op: 'deleted',
      version: null,
      before: null,
      after: null,
      scopeBefore: person.account.path,
      scopeAfter: null,
      summary: { signedOut: true },
    });
  });
}
