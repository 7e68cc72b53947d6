import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Account, Group, User, type TAccount, type TGroup } from '@/lib/server/entities';
import { placeInTree } from '@/lib/server/services/accounts/account-tree';
import { listSubAccounts } from '@/lib/server/services/accounts/list-sub-accounts';
import { listUsers } from '@/lib/server/services/users/list-users';
import { listGroups } from '@/lib/server/services/groups/list-groups';
import { evaluateActor, type TActor } from '@/lib/server/authz/actor';
import { ALL_GRANTS, type TGrant } from '@/lib/shared/permissions';
import { useMigratedDatabase } from '../fixtures/migrated-database';
import { arrange } from '../fixtures/arrange';
import { DomainError } from '@/lib/server/errors/domain-error';

/**
 * Property: over random account trees, random groups and a random viewer, every list
 * the services answer equals what the pure rule below says — written here again, apart
 * from the authz module, so one cannot silently agree with itself. Each run builds a
 * new tenant in the same database, so earlier tenants are there to leak, and must not.
 */
const RUNS = 40;

const database = useMigratedDatabase();

const ZERO_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** A tree as parent indices: node i hangs under node parents[i] (< i); node 0 is the carrier. */
const arbitraryWorld = fc.record({
  nodes: fc.array(
    fc.record({ parentPick: fc.nat(), isCustomer: fc.boolean(), groupPick: fc.nat() }),
    { minLength: 1, maxLength: 10 },
  ),
  groups: fc.array(fc.record({ ownerPick: fc.nat(), grants: fc.subarray([...ALL_GRANTS]) }), {
    minLength: 1,
    maxLength: 4,
  }),
  viewerPick: fc.nat(),
  viewerGrants: fc.subarray([...ALL_GRANTS], { minLength: 1 }),
});

type TWorld = typeof arbitraryWorld extends fc.Arbitrary<infer T> ? T : never;

async function build(world: TWorld) {
  const em = database.orm.em.fork();
  const { accounts, viewerUser, viewerAccount, viewerGroup, groups } = await arrange(
    em,
    async () => {
      const carrier = em.create(Account, {
        ...placeInTree(null),
        kind: 'carrier',
        name: 'Carrier',
        currency: 'EUR',
      });
      await em.flush();
      const accounts: TAccount[] = [carrier];
      for (const [i, node] of world.nodes.entries()) {
        // Customers have no children: pick the parent among carrier and resellers only.
        const parents = accounts.filter((a) => a.kind !== 'customer');
        const parent = parents[node.parentPick % parents.length]!;
        const account = em.create(Account, {
          ...placeInTree(parent),
          parent,
          kind: node.isCustomer ? 'customer' : 'reseller',
          currency: 'EUR',
          name: `Account ${i}`,
        });
        await em.flush();
        accounts.push(account);
      }
      const owners = accounts.filter((a) => a.kind !== 'customer');
      const groups: TGroup[] = [];
      for (const [i, spec] of world.groups.entries()) {
        groups.push(
          em.create(Group, {
            id: crypto.randomUUID(),
            account: owners[spec.ownerPick % owners.length]!,
            name: `G${i}`,
            grants: spec.grants,
          }),
        );
      }
      await em.flush();
      // One user per account that signs in, with a group it may use (its own or an ancestor's).
      for (const account of owners) {
        const usable = groups.filter((g) => account.path.startsWith(g.account.path));
        if (!usable.length) continue;
        em.create(User, {
          id: crypto.randomUUID(),
          account,
          group: usable[world.nodes.length % usable.length]!,
          email: `${crypto.randomUUID()}@prop.test`,
          name: 'user',
          passwordHash: ZERO_HASH,
        });
      }
      const viewerAccount = owners[world.viewerPick % owners.length]!;
      const viewerGroup = em.create(Group, {
        id: crypto.randomUUID(),
        account: viewerAccount,
        name: 'Viewer',
        grants: world.viewerGrants,
      });
      const viewerUser = em.create(User, {
        id: crypto.randomUUID(),
        account: viewerAccount,
        group: viewerGroup,
        email: `${crypto.randomUUID()}@prop.test`,
        name: 'viewer',
        passwordHash: ZERO_HASH,
      });
      await em.flush();
      return { accounts, viewerUser, viewerAccount, viewerGroup, groups };
    },
  );
  const result = evaluateActor({
    user_id: viewerUser.id,
    email: viewerUser.email,
    name: 'viewer',
    user_status: 'active',
    session_version: 1,
    must_change_password: false,
    account_id: viewerAccount.id,
    account_name: viewerAccount.name,
    account_kind: viewerAccount.kind,
    account_path: viewerAccount.path,
    group_id: viewerGroup.id,
    group_name: viewerGroup.name,
    grants: world.viewerGrants,
    group_owner_path: viewerAccount.path,
    suspended_in_chain: false,
    mfa_enrolled: false,
    mfa_required: false,
  });
  if (!('actor' in result)) throw new Error('viewer must be admitted');
  return { viewer: result.actor, accounts, groups: [...groups, viewerGroup] };
}

const FORBIDDEN = 403 as const;

/** The rule, restated: strictly below for accounts; at or below for users and owned groups. */
function expected(
  viewer: TActor,
  accounts: TAccount[],
  groups: TGroup[],
  users: { id: string; path: string }[],
) {
  const has = (grant: TGrant) => viewer.grants.includes(grant);
  const below = (path: string) => path.startsWith(viewer.account.path);
  const sub = (kind: string) =>
    accounts
      .filter((a) => a.kind === kind && below(a.path) && a.id !== viewer.account.id)
      .map((a) => a.id);
  const assigns = has('users:create') || has('users:update');
  return {
    resellers: has('resellers:read') ? sub('reseller') : FORBIDDEN,
    customers: has('customers:read') ? sub('customer') : FORBIDDEN,
    users: has('users:read') ? users.filter((u) => below(u.path)).map((u) => u.id) : FORBIDDEN,
    groups:
      !has('groups:read') && !assigns
        ? FORBIDDEN
        : groups
            .filter(
              (g) =>
                (has('groups:read') && below(g.account.path)) ||
                (assigns &&
                  viewer.account.path.startsWith(g.account.path) &&
                  g.account.path !== viewer.account.path &&
                  g.grants.every((grant) => viewer.grants.includes(grant as TGrant))),
            )
            .map((g) => g.id),
  };
}

async function answered<T extends { id: string }>(
  call: () => Promise<{ items: T[] }>,
): Promise<string[] | 403> {
  try {
    return (await call()).items.map((item) => item.id);
  } catch (error) {
    // Services speak domain errors; the HTTP wrapper would answer this one with 403.
    if (error instanceof DomainError && error.kind === 'forbidden') return 403;
    throw error;
  }
}

describe('visibility property', () => {
  it(`lists equal the pure rule over ${RUNS} random trees, groups and viewers`, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(arbitraryWorld, async (world) => {
        runs++;
        const { viewer, accounts, groups } = await build(world);
        const em = database.orm.em.fork();
        const users = await em.execute<{ id: string; path: string }[]>(
          'select u.id, a.path from app_user u join account a on a.id = u.account_id',
        );
        const page = { limit: 500 };
        const sorted = (ids: string[] | 403) => (ids === 403 ? 403 : [...ids].sort());
        const got = {
          resellers: sorted(await answered(() => listSubAccounts(em, viewer, 'reseller', page))),
          customers: sorted(await answered(() => listSubAccounts(em, viewer, 'customer', page))),
          users: sorted(await answered(() => listUsers(em, viewer, page))),
          groups: sorted(await answered(() => listGroups(em, viewer, page))),
        };
        const want = expected(viewer, accounts, groups, users);
        expect(got).toEqual({
          resellers: sorted(want.resellers),
          customers: sorted(want.customers),
          users: sorted(want.users),
          groups: sorted(want.groups),
        });
      }),
      { numRuns: RUNS, seed: Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(runs).toBeGreaterThanOrEqual(RUNS);
  });
});
