import type { EntityManager } from '@mikro-orm/postgresql';
import { isGrant, type TGrant } from '@/lib/shared/permissions';
import type { TAccountKind } from '@/lib/server/entities';
import type { TDenyReason } from '@/lib/shared/schemas/users';
import { directQuery } from '@/lib/server/db/direct-query';
import { isWithin } from './scope';

/**
 * Who is acting: a signed-in user with a usable group inside an active account. Built
 * once per request and once per socket handshake, from the database, never from what
 * the session cookie claims beyond the user id and its session version.
 */
export interface TActor {
  userId: string;
  email: string;
  name: string;
  mustChangePassword: boolean;
  sessionVersion: number;
  account: { id: string; name: string; kind: TAccountKind; path: string };
  group: { id: string; name: string };
  grants: TGrant[];
  /**
   * MFA facts, not a decision: whether the user has it on, and whether its group
   * requires it (the door lets a required-but-not-enrolled actor reach enrolment only).
   */
  mfa: { enrolled: boolean; required: boolean };
  /** Set while a support user views the panel as this actor (read-only, always). */
  impersonatorUserId?: string;
  impersonation?: TActorImpersonation;
  /** An open view-as whose target is out for now (the actor is the support user's own). */
  dormantImpersonation?: {
    id: string;
    targetUserId: string;
    targetPath: string;
    /** The target's group: grants given back to it end the pause as well. */
    targetGroupId: string;
  };
}

export interface TActorImpersonation {
  id: string;
  impersonator: { id: string; name: string; email: string; accountName: string };
  reason: string;
  expiresAt: Date;
}

/** The row behind an actor, as one query reads it. */
export interface TActorRow {
  user_id: string;
  email: string;
  name: string;
  user_status: string;
  session_version: number;
  must_change_password: boolean;
  account_id: string;
  account_name: string;
  account_kind: TAccountKind;
  account_path: string;
  group_id: string | null;
  group_name: string | null;
  grants: string[] | null;
  group_owner_path: string | null;
  /** True when the account or any ancestor is suspended. */
  suspended_in_chain: boolean;
  mfa_enrolled: boolean;
  mfa_required: boolean;
  password_hash?: string;
}

export type { TDenyReason };

/**
 * Deny by default: an actor exists only when every condition holds. Pure, so the table
 * test in tests/unit covers each reason.
 */
export function evaluateActor(
  row: TActorRow,
  expectedSessionVersion?: number,
): { actor: TActor } | { denied: TDenyReason } {
  if (row.user_status !== 'active') return { denied: 'user_disabled' };
  if (row.suspended_in_chain) return { denied: 'account_suspended' };
  if (expectedSessionVersion !== undefined && row.session_version !== expectedSessionVersion) {
    return { denied: 'stale_session' };
  }
  if (!row.group_id || !row.group_name || !row.grants || row.group_owner_path === null) {
    return { denied: 'no_group' };
  }
  // A user may use a group of its own account or of an ancestor, nothing else.
  if (!isWithin(row.group_owner_path, row.account_path)) return { denied: 'group_not_usable' };
  const grants = row.grants.filter(isGrant);
  if (grants.length === 0) return { denied: 'no_grants' };
  return {
    actor: {
      userId: row.user_id,
      email: row.email,
      name: row.name,
      mustChangePassword: row.must_change_password,
      sessionVersion: row.session_version,
      account: {
        id: row.account_id,
        name: row.account_name,
        kind: row.account_kind,
        path: row.account_path,
      },
      group: { id: row.group_id, name: row.group_name },
      grants,
      mfa: { enrolled: row.mfa_enrolled, required: row.mfa_required },
    },
  };
}

const ACTOR_SELECT = `
  select u.id as user_id, u.email, u.name, u.status as user_status, u.session_version,
         u.must_change_password,
         u.mfa_enabled_at is not null as mfa_enrolled, coalesce(g.require_mfa, false) as mfa_required,
         a.id as account_id, a.name as account_name, a.kind as account_kind, a.path as account_path,
         g.id as group_id, g.name as group_name, g.grants, ga.path as group_owner_path,
         exists (
           select 1 from account s
           where s.status = 'suspended'
             and s.id = any (string_to_array(rtrim(a.path, '/'), '/')::uuid[])
         ) as suspended_in_chain`;
/** What an actor row joins to its user `u`. */
const ACTOR_JOINS = `
  join account a on a.id = u.account_id
  left join user_group g on g.id = u.group_id
  left join account ga on ga.id = g.account_id`;
const ACTOR_FROM = `from app_user u ${ACTOR_JOINS}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The open view-as (support impersonation) of the credential being checked, read in the
 * same round trip as the actor: every request asks for it, and most have none. A view
 * belongs to the session or token that started it, never to the person: the person's
 * other sessions and tokens act as the person (a script's token must not start answering
 * as whoever a tab is viewing). Whether it applies is decided by `applyImpersonation`.
 */
export interface TOpenView {
  id: string;
  target_user_id: string;
  target_session_version: number;
  reason: string;
  expires_at: Date;
  target_path: string;
  target_group_id: string;
}

const OPEN_VIEW_SELECT = `,
  v.id as view_id, v.target_user_id as view_target_user_id,
  v.target_session_version as view_target_session_version, v.reason as view_reason,
  v.expires_at as view_expires_at, v.target_path as view_target_path,
  v.target_group_id as view_target_group_id`;
/** The view-as started by the credential in the query: session `s` or token `t`. */
function openViewJoin(credential: 'session' | 'token'): string {
  const own = credential === 'session' ? 'i.session_id = s.id' : 'i.token_id = t.id';
  return `
  left join lateral (
    select i.id, i.target_user_id, tu.session_version as target_session_version, i.reason,
           i.expires_at, ta.path as target_path, tu.group_id as target_group_id
      from impersonation i
      join app_user tu on tu.id = i.target_user_id
      join account ta on ta.id = tu.account_id
     where i.impersonator_user_id = u.id and ${own}
       and i.ended_at is null and i.expires_at > now()
     order by i.started_at desc limit 1
  ) v on true`;
}
const SESSION_VIEW_JOIN = openViewJoin('session');
const TOKEN_VIEW_JOIN = openViewJoin('token');

type TActorViewRow = TActorRow & {
  view_id: string | null;
  view_target_user_id: string;
  view_target_session_version: number;
  view_reason: string;
  view_expires_at: Date;
  view_target_path: string;
  view_target_group_id: string;
};

/** An actor with its open view-as, as one query found them. */
export interface TResolvedActor {
  actor: TActor;
  openView: TOpenView | null;
}

/** Why a credential does not name an actor: it is gone, or its user may not act. */
export type TResolveRefusal = 'credential_invalid' | TDenyReason;

function resolvedFrom(
  row: TActorViewRow | undefined,
  sessionVersion: number,
): TResolvedActor | { denied: TResolveRefusal } {
  if (!row) return { denied: 'credential_invalid' };
  const result = evaluateActor(row, sessionVersion);
  if (!('actor' in result)) return result;
  const openView = row.view_id
    ? {
        id: row.view_id,
        target_user_id: row.view_target_user_id,
        target_session_version: row.view_target_session_version,
        reason: row.view_reason,
        expires_at: row.view_expires_at,
        target_path: row.view_target_path,
        target_group_id: row.view_target_group_id,
      }
    : null;
  return { actor: result.actor, openView };
}

/**
 * Loads the actor of a user at a session version, for the server's own use (a token
 * being issued, the target of a view-as); null when the user may not act. Never for a
 * credential from a client: those enter through `enter` (lib/server/auth/door.ts).
 */
export async function resolveActor(
  em: EntityManager,
  claims: { userId: string; sessionVersion: number },
): Promise<TActor | null> {
  if (!UUID.test(claims.userId)) return null;
  // No credential here, so no view-as: the actor is the user's own.
  const rows = await directQuery<TActorViewRow>(
    em,
    `${ACTOR_SELECT} ${ACTOR_FROM} where u.id = ?`,
    [claims.userId],
  );
  const resolved = resolvedFrom(rows[0], claims.sessionVersion);
  return 'actor' in resolved ? resolved.actor : null;
}

/** A credential's row after the actor's: when it ends (null: it has ended or never was). */
type TCredentialRow = TActorViewRow & { credential_expires_at: Date | null };

/**
 * The actor behind a browser session (the cookie's user, session version and session
 * id), its open view-as, and when the session ends — one round trip. A session that was
 * signed out, ended by a password change, or has expired names nobody.
 */
export async function resolveSessionActor(
  em: EntityManager,
  claims: { userId: string; sessionVersion: number; sessionId: string },
  /**
   * The hostname the cookie came in on: the session must have signed in there (issue
   * 19), else it names nobody. Omitted only for a socket's session checked again, whose
   * host was checked when it connected.
   */
  host?: { hostname: string | null },
): Promise<(TResolvedActor & { expiresAt: Date }) | { denied: TResolveRefusal }> {
  if (!UUID.test(claims.userId) || !UUID.test(claims.sessionId)) {
    return { denied: 'credential_invalid' };
  }
  if (host && !host.hostname) return { denied: 'credential_invalid' };
  const rows = await directQuery<TCredentialRow>(
    em,
    `${ACTOR_SELECT} ${OPEN_VIEW_SELECT}, s.expires_at as credential_expires_at
       from user_session s
       join app_user u on u.id = s.user_id ${ACTOR_JOINS} ${SESSION_VIEW_JOIN}
      where s.id = ? and s.user_id = ? and s.revoked_at is null and s.expires_at > now()
        ${host ? 'and s.host = ?' : ''}`,
    host ? [claims.sessionId, claims.userId, host.hostname] : [claims.sessionId, claims.userId],
    { prepared: true },
  );
  return withExpiry(rows[0], claims.sessionVersion);
}

/**
 * The token check's one statement (`placeholder`: `?` here, `$1` for the bench's floor
 * server, which runs the very same query on plain `pg`).
 */
export function tokenActorSql(column: 't.id' | 't.token_hash', placeholder: string): string {
  return `${ACTOR_SELECT} ${OPEN_VIEW_SELECT}, t.id as token_id, t.session_version as token_session_version,
            t.last_used_at as token_last_used_at, t.expires_at as credential_expires_at
       from api_token t
       join app_user u on u.id = t.user_id ${ACTOR_JOINS} ${TOKEN_VIEW_JOIN}
      where ${column} = ${placeholder} and t.expires_at > now()`;
}

/** A token check's row (`tokenActorSql`): the actor's, the view-as and the token's own. */
export type TTokenActorRow = TCredentialRow & {
  token_id: string;
  token_session_version: number;
  token_last_used_at: Date | null;
};

/** What a token's check resolves to: the actor with the token's bookkeeping, or why not. */
export type TTokenResolution =
  | (TResolvedActor & { tokenId: string; lastUsedAt: Date | null; expiresAt: Date })
  | { denied: TResolveRefusal };

/**
 * The actor behind an unexpired API token — found by the SHA-256 of its secret (a
 * request) or by its id (a socket opened with it, checked again) — its open view-as, and
 * what the token's bookkeeping needs, in one round trip. The token's session version
 * must still be the user's: disabling or a password reset ends every token (a new group
 * does not: the group is read here, so the token carries its grants at once).
 */
export async function resolveTokenActor(
  em: EntityManager,
  token: { hash: string } | { id: string },
): Promise<TTokenResolution> {
  const byId = 'id' in token;
  if (byId && !UUID.test(token.id)) return { denied: 'credential_invalid' };
  const rows = await directQuery<TTokenActorRow>(
    em,
    tokenActorSql(byId ? 't.id' : 't.token_hash', '?'),
    [byId ? token.id : token.hash],
    { prepared: true },
  );
  return tokenResolution(rows[0]);
}

/**
 * A token check's row (none: no such unexpired token) judged as `resolveTokenActor`
 * judges it — also for the door's check that carries a route's statement with it.
 */
export function tokenResolution(row: TTokenActorRow | undefined): TTokenResolution {
  if (!row) return { denied: 'credential_invalid' };
  const resolved = withExpiry(row, row.token_session_version);
  if ('denied' in resolved) return resolved;
  return {
    ...resolved,
    tokenId: row.token_id,
    lastUsedAt: row.token_last_used_at ? new Date(row.token_last_used_at) : null,
  };
}

/**
 * Many credentials' actors at once, as `resolveSessionActor` and `resolveTokenActor` (by
 * id) decide each — for re-checking the sockets one change touches: one round trip per
 * kind, however many sockets. Keyed by session or token id.
 */
export async function resolveCredentialActors(
  em: EntityManager,
  refs: {
    sessions: { userId: string; sessionVersion: number; sessionId: string }[];
    tokenIds: string[];
  },
): Promise<Map<string, (TResolvedActor & { expiresAt: Date }) | { denied: TResolveRefusal }>> {
  const found = new Map<
    string,
    (TResolvedActor & { expiresAt: Date }) | { denied: TResolveRefusal }
  >();
  const sessions = refs.sessions.filter((s) => UUID.test(s.userId) && UUID.test(s.sessionId));
  const tokenIds = refs.tokenIds.filter((id) => UUID.test(id));
  const list = (items: unknown[]) => items.map(() => '?').join(', ');
  const [sessionRows, tokenRows] = await Promise.all([
    sessions.length
      ? directQuery<TCredentialRow & { session_id: string; session_user_id: string }>(
          em,
          `${ACTOR_SELECT} ${OPEN_VIEW_SELECT}, s.expires_at as credential_expires_at,
                  s.id as session_id, s.user_id as session_user_id
             from user_session s
             join app_user u on u.id = s.user_id ${ACTOR_JOINS} ${SESSION_VIEW_JOIN}
            where s.id in (${list(sessions)}) and s.revoked_at is null and s.expires_at > now()`,
          sessions.map((s) => s.sessionId),
        )
      : [],
    tokenIds.length
      ? directQuery<TCredentialRow & { token_id: string; token_session_version: number }>(
          em,
          `${ACTOR_SELECT} ${OPEN_VIEW_SELECT}, t.id as token_id,
                  t.session_version as token_session_version, t.expires_at as credential_expires_at
             from api_token t
             join app_user u on u.id = t.user_id ${ACTOR_JOINS} ${TOKEN_VIEW_JOIN}
            where t.id in (${list(tokenIds)}) and t.expires_at > now()`,
          tokenIds,
        )
      : [],
  ]);
  const bySession = new Map(sessionRows.map((row) => [row.session_id, row]));
  for (const claims of refs.sessions) {
    const row = bySession.get(claims.sessionId);
    found.set(
      claims.sessionId,
      row && row.session_user_id === claims.userId
        ? withExpiry(row, claims.sessionVersion)
        : { denied: 'credential_invalid' },
    );
  }
  const byToken = new Map(tokenRows.map((row) => [row.token_id, row]));
  for (const id of refs.tokenIds) {
    const row = byToken.get(id);
    found.set(
      id,
      row ? withExpiry(row, row.token_session_version) : { denied: 'credential_invalid' },
    );
  }
  return found;
}

function withExpiry(
  row: TCredentialRow | undefined,
  sessionVersion: number,
): (TResolvedActor & { expiresAt: Date }) | { denied: TResolveRefusal } {
  const resolved = resolvedFrom(row, sessionVersion);
  if ('denied' in resolved) return resolved;
  return { ...resolved, expiresAt: new Date(row!.credential_expires_at!) };
}

/**
 * What a user may do right now, or why nothing — for explaining a user to the people
 * who manage it (DESIGN §1 "Groups are explainable"). No session stamp: it answers for
 * the user, not for one of its sessions. The caller must already have found the user in
 * its own scope.
 */
export async function evaluateUserAccess(
  em: EntityManager,
  userId: string,
): Promise<{ actor: TActor } | { denied: TDenyReason } | null> {
  const rows = await directQuery<TActorRow>(em, `${ACTOR_SELECT} ${ACTOR_FROM} where u.id = ?`, [
    userId,
  ]);
  return rows[0] ? evaluateActor(rows[0]) : null;
}

/**
 * `unsafe`: reads a user by email with its password hash, for the login check only.
 * The caller must verify the password before trusting anything in the row.
 */
export async function unsafeFindLoginRow(
  em: EntityManager,
  email: string,
): Promise<TActorRow | undefined> {
  const rows = await directQuery<TActorRow>(
    em,
    `${ACTOR_SELECT}, u.password_hash ${ACTOR_FROM} where u.email = ?`,
    [email.trim().toLowerCase()],
  );
  return rows[0];
}

/**
 * Every user of these accounts who may act now — each decided by `evaluateActor`, the
 * same rule as a sign-in (active, no suspension above, a usable group with grants) — for
 * deciding who receives something about those accounts (lib/server/authz/recipients.ts).
 */
export async function actorsOfAccounts(
  em: EntityManager,
  accountIds: readonly string[],
): Promise<TActor[]> {
  const ids = [...new Set(accountIds)].filter((id) => UUID.test(id));
  if (!ids.length) return [];
  const rows = await directQuery<TActorRow>(
    em,
    `${ACTOR_SELECT} ${ACTOR_FROM} where u.account_id in (${ids.map(() => '?').join(', ')})
      order by u.created_at, u.id`,
    ids,
  );
  return rows.flatMap((row) => {
    const result = evaluateActor(row);
    return 'actor' in result ? [result.actor] : [];
  });
}
