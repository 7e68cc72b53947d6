import { beforeAll, describe, expect, it } from 'vitest';
import {
  Account,
  Group,
  User,
  type TAccount,
  type TGroup,
  type TUser,
} from '@/lib/server/entities';
import {
  ALL_GRANTS,
  DEFAULT_CUSTOMER_GRANTS,
  DEFAULT_RESELLER_GRANTS,
  type TGrant,
} from '@/lib/shared/permissions';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { addAccount, addGroup, addUser } from '../fixtures/accounts';
import { arrange } from '../fixtures/arrange';

/**
 * The access matrix for users, groups and audit: every endpoint × the eight kinds of
 * caller DESIGN names, and customer users (issue 19, customer self-care) × every target
 * (own and foreign), with the expected status from a rule written here, and the
 * database read back after every refused write.
 */
const PASSWORD = 'access-matrix-pass';
const ADMIN = { email: 'admin@c1.test', password: 'c1-admin-password' };

type TCaller = {
  name: string;
  auth: Record<string, string>;
  account: TAccount;
  grants: readonly string[];
  dead: boolean;
};
const callers: TCaller[] = [];
const accounts: Record<string, TAccount> = {};
const users: TUser[] = [];
const groups: TGroup[] = [];

const token = async (email: string, password = PASSWORD) =>
  (await requestToken(suite.server.url, email, password)).body.token as string;

const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
});

beforeAll(async () => {
  const em = suite.orm.em.fork();
  accounts.C1 = await em.findOneOrFail(Account, { kind: 'carrier' });
  accounts.C2 = (
    await createCarrier(em, { name: 'C2', adminEmail: 'admin@c2.test', adminPassword: PASSWORD })
  ).carrier;
  accounts.R1 = await addAccount(em, accounts.C1, 'reseller', 'R1');
  accounts.R1a = await addAccount(em, accounts.R1, 'reseller', 'R1a');
  accounts.R2 = await addAccount(em, accounts.C1, 'reseller', 'R2');
  accounts.K1 = await addAccount(em, accounts.R1, 'customer', 'K1');
  accounts.K2 = await addAccount(em, accounts.R1, 'customer', 'K2');
  const reseller = await addGroup(em, accounts.C1, 'Default Reseller', [
    ...DEFAULT_RESELLER_GRANTS,
  ]);
  const support = await addGroup(em, accounts.C1, 'Support', [
    'resellers:read',
    'customers:read',
    'users:read',
    'groups:read',
    'audit:read',
  ]);
  groups.push(
    reseller,
    support,
    await addGroup(em, accounts.R1, 'R1 staff', ['customers:read']),
    await addGroup(em, accounts.R2, 'R2 staff', ['customers:read']),
  );
  // The reseller's Default Customer group (use-only to its customers' people) and one
  // a customer owns.
  const customer = await addGroup(em, accounts.R1, 'Default Customer', [
    ...DEFAULT_CUSTOMER_GRANTS,
  ]);
  groups.push(customer, await addGroup(em, accounts.K1, 'K1 readers', ['cards:read']));
  groups.push(
    await em.findOneOrFail(
      Group,
      { account: accounts.C2, name: 'Carrier administrators' },
      { populate: ['account'] },
    ),
  );
  const people: [string, TAccount, TGroup][] = [
    ['support@c1.test', accounts.C1, support],
    ['admin@r1.test', accounts.R1, reseller],
    ['user@r1a.test', accounts.R1a, reseller],
    ['user@r2.test', accounts.R2, reseller],
    ['disabled@r1.test', accounts.R1, reseller],
    ['deleted@r1.test', accounts.R1, reseller],
    ['user@k1.test', accounts.K1, customer],
    ['user@k2.test', accounts.K2, customer],
  ];
  for (const [email, account, group] of people)
    users.push(await addUser(em, { account, group, email, password: PASSWORD }));
  users.push(
    await em.findOneOrFail(User, { email: ADMIN.email }),
    await em.findOneOrFail(User, { email: 'admin@c2.test' }),
  );
  await em.populate(users, ['account']);
  await em.populate(groups, ['account']);

  const bearer = async (email: string) => ({ authorization: `Bearer ${await token(email)}` });
  const adminToken = { authorization: `Bearer ${await token(ADMIN.email, ADMIN.password)}` };
  callers.push(
    {
      name: 'carrier admin',
      auth: adminToken,
      account: accounts.C1,
      grants: ALL_GRANTS,
      dead: false,
    },
    {
      name: 'carrier support',
      auth: await bearer('support@c1.test'),
      account: accounts.C1,
      grants: support.grants,
      dead: false,
    },
    {
      name: 'reseller admin',
      auth: await bearer('admin@r1.test'),
      account: accounts.R1,
      grants: reseller.grants,
      dead: false,
    },
    {
      name: 'sub-reseller user',
      auth: await bearer('user@r1a.test'),
      account: accounts.R1a,
      grants: reseller.grants,
      dead: false,
    },
    {
      name: "other carrier's admin",
      auth: await bearer('admin@c2.test'),
      account: accounts.C2,
      grants: ALL_GRANTS,
      dead: false,
    },
    {
      name: 'user of another reseller',
      auth: await bearer('user@r2.test'),
      account: accounts.R2,
      grants: reseller.grants,
      dead: false,
    },
    {
      name: 'customer user',
      auth: await bearer('user@k1.test'),
      account: accounts.K1,
      grants: customer.grants,
      dead: false,
    },
    {
      name: "sibling customer's user",
      auth: await bearer('user@k2.test'),
      account: accounts.K2,
      grants: customer.grants,
      dead: false,
    },
    {
      name: 'disabled user',
      auth: await bearer('disabled@r1.test'),
      account: accounts.R1,
      grants: reseller.grants,
      dead: true,
    },
    {
      name: 'token of a deleted user',
      auth: await bearer('deleted@r1.test'),
      account: accounts.R1,
      grants: reseller.grants,
      dead: true,
    },
  );
  await arrange(em, async () => {
    await em.nativeUpdate(User, { email: 'disabled@r1.test' }, { status: 'disabled' });
    await em.nativeDelete(User, { email: 'deleted@r1.test' });
  });
  users.splice(
    users.findIndex((u) => u.email === 'deleted@r1.test'),
    1,
  );
});

async function call(caller: TCaller, method: string, path: string, body?: unknown) {
  const response = await fetch(`${suite.server.url}/api/v1${path}`, {
    method,
    headers: { ...caller.auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
}

const within = (caller: TCaller, path: string) => path.startsWith(caller.account.path);
const has = (caller: TCaller, grant: string) => caller.grants.includes(grant as TGrant);
/** The expected status: dead callers 401; a missing grant 403; outside scope 404. */
function expect3(caller: TCaller, grant: string, visible: boolean, okStatus = 200): number {
  if (caller.dead) return 401;
  if (!has(caller, grant)) return 403;
  return visible ? okStatus : 404;
}

describe('access matrix: users', () => {
  it('GET, PATCH and DELETE /users/{id} for every caller × user', async () => {
    let cells = 0;
    for (const caller of callers) {
      for (const target of users) {
        const visible = within(caller, target.account.path);
        const read = await call(caller, 'GET', `/users/${target.id}`);
        expect([caller.name, target.email, 'GET', read.status]).toEqual([
          caller.name,
          target.email,
          'GET',
          expect3(caller, 'users:read', visible),
        ]);

        const before = (await suite.orm.em.fork().findOneOrFail(User, { id: target.id }))!;
        const patch = await call(caller, 'PATCH', `/users/${target.id}`, {
          version: before.version,
          name: `${before.name}!`,
        });
        const expectedPatch = expect3(caller, 'users:update', visible);
        expect([caller.name, target.email, 'PATCH', patch.status]).toEqual([
          caller.name,
          target.email,
          'PATCH',
          expectedPatch,
        ]);
        const after = await suite.orm.em.fork().findOneOrFail(User, { id: target.id });
        if (expectedPatch !== 200)
          expect([target.email, after.name, after.version]).toEqual([
            target.email,
            before.name,
            before.version,
          ]);

        if (!visible || !has(caller, 'users:delete') || caller.dead) {
          const del = await call(caller, 'DELETE', `/users/${target.id}`);
          expect([caller.name, target.email, 'DELETE', del.status]).toEqual([
            caller.name,
            target.email,
            'DELETE',
            expect3(caller, 'users:delete', false),
          ]);
          expect(await suite.orm.em.fork().count(User, { id: target.id })).toBe(1);
        }
        cells += 3;
      }
    }
    expect(cells).toBeGreaterThanOrEqual(8 * 7 * 2);
  });

  it('lists exactly the users in scope', async () => {
    const all = await suite.orm.em.fork().find(User, {}, { populate: ['account'] });
    for (const caller of callers) {
      const list = await call(caller, 'GET', '/users?limit=500');
      if (caller.dead || !has(caller, 'users:read')) {
        expect([caller.name, list.status]).toEqual([caller.name, caller.dead ? 401 : 403]);
        continue;
      }
      const want = all
        .filter((u) => within(caller, u.account.path))
        .map((u) => u.id)
        .sort();
      expect([caller.name, list.body.items.map((u: { id: string }) => u.id).sort()]).toEqual([
        caller.name,
        want,
      ]);
    }
  });
});

describe('access matrix: creating users', () => {
  it('POST /users into a reseller and its customers, with the Default Customer group', async () => {
    const group = groups.find((g) => g.name === 'Default Customer')!;
    let n = 0;
    for (const caller of callers) {
      for (const key of ['R1', 'K1', 'K2']) {
        const account = accounts[key]!;
        const email = `made${++n}@matrix.test`;
        const made = await call(caller, 'POST', '/users', {
          email,
          password: PASSWORD,
          accountId: account.id,
          groupId: group.id,
        });
        // Account first (outside: 404), then the group's grants (more: 403 escalation).
        let expected = expect3(caller, 'users:create', within(caller, account.path), 201);
        if (expected === 201 && !group.grants.every((g) => has(caller, g))) expected = 403;
        expect([caller.name, key, made.status]).toEqual([caller.name, key, expected]);
        const stored = await suite.orm.em.fork().count(User, { email });
        expect([caller.name, key, stored]).toEqual([caller.name, key, expected === 201 ? 1 : 0]);
      }
    }
  });
});

describe('access matrix: groups', () => {
  it('GET and PATCH /groups/{id} for every caller × group', async () => {
    for (const caller of callers) {
      for (const group of groups) {
        const owned = within(caller, group.account.path);
        const subset = group.grants.every((g) => caller.grants.includes(g as TGrant));
        const useOnly =
          !owned &&
          caller.account.path.startsWith(group.account.path) &&
          (has(caller, 'users:create') || has(caller, 'users:update')) &&
          subset;
        const read = await call(caller, 'GET', `/groups/${group.id}`);
        const expectedRead = caller.dead
          ? 401
          : (owned && has(caller, 'groups:read')) || useOnly
            ? 200
            : 404;
        expect([caller.name, group.name, 'GET', read.status]).toEqual([
          caller.name,
          group.name,
          'GET',
          expectedRead,
        ]);
        if (read.status === 200) expect(read.body.useOnly).toBe(!owned);

        const before = await suite.orm.em.fork().findOneOrFail(Group, { id: group.id });
        const patch = await call(caller, 'PATCH', `/groups/${group.id}`, {
          version: before.version,
          name: `${before.name}+`,
        });
        let expectedPatch: number;
        if (caller.dead) expectedPatch = 401;
        else if (!has(caller, 'groups:update')) expectedPatch = 403;
        else if (owned && has(caller, 'groups:read')) expectedPatch = subset ? 200 : 403;
        else expectedPatch = useOnly ? 403 : 404;
        expect([caller.name, group.name, 'PATCH', patch.status]).toEqual([
          caller.name,
          group.name,
          'PATCH',
          expectedPatch,
        ]);
        const after = await suite.orm.em.fork().findOneOrFail(Group, { id: group.id });
        if (expectedPatch !== 200)
          expect([after.name, after.version]).toEqual([before.name, before.version]);
      }
    }
  });
});

describe('access matrix: audit and me', () => {
  it('shows each account’s history only inside scope', async () => {
    // One change per reseller account, made by the carrier admin.
    const admin = callers[0]!;
    for (const key of ['R1', 'R1a', 'R2', 'K1']) {
      const account = await suite.orm.em.fork().findOneOrFail(Account, { id: accounts[key]!.id });
      expect(
        (
          await call(admin, 'PATCH', `/${account.kind}s/${account.id}`, {
            version: account.version,
            name: `${key} renamed`,
          })
        ).status,
      ).toBe(200);
    }
    for (const caller of callers) {
      for (const key of ['R1', 'R1a', 'R2', 'K1']) {
        const target = accounts[key]!;
        const audit = await call(caller, 'GET', `/audit?entityId=${target.id}`);
        const visible = within(caller, target.path) && target.id !== caller.account.id;
        if (caller.dead || !has(caller, 'audit:read')) {
          expect([caller.name, key, audit.status]).toEqual([
            caller.name,
            key,
            caller.dead ? 401 : 403,
          ]);
        } else {
          expect([caller.name, key, audit.body.items.length > 0]).toEqual([
            caller.name,
            key,
            visible,
          ]);
        }
      }
      const me = await call(caller, 'GET', '/me');
      expect([caller.name, me.status]).toEqual([caller.name, caller.dead ? 401 : 200]);
    }
  });
});
