import type { EntityManager } from '@mikro-orm/postgresql';
import { mutate, type TChange } from '@/lib/server/live/change-log';
import { SESSION_MAX_AGE_SECONDS } from './session';
import { enter, GATE_ORDER } from './door';
import { resolveActor } from '@/lib/server/authz/actor';
import { withinSql } from '@/lib/server/authz/scope';
import { DomainError } from '@/lib/server/errors/domain-error';

/**
 * Server-side browser sessions (`user_session`): a sign-in opens one (only while the
 * password it checked is still the user's) and its id goes into the cookie; the door
 * admits the cookie only while the row stands. Ending a row ends that cookie everywhere
 * at once, and — through the change log entry its caller writes — every socket opened
 * with it.
 *
 * Opening one is written to the change log too, as the person signing in: the audit's
 * "signed in" (with the hostname, the client address and whether a code was checked),
 * and a signal to those who read the person's users (audience.ts `signInDeliveries`) so
 * their "last sign-in" follows live.
 */
export async function openSession(
  em: EntityManager,
  signIn: {
    userId: string;
    /** The session version the sign-in's claims carry. */
    sessionVersion: number;
    /** The password hash the sign-in verified. */
    verifiedHash: string;
    /** The hostname it signed in on (`requestHostname`): the cookie opens it there only. */
    host: string;
    /** Whether the sign-in checked a second factor (the user had MFA on). */
    mfaChecked: boolean;
    /** The client address the server stamped on the request. */
    ip: string;
  },
): Promise<string | null> {
  const { userId, verifiedHash, host, mfaChecked, ip } = signIn;
  const actor = await resolveActor(em, { userId, sessionVersion: signIn.sessionVersion });
  if (!actor) return null;
  try {
    return await mutate(em, actor, async (tx, record) => {
      if (!(await markSignedIn(tx, { userId, verifiedHash, mfaChecked }))) return null;
      const id = crypto.randomUUID();
      await tx.execute(
        `insert into user_session (id, user_id, host, created_at, expires_at)
         values (?, ?, ?, now(), now() + (? * interval '1 second'))`,
        [id, userId, host, SESSION_MAX_AGE_SECONDS],
      );
      await pruneSessions(tx, userId);
      record({
        resource: 'sessions',
        entityId: id,
        op: 'created',
        version: null,
        before: null,
        after: { host, ip: ip.slice(0, 64), mfa: mfaChecked },
        scopeBefore: null,
        scopeAfter: actor.account.path,
      });
      return id;
    });
  } catch (error) {
    // The user lost its access between the password check and this (`holdAuthor`).
    if (error instanceof DomainError && error.code === 'access_changed') return null;
    throw error;
  }
}

/**
 * "The user's row is still as the sign-in checked it" — the password verified is still
 * its hash, and MFA is still off unless the sign-in checked a code — and if so, its last
 * sign-in set to now; false (nothing written) if not. One write, so the row's lock is
 * held to the caller's commit: a password change or an MFA enrolment in flight holds the
 * row until it commits, and each ends the other sessions (and the change, the tokens)
 * it sees; so a sign-in checked just before either lands first (and is ended) or, after
 * the wait, finds the row changed (the condition is judged again on the row as it is
 * after the wait) and opens nothing. Two sign-ins of one person queue on the row, where
 * two share locks each upgraded to write would deadlock. The caller logs what it opens
 * in the same transaction, so the last sign-in never moves without the entry that tells
 * of it. Raw SQL on purpose: a sign-in is not an edit, so it must not bump the user's
 * version (MikroORM's update would) and make an admin's open form stale. The column keeps
 * milliseconds only, as the users list's cursor holds them (sorted by last sign-in, a row
 * a microsecond later would come again on the next page).
 */
export async function markSignedIn(
  tx: EntityManager,
  checked: { userId: string; verifiedHash: string; mfaChecked: boolean },
): Promise<boolean> {
  const marked = await tx.execute<{ id: string }[]>(
    `update app_user u set last_login_at = now()
      where u.id = ? and u.password_hash = ? and (?::boolean or u.mfa_enabled_at is null)
      returning u.id`,
    [checked.userId, checked.verifiedHash, checked.mfaChecked],
  );
  return marked.length > 0;
}

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

/**
 * A portal's hostnames gone (dropped from its brand, the brand removed): every session
 * signed in on one of them ends with them, each logged as ended so its sockets close
 * (server/revocation.ts). Left open, such a session kept answering there — with no live
 * sync, as no socket may open on a host no brand has — and opened the portal of whichever
 * brand claimed the hostname next, which signs in only its own people.
 */
export async function endSessionsOnHosts(
  tx: EntityManager,
  record: (change: TChange) => void,
  hostnames: readonly string[],
  /**
   * Hostnames a brand has just claimed: only sessions of people outside its subtree end
   * (`portalPath`), opened there while no brand held the name and signed in as anyone.
   * The portal signs in only its own people; left open, a richer user's session (the
   * carrier's admin's) would sit on a host whose DNS the reseller controls.
   */
  claimedBy?: { portalPath: string },
): Promise<void> {
  if (!hostnames.length) return;
  const outsiders = claimedBy ? withinSql('a.path', claimedBy.portalPath) : null;
  const ended = await tx.execute<{ id: string; path: string }[]>(
    `update user_session s set revoked_at = now()
       from app_user u join account a on a.id = u.account_id
      where u.id = s.user_id and s.host = any(?::text[])
        and s.revoked_at is null and s.expires_at > now()
        ${outsiders ? `and not ${outsiders.sql}` : ''}
      returning s.id, a.path`,
    [`{${hostnames.join(',')}}`, ...(outsiders?.params ?? [])],
  );
  for (const row of ended) {
    record({
      resource: 'sessions',
      entityId: row.id,
      op: 'deleted',
      version: null,
      before: null,
      after: null,
      scopeBefore: row.path,
      scopeAfter: null,
      summary: claimedBy ? { hostClaimed: true } : { hostRemoved: true },
      // A claim ends outsiders' sessions only — a sibling's or another tenant's people:
      // their audit says the system ended it, never which account claimed the name (the
      // claimer's ancestors read "System" too). A brand dropping its own name ends its
      // own people's sessions: who did it is said, as for any change.
      ...(claimedBy ? { bySystem: true as const } : {}),
    });
  }
}
