import type { EntityManager } from '@mikro-orm/postgresql';
import { isGrant, type TGrant } from '@/lib/shared/permissions';
import type { TAccountKind } from '@/lib/server/entities';
import type { TDenyReason } from '@/lib/shared/schemas/users';

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
  /** Set while a support user views the panel as this actor (read-only, always). */
  impersonatorUserId?: string;
  impersonation?: TActorImpersonation;
  /** An open view-as whose target is out for now (the actor is the support user's own). */
  dormantImpersonation?: { targetUserId: string; targetPath: string };
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
  if (!row.account_path.startsWith(row.group_owner_path)) return { denied: 'group_not_usable' };
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
    },
  };
}

const ACTOR_SELECT = `
  select u.id as user_id, u.email, u.name, u.status as user_status, u.session_version,
         u.must_change_password,
         a.id as account_id, a.name as account_name, a.kind as account_kind, a.path as account_path,
         g.id as group_id, g.name as group_name, g.grants, ga.path as group_owner_path,
         exists (
           select 1 from account s
           where s.status = 'suspended'
             and s.id = any (string_to_array(rtrim(a.path, '/'), '/')::uuid[])
         ) as suspended_in_chain`;
const ACTOR_FROM = `
  from app_user u
  join account a on a.id = u.account_id
  left join user_group g on g.id = u.group_id
  left join account ga on ga.id = g.account_id`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Loads the actor for a session's claims; null when the session must not act. */
export async function resolveActor(
  em: EntityManager,
  claims: { userId: string; sessionVersion: number },
): Promise<TActor | null> {
  if (!UUID.test(claims.userId)) return null;
  const rows = await em
    .getConnection()
    .execute<TActorRow[]>(`${ACTOR_SELECT} ${ACTOR_FROM} where u.id = ?`, [claims.userId]);
  const row = rows[0];
  if (!row) return null;
  const result = evaluateActor(row, claims.sessionVersion);
  return 'actor' in result ? result.actor : null;
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
  const rows = await em
    .getConnection()
    .execute<TActorRow[]>(`${ACTOR_SELECT} ${ACTOR_FROM} where u.id = ?`, [userId]);
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
  const rows = await em
    .getConnection()
    .execute<TActorRow[]>(`${ACTOR_SELECT}, u.password_hash ${ACTOR_FROM} where u.email = ?`, [
      email.trim().toLowerCase(),
    ]);
  return rows[0];
}
