import type { EntityManager } from '@mikro-orm/postgresql';
import { decode } from 'next-auth/jwt';
import {
  resolveCredentialActors,
  resolveSessionActor,
  resolveTokenActor,
  tokenActorSql,
  tokenResolution,
  type TActor,
  type TResolvedActor,
  type TResolveRefusal,
  type TTokenActorRow,
} from '@/lib/server/authz/actor';
import { applyImpersonation } from '@/lib/server/authz/impersonation';
import type { TSqlFragment } from '@/lib/server/authz/scope';
import { directQuery, statementTexts } from '@/lib/server/db/direct-query';
import { ApiToken } from '@/lib/server/entities';
import { DomainError } from '@/lib/server/errors/domain-error';
import { hashToken, isTokenShaped } from './api-token';

/**
 * THE door (DESIGN §1 "Credentials enter through one door"): every entry point — API
 * routes, pages, the socket handshake, the socket's re-check and its catch-up — turns
 * its credential into an actor here, with every gate applied in one place, and gets an
 * actor or a typed refusal. Each transport only maps the refusal (401/403, a redirect, a
 * `connect_error`, a closed socket). Written once because four copies drifted apart: a
 * revoked token kept its socket, a must-change-password session still streamed.
 */

/** What a client presented. */
export type TCredential =
  /**
   * The next-auth session cookie (a JWT naming user, session version and session row),
   * and the hostname of the request it came with (`requestHostname`): a session opens
   * only on the host it signed in on.
   */
  | { kind: 'session-cookie'; token: string | undefined; hostname: string | null }
  /** An API token (`Authorization: Bearer`, or the socket handshake's `auth.token`). */
  | { kind: 'api-token'; token: string | undefined }
  /** A socket's credential checked again (re-scoping, catch-up, expiry): by reference. */
  | { kind: 'resume'; ref: TCredentialRef };

/** What a connection keeps to have its credential checked again later. */
export type TCredentialRef =
  | { kind: 'session'; userId: string; sessionVersion: number; sessionId: string }
  | { kind: 'token'; tokenId: string };

/**
 * Gates an entry point may let through, because it is the way out of them, in the order
 * the door applies them: a screen for one gate passes the later ones too (the forced
 * password change comes before MFA enrolment).
 */
export const GATE_ORDER = ['password_change_required', 'mfa_enrolment_required'] as const;
export type TPassableGate = (typeof GATE_ORDER)[number];

export type TRefusal =
  /** No credential, or one that names nobody now: the reason is for logs, never sent. */
  | { code: 'unauthenticated'; reason: 'no_credential' | TResolveRefusal }
  /** Signed in, but an admin reset the password: only the change is open. */
  | { code: 'password_change_required' }
  /** Signed in, but the group requires MFA and the user has not enrolled. */
  | { code: 'mfa_enrolment_required' };

export interface TEntry {
  /** Who acts: the signed-in person, or the user it views as (read-only). */
  actor: TActor;
  /** The signed-in person, whatever view is open. */
  real: TActor;
  ref: TCredentialRef;
  /** When the credential itself ends (session or token expiry). */
  expiresAt: Date;
}

export type TDoorResult = { ok: true; entry: TEntry } | { ok: false; refusal: TRefusal };

export interface TDoorOptions {
  /** The secret that signs session cookies (not needed to resume a socket's credential). */
  authSecret?: string;
  /** Gates this entry point is the way out of (the password change, MFA enrolment). */
  pass?: readonly TPassableGate[];
  /** Act as the signed-in person even while a view-as is open (stopping the view). */
  realActor?: boolean;
}

/** A credential → an actor, or why not. Every gate, in this order, for every transport. */
export async function enter(
  em: EntityManager,
  credential: TCredential,
  options: TDoorOptions,
): Promise<TDoorResult> {
  const found = await resolveCredential(em, credential, options.authSecret);
  return admitAndTouch(em, credential, found, options);
}

async function admitAndTouch(
  em: EntityManager,
  credential: TCredential,
  found: TFound,
  options: TDoorOptions,
): Promise<TDoorResult> {
  const result = await admit(em, found, options);
  if (result.ok && credential.kind === 'api-token' && 'resolved' in found) {
    const { tokenId, lastUsedAt } = found.resolved;
    if (tokenId) await touchToken(em, tokenId, lastUsedAt);
  }
  return result;
}

/**
 * A route's one statement, built for the caller's account path given as SQL, giving one
 * JSON value (`ridden`): it may ride in the round trip of the credential's check.
 */
export type TRider = (callerPath: TSqlFragment) => { sql: string; params: unknown[] };

/**
 * `enter`, with a route's statement carried in the same round trip as a bearer token's
 * check (issue 18: the switch's authorization sits in the call path, and a second round
 * trip was most of what the API added to its statement). The statement runs for the
 * token's own account path before any gate is applied here; what it gave is handed out
 * only when the door admits the actor and the actor acts from that very account — a
 * view-as acts from another, and then (as for a session cookie, which has no such
 * statement of its own) the rider runs again on its own, for the actor admitted. Every
 * gate is `enter`'s: the same row, judged by the same `tokenResolution` and `admit`.
 */
export async function enterRiding<T>(
  em: EntityManager,
  credential: TCredential,
  options: TDoorOptions,
  rider: TRider,
): Promise<{ result: TDoorResult; ridden?: T }> {
  if (credential.kind !== 'api-token' || !credential.token || !isTokenShaped(credential.token)) {
    const result = await enter(em, credential, options);
    if (!result.ok) return { result };
    return { result, ridden: await ride<T>(em, rider, result.entry.actor.account.path) };
  }
  const riding = rider(CREDENTIAL_PATH);
  const [row] = await directQuery<TTokenActorRow & { ridden: T }>(
    em,
    ridingSql(riding.sql),
    [hashToken(credential.token), ...riding.params],
    { prepared: true },
  );
  const result = await admitAndTouch(em, credential, fromToken(tokenResolution(row)), options);
  if (!result.ok) return { result };
  const { path } = result.entry.actor.account;
  return {
    result,
    ridden: path === row!.account_path ? row!.ridden : await ride<T>(em, rider, path),
  };
}

/** The token's account path, as a rider's statement reads it. */
export const CREDENTIAL_PATH: TSqlFragment = {
  sql: '(select account_path from credential)',
  params: [],
};

/**
 * The token check with a rider's statement (built for `CREDENTIAL_PATH`) in one: the
 * check's row and `ridden`; its values the token's hash, then the rider's. Exported for
 * the bench's floor server, which sends this very text through plain `pg`.
 */
export function ridingSql(riderSql: string): string {
  return ridingText(
    riderSql,
    () => `with credential as materialized (${tokenActorSql('t.token_hash', '?')})
     select credential.*, (${riderSql}) as ridden from credential`,
  );
}
/** Riding statements by their rider's text (a route has one or two): built once each. */
const ridingText = statementTexts();

/** A rider on its own, for an admitted actor's account path. */
async function ride<T>(em: EntityManager, rider: TRider, path: string): Promise<T> {
  const riding = rider({ sql: '?::text', params: [path] });
  const [row] = await directQuery<{ ridden: T }>(
    em,
    `select (${riding.sql}) as ridden`,
    riding.params,
    { prepared: true },
  );
  return row!.ridden;
}

/**
 * The door for many sockets' credentials at once (the re-check after one change): for
 * each, exactly `enter`'s decision for `{ kind: 'resume', ref }`, with the credentials
 * read in one round trip (a view-as still reads its target).
 */
export async function resumeMany(
  em: EntityManager,
  refs: TCredentialRef[],
): Promise<TDoorResult[]> {
  const actors = await resolveCredentialActors(em, {
    sessions: refs.flatMap((ref) => (ref.kind === 'session' ? [ref] : [])),
    tokenIds: refs.flatMap((ref) => (ref.kind === 'token' ? [ref.tokenId] : [])),
  });
  return Promise.all(
    refs.map((ref) => {
      const result = actors.get(ref.kind === 'session' ? ref.sessionId : ref.tokenId)!;
      const found: TFound =
        'denied' in result
          ? result
          : {
              resolved: result,
              ref: ref.kind === 'session' ? ref : { kind: 'token', tokenId: ref.tokenId },
            };
      return admit(em, found, {});
    }),
  );
}

/** Every gate after the credential itself, in order. */
async function admit(
  em: EntityManager,
  found: TFound,
  options: TDoorOptions,
): Promise<TDoorResult> {
  if ('denied' in found) return refuse({ code: 'unauthenticated', reason: found.denied });
  const { resolved, ref } = found;
  const real = resolved.actor;
  const pass = options.pass ?? [];
  if (real.mustChangePassword && !pass.includes('password_change_required')) {
    return refuse({ code: 'password_change_required' });
  }
  if (mfaEnrolmentPending(real) && !pass.includes('mfa_enrolment_required')) {
    return refuse({ code: 'mfa_enrolment_required' });
  }
  // A person held at a gate this route lets through (changing a password, enrolling MFA)
  // is served as themselves: the view-as waits until they are through it, and the gate's
  // routes never show them the viewed person's identity or grants.
  const held = real.mustChangePassword || mfaEnrolmentPending(real);
  const actor =
    options.realActor || held ? real : await applyImpersonation(em, real, resolved.openView);
  return { ok: true, entry: { actor, real, ref, expiresAt: resolved.expiresAt } };
}

/** The MFA gate: the person's group requires MFA and it has not enrolled. */
function mfaEnrolmentPending(actor: TActor): boolean {
  return actor.mfa.required && !actor.mfa.enrolled;
}

function refuse(refusal: TRefusal): TDoorResult {
  return { ok: false, refusal };
}

/** A credential's actor as found, with what the door needs of the credential itself. */
type TFound =
  | {
      resolved: TResolvedActor & { expiresAt: Date; tokenId?: string; lastUsedAt?: Date | null };
      ref: TCredentialRef;
    }
  | { denied: 'no_credential' | TResolveRefusal };

async function resolveCredential(
  em: EntityManager,
  credential: TCredential,
  authSecret: string | undefined,
): Promise<TFound> {
  if (credential.kind === 'resume') {
    const { ref } = credential;
    if (ref.kind === 'token') return fromToken(await resolveTokenActor(em, { id: ref.tokenId }));
    return fromSession(await resolveSessionActor(em, ref), ref);
  }
  if (!credential.token) return { denied: 'no_credential' };
  if (credential.kind === 'api-token') {
    if (!isTokenShaped(credential.token)) return { denied: 'credential_invalid' };
    return fromToken(await resolveTokenActor(em, { hash: hashToken(credential.token) }));
  }
  const claims = authSecret ? await sessionClaims(credential.token, authSecret) : null;
  if (!claims) return { denied: 'credential_invalid' };
  const ref = { kind: 'session', ...claims } as const;
  return fromSession(await resolveSessionActor(em, claims, { hostname: credential.hostname }), ref);
}

function fromSession(
  result: Awaited<ReturnType<typeof resolveSessionActor>>,
  ref: TCredentialRef,
): TFound {
  return 'denied' in result ? result : { resolved: result, ref };
}

function fromToken(result: Awaited<ReturnType<typeof resolveTokenActor>>): TFound {
  if ('denied' in result) return result;
  return { resolved: result, ref: { kind: 'token', tokenId: result.tokenId } };
}

/**
 * A session cookie's claims: user, session version and session id. A JWT without a
 * session id (signed before sessions were kept on the server) names nobody.
 */
export async function sessionClaims(
  token: string,
  authSecret: string,
): Promise<{ userId: string; sessionVersion: number; sessionId: string } | null> {
  const claims = await decode({ token, secret: authSecret }).catch(() => null);
  if (!claims || typeof claims.sub !== 'string' || typeof claims.sv !== 'number') return null;
  if (typeof claims.sid !== 'string') return null;
  return { userId: claims.sub, sessionVersion: claims.sv, sessionId: claims.sid };
}

/** How stale a token's `lastUsedAt` may get before a request moves it. */
const LAST_USED_STEP_MS = 60_000;

/**
 * "Last used" to the minute: a write on every request would put a WAL flush in front of
 * every scripted call.
 */
async function touchToken(em: EntityManager, tokenId: string, lastUsedAt: Date | null | undefined) {
  const now = new Date();
  if (!lastUsedAt || now.getTime() - lastUsedAt.getTime() > LAST_USED_STEP_MS) {
    await em.nativeUpdate(ApiToken, { id: tokenId }, { lastUsedAt: now });
  }
}

/**
 * A long read (a CSV download, batch by batch) asks before each batch: the request's
 * credential through the door again, by reference (a session signed out, a token
 * revoked, a password reset, a user disabled, a view-as ended or expired all refuse it
 * there). Refused unless it still admits the same person, viewing as the same user,
 * holding every grant it held at the start (DESIGN §2: permission changes take effect at
 * once; the download ends, the connection cut).
 */
export async function assertStillAdmitted(
  em: EntityManager,
  ref: TCredentialRef,
  first: TActor,
): Promise<void> {
  const again = await enter(em, { kind: 'resume', ref }, {});
  const now = again.ok ? again.entry.actor : null;
  const same =
    now !== null &&
    now.userId === first.userId &&
    now.impersonatorUserId === first.impersonatorUserId &&
    first.grants.every((grant) => now.grants.includes(grant));
  if (!same) {
    throw new DomainError(
      'forbidden',
      'access_changed',
      'Your access changed during this download; it stopped there.',
    );
  }
}
