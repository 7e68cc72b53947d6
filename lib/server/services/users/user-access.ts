import type { EntityManager } from '@mikro-orm/postgresql';
import {
  Account,
  Group,
  User,
  type TAccount,
  type TGroup,
  type TUser,
} from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { scopeFor, withinSql } from '@/lib/server/authz/scope';
import { assignableGroupScope, groupRelation } from '@/lib/server/authz/group-relation';
import type { TManageTarget } from '@/lib/server/authz/manage-user';
import { isSubsetOfActor } from '@/lib/server/authz/can';
import { notFound } from '@/lib/server/errors/domain-error';
import { ownerLock } from '@/lib/server/services/accounts/account-scope';
import { assertNoEscalation } from '@/lib/server/services/groups/no-escalation';
import type { TUserDto } from '@/lib/shared/schemas/users';
import { mutate, type TChange } from '@/lib/server/live/change-log';
import type { TUserChangeSummary } from '@/lib/shared/live/change-summary';

/** Users of the actor's own account and of every account under it. */
/**
 * A write that takes a user in scope over — an edit, a reset, a deletion. Its `mutate`
 * takes the user's author lock exclusively first (`revokes`: the user's own writes in
 * flight land before it, authz/actor-holds.ts); then the user's row is held to commit
 * before it is read, when it is in the actor's subtree (an id from elsewhere locks
 * nothing on its way to 404). An edit so compares its version with what no one else can
 * change meanwhile (two saves at once: the second gets 409 with the current user, not a
 * bare conflict at flush), and a delete judges the group the user has when it goes, not
 * one read before an edit that gave it a richer group.
 */
export function mutateScopedUser<T>(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  work: (tx: EntityManager, record: (change: TChange) => void, user: TUser) => Promise<T>,
): Promise<T> {
  return mutate(
    em,
    actor,
    async (tx, record) => {
      const inScope = withinSql('a.path', actor.account.path);
      await tx.execute(
        `select 1 from app_user u join account a on a.id = u.account_id
          where u.id = ? and ${inScope.sql} for no key update of u`,
        [unverifiedId, ...inScope.params],
      );
      return work(tx, record, await findScopedUser(tx, actor, unverifiedId));
    },
    { revokes: [unverifiedId] },
  );
}

export async function findScopedUser(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TUser> {
  const user = await em.findOne(
    User,
    { $and: [scopeFor(actor, 'user'), { id: unverifiedId }] },
    // The group's account: whether the actor may read the group (`manageTargetOf`).
    { populate: ['account', 'group.account'] },
  );
  if (!user) throw notFound('user');
  return user;
}

/** The user as the manage rule judges it (authz/manage-user.ts). */
export function manageTargetOf(actor: TActor, user: TUser): TManageTarget {
  return {
    id: user.id,
    grants: user.group.grants,
    grantsShown: groupRelation(actor, user.group) !== null,
  };
}

/**
 * An account a user may be created in: the actor's own or one under it, customers
 * included (issue 19, customer self-care: a customer's people sign in like a reseller's).
 * Its row is held shared to commit (`ownerLock`).
 */
export async function findUserAccount(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TAccount> {
  const account = await em.findOne(
    Account,
    { $and: [scopeFor(actor, 'account'), { id: unverifiedId }] },
    { lockMode: ownerLock },
  );
  if (!account) throw notFound('account');
  return account;
}

/**
 * A group the user in `account` may have: owned by that account or by an ancestor of it
 * ("the new reseller group or an older one"), holding nothing the actor lacks.
 */
export async function findAssignableGroup(
  em: EntityManager,
  actor: TActor,
  account: TAccount,
  unverifiedGroupId: string,
): Promise<TGroup> {
  // The scope is in the query: a group owned elsewhere is never loaded.
  const group = await em.findOne(
    Group,
    { $and: [assignableGroupScope(account), { id: unverifiedGroupId }] },
    { populate: ['account'] },
  );
  if (!group) throw notFound('group');
  // An ancestor's group holding more than the actor is one it cannot see (GET /groups/{id}
  // is 404): not found here too, not a refusal naming the grants it holds.
  if (!isSubsetOfActor(actor, group.grants) && !groupRelation(actor, group)) {
    throw notFound('group');
  }
  assertNoEscalation(actor, group.grants);
  return group;
}

export function toUserDto(user: TUser): TUserDto {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    accountId: user.account.id,
    accountName: user.account.name,
    groupId: user.group.id,
    status: user.status,
    mustChangePassword: user.mustChangePassword,
    mfaEnabled: Boolean(user.mfaEnabledAt),
    lastSignInAt: user.lastLoginAt?.toISOString() ?? null,
    version: user.version,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/**
 * The change-log record of an edit of a user that stays where it is: before and after as
 * the API shows them (never a secret: the DTO holds none), and what the edit amounted to.
 */
export function userUpdated(user: TUser, before: TUserDto, summary?: TUserChangeSummary): TChange {
  return {
    resource: 'users',
    entityId: user.id,
    op: 'updated',
    version: user.version,
    before: { ...before },
    after: { ...toUserDto(user) },
    scopeBefore: user.account.path,
    scopeAfter: user.account.path,
    summary,
  };
}
