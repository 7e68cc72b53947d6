import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventArgs } from '@mikro-orm/postgresql';
import { Account, Group, User, type TAccount, type TGroup } from '@/lib/server/entities';
import { placeInTree } from '@/lib/server/services/accounts/account-tree';
import { resolveActor, type TActor } from '@/lib/server/authz/actor';
import { findVisibleGroup } from '@/lib/server/services/groups/group-access';
import { findAssignableGroup } from '@/lib/server/services/users/user-access';
import { startImpersonation } from '@/lib/server/services/impersonation/start-impersonation';
import type { TGrant } from '@/lib/shared/permissions';
import { useMigratedDatabase } from '../fixtures/migrated-database';
import { arrange } from '../fixtures/arrange';

/**
 * The lookups by an id from the client put the actor's scope in the query: an id from
 * outside answers not found, and the row behind it is never loaded (so no later check
 * can be forgotten, and nothing of it reaches the identity map). Loads are watched with
 * MikroORM's `onLoad` event; each "found" case shows the watch does see a load.
 *
 * Tree: carrier C ─┬─ R1 (the actor) ── K1
 *                  └─ R2 (a sibling of the actor's account)
 */
const ZERO_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const ACTOR_GRANTS: TGrant[] = [
  'groups:read',
  'users:read',
  'users:create',
  'users:update',
  'impersonation:start',
  'customers:read',
];

const database = useMigratedDatabase();
let actor: TActor;
let k1: TAccount;
let r1: TAccount;
const groups: Record<'c' | 'r1' | 'r2' | 'k1', TGroup> = {} as never;
const users: Record<'r1Peer' | 'r2' | 'k1', string> = {} as never;
/** `Entity:id` of every entity hydrated from a row since the last reset. */
let loaded: string[] = [];

beforeAll(async () => {
  database.orm.em.getEventManager().registerSubscriber({
    onLoad(args: EventArgs<{ id: string }>) {
      loaded.push(`${args.meta.className}:${args.entity.id}`);
    },
  });
  const em = database.orm.em.fork();
  const actorUserId = await arrange(em, async () => {
    const account = async (parent: TAccount | null, name: string) => {
      const created = em.create(Account, {
        ...placeInTree(parent),
        parent,
        kind: parent ? 'reseller' : 'carrier',
        name,
        currency: 'EUR',
      });
      await em.flush();
      return created;
    };
    const c = await account(null, 'C');
    r1 = await account(c, 'R1');
    const r2 = await account(c, 'R2');
    k1 = await account(r1, 'K1');
    const group = (owner: TAccount, grants: TGrant[]) =>
      em.create(Group, { id: crypto.randomUUID(), account: owner, name: owner.name, grants });
    groups.c = group(c, ['customers:read']);
    groups.r1 = group(r1, ACTOR_GRANTS);
    groups.r2 = group(r2, ['customers:read']);
    groups.k1 = group(k1, ['customers:read']);
    const user = (owner: TAccount, group: TGroup) =>
      em.create(User, {
        id: crypto.randomUUID(),
        account: owner,
        group,
        email: `${crypto.randomUUID()}@lookups.test`,
        name: owner.name,
        passwordHash: ZERO_HASH,
      }).id;
    const actorId = user(r1, groups.r1);
    users.r1Peer = user(r1, groups.r1);
    users.r2 = user(r2, groups.r2);
    users.k1 = user(k1, groups.k1);
    await em.flush();
    return actorId;
  });
  const resolved = await resolveActor(database.orm.em.fork(), {
    userId: actorUserId,
    sessionVersion: 1,
  });
  if (!resolved) throw new Error('the actor must be admitted');
  actor = resolved;
});

beforeEach(() => {
  loaded = [];
});

const NOT_FOUND = { code: 'not_found' };
const reason = { reason: 'checking the scoped lookup' };

describe('findVisibleGroup', () => {
  it("answers not found for a sibling's group without loading it", async () => {
    await expect(
      findVisibleGroup(database.orm.em.fork(), actor, groups.r2.id),
    ).rejects.toMatchObject(NOT_FOUND);
    expect(loaded).not.toContain(`Group:${groups.r2.id}`);
  });

  it('finds a group below (owner) and one above (use-only)', async () => {
    const below = await findVisibleGroup(database.orm.em.fork(), actor, groups.k1.id);
    const above = await findVisibleGroup(database.orm.em.fork(), actor, groups.c.id);
    expect([below.relation, above.relation]).toEqual(['owner', 'use-only']);
    expect(loaded).toContain(`Group:${groups.k1.id}`);
  });
});

describe('findAssignableGroup', () => {
  it("answers not found for a sibling's group, and for one below the account", async () => {
    const em = database.orm.em.fork();
    await expect(findAssignableGroup(em, actor, k1, groups.r2.id)).rejects.toMatchObject(NOT_FOUND);
    await expect(findAssignableGroup(em, actor, r1, groups.k1.id)).rejects.toMatchObject(NOT_FOUND);
    expect(loaded).not.toContain(`Group:${groups.r2.id}`);
    expect(loaded).not.toContain(`Group:${groups.k1.id}`);
  });

  it("finds the account's own group and an ancestor's", async () => {
    const em = database.orm.em.fork();
    expect((await findAssignableGroup(em, actor, k1, groups.k1.id)).id).toBe(groups.k1.id);
    expect((await findAssignableGroup(em, actor, k1, groups.r1.id)).id).toBe(groups.r1.id);
    expect(loaded).toContain(`Group:${groups.k1.id}`);
  });
});

describe('startImpersonation', () => {
  const start = (userId: string) =>
    startImpersonation(
      database.orm.em.fork(),
      actor,
      { userId, ...reason },
      { minutes: 5, credential: { kind: 'token', tokenId: crypto.randomUUID() } },
    );

  it("answers not found for a sibling's user and a peer, without loading them", async () => {
    await expect(start(users.r2)).rejects.toMatchObject(NOT_FOUND);
    await expect(start(users.r1Peer)).rejects.toMatchObject(NOT_FOUND);
    expect(loaded).not.toContain(`User:${users.r2}`);
    expect(loaded).not.toContain(`User:${users.r1Peer}`);
  });

  it('starts viewing as a user of an account below', async () => {
    expect((await start(users.k1)).targetUserId).toBe(users.k1);
    expect(loaded).toContain(`User:${users.k1}`);
  });
});
