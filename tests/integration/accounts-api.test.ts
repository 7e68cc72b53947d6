import { beforeAll, describe, expect, it } from 'vitest';
import { Account, Group, User, type TAccount } from '@/lib/server/entities';
import { ALL_GRANTS, DEFAULT_RESELLER_GRANTS, type TGrant } from '@/lib/shared/permissions';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { addAccount, addGroup, addUser } from '../fixtures/accounts';
import { arrange } from '../fixtures/arrange';

/**
 * Resellers and customers over the real API: the access matrix (every actor × every
 * account × read/update/delete, with the database checked after each refusal), lists
 * against the pure visibility rule, validation, versions, parents, dependants, audit.
 */
const PASSWORD = 'matrix-password-1';
const ADMIN = { email: 'admin@c1.test', password: 'carrier-one-admin' };

const world = {} as Record<
  'C1' | 'C2' | 'R1' | 'R1a' | 'R2' | 'R3' | 'K0' | 'K1' | 'K1a' | 'K2' | 'K3',
  TAccount
>;
const actors = {} as Record<
  'carrierAdmin' | 'support' | 'r1Admin' | 'r1aUser' | 'r2User' | 'c2Admin',
  { client: TApiClient; account: TAccount; grants: readonly string[] }
>;

const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  RESELLER_DEPTH_LIMIT: '2',
});

beforeAll(async () => {
  const em = suite.orm.em.fork();
  world.C1 = await em.findOneOrFail(Account, { kind: 'carrier' });
  const other = await createCarrier(em, {
    name: 'Carrier Two',
    adminEmail: 'admin@c2.test',
    adminPassword: PASSWORD,
  });
  world.C2 = other.carrier;
  world.R1 = await addAccount(em, world.C1, 'reseller', 'Reseller One');
  world.R1a = await addAccount(em, world.R1, 'reseller', 'Reseller One A');
  world.R2 = await addAccount(em, world.C1, 'reseller', 'Reseller Two');
  world.R3 = await addAccount(em, world.C2, 'reseller', 'Reseller Three');
  world.K0 = await addAccount(em, world.C1, 'customer', 'Direct Customer');
  world.K1 = await addAccount(em, world.R1, 'customer', 'Customer One');
  world.K1a = await addAccount(em, world.R1a, 'customer', 'Customer One A');
  world.K2 = await addAccount(em, world.R2, 'customer', 'Customer Two');
  world.K3 = await addAccount(em, world.C2, 'customer', 'Customer Three');

  const resellerGroup = await addGroup(em, world.C1, 'Default Reseller', [
    ...DEFAULT_RESELLER_GRANTS,
  ]);
  const supportGrants: TGrant[] = ['resellers:read', 'customers:read', 'users:read', 'audit:read'];
  const supportGroup = await addGroup(em, world.C1, 'Support', supportGrants);
  const people = [
    ['support', world.C1, supportGroup, 'support@c1.test'],
    ['r1Admin', world.R1, resellerGroup, 'admin@r1.test'],
    ['r1aUser', world.R1a, resellerGroup, 'user@r1a.test'],
    ['r2User', world.R2, resellerGroup, 'user@r2.test'],
  ] as const;
  for (const [, account, group, email] of people)
    await addUser(em, { account, group, email, password: PASSWORD });

  actors.carrierAdmin = {
    client: await apiClient(suite.server.url, ADMIN.email, ADMIN.password),
    account: world.C1,
    grants: ALL_GRANTS,
  };
  actors.c2Admin = {
    client: await apiClient(suite.server.url, 'admin@c2.test', PASSWORD),
    account: world.C2,
    grants: ALL_GRANTS,
  };
  for (const [name, account, group, email] of people) {
    actors[name] = {
      client: await apiClient(suite.server.url, email, PASSWORD),
      account,
      grants: group.grants,
    };
  }
});

/** The pure rule the API must agree with: strictly inside the viewer's subtree. */
function canSee(viewer: TAccount, target: TAccount): boolean {
  return target.path.startsWith(viewer.path) && target.id !== viewer.id;
}
const kindPath = (account: TAccount) => (account.kind === 'customer' ? 'customers' : 'resellers');
const targets = () =>
  (['R1', 'R1a', 'R2', 'R3', 'K0', 'K1', 'K1a', 'K2', 'K3'] as const).map((key) => world[key]);

async function dbRow(id: string) {
  return suite.orm.em.fork().findOne(Account, { id });
}

describe('access matrix: every actor × every account', () => {
  it('GET one answers 200 inside the subtree and 404 outside (403 only for a missing grant)', async () => {
    let checked = 0;
    for (const [name, actor] of Object.entries(actors)) {
      for (const target of targets()) {
        const response = await actor.client.get(`/${kindPath(target)}/${target.id}`);
        const expected = canSee(actor.account, target) ? 200 : 404;
        expect([name, target.name, response.status]).toEqual([name, target.name, expected]);
        if (expected === 200)
          expect(response.body).toMatchObject({ id: target.id, name: target.name });
        else
          expect(response.body).toEqual({
            error: { code: 'not_found', message: expect.any(String) },
          });
        checked++;
      }
    }
    expect(checked).toBe(54);
  });

  it('lists return exactly what the rule allows', async () => {
    const all = await suite.orm.em
      .fork()
      .find(Account, { kind: { $in: ['reseller', 'customer'] } });
    for (const [name, actor] of Object.entries(actors)) {
      for (const kind of ['reseller', 'customer'] as const) {
        const response = await actor.client.get(`/${kind}s?limit=500`);
        expect(response.status).toBe(200);
        const expected = all
          .filter((a) => a.kind === kind && canSee(actor.account, a))
          .map((a) => a.id)
          .sort();
        const got = (response.body.items as { id: string }[]).map((item) => item.id).sort();
        expect([name, kind, got]).toEqual([name, kind, expected]);
        expect(response.body.nextCursor).toBeNull();
      }
    }
  });

  it('a list asked for named ids answers those of its kind in scope, and nothing else', async () => {
    // Every account of both carriers named at once (and one that does not exist): each
    // viewer gets back exactly what its plain list would hold of them.
    const named = [...targets().map((account) => account.id), crypto.randomUUID()];
    for (const [name, actor] of Object.entries(actors)) {
      for (const kind of ['reseller', 'customer'] as const) {
        const response = await actor.client.get(`/${kind}s?ids=${named.join(',')}`);
        expect(response.status).toBe(200);
        const expected = targets()
          .filter((a) => a.kind === kind && canSee(actor.account, a))
          .map((a) => a.id)
          .sort();
        const got = (response.body.items as { id: string }[]).map((item) => item.id).sort();
        expect([name, kind, got]).toEqual([name, kind, expected]);
        expect(response.body.total).toBe(expected.length);
      }
    }
    const one = await actors.carrierAdmin.client.get(`/resellers?ids=${world.R1.id}`);
    expect(one.body.items).toEqual([
      expect.objectContaining({ id: world.R1.id, name: 'Reseller One' }),
    ]);
    // The export takes the list's filters, this one too.
    const exported = await actors.carrierAdmin.client.raw(
      'GET',
      `/resellers/export?ids=${world.R1.id},${world.R3.id}`,
    );
    expect(exported.status).toBe(200);
    const lines = exported.text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('Reseller One');
    // Bad lists are named, never half-read.
    const admin = actors.carrierAdmin.client;
    for (const [ids, message] of [
      [`${world.R1.id},nope`, 'must be an id'],
      ['', 'names at least one account'],
      [Array.from({ length: 101 }, () => world.R1.id).join(','), 'names at most 100 accounts'],
    ] as const) {
      const refused = await admin.get(`/resellers?ids=${ids}`);
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body.error.fields)).toContain(message);
      expect(Object.keys(refused.body.error.fields)[0]).toMatch(/^ids/);
    }
  });

  it('PATCH changes only what is in scope; every refusal leaves the row untouched', async () => {
    for (const [name, actor] of Object.entries(actors)) {
      for (const target of targets()) {
        const before = (await dbRow(target.id))!;
        const response = await actor.client.patch(`/${kindPath(target)}/${target.id}`, {
          version: before.version,
          name: `${before.name} (edited by ${name})`,
        });
        const grant = `${kindPath(target)}:update`;
        // A missing grant is 403 for any id: it says nothing about the entity.
        const expected = !actor.grants.includes(grant)
          ? 403
          : canSee(actor.account, target)
            ? 200
            : 404;
        expect([name, target.name, response.status]).toEqual([name, target.name, expected]);
        const after = (await dbRow(target.id))!;
        if (expected === 200) {
          expect(after.version).toBe(before.version + 1);
          expect(response.body).toMatchObject({
            id: target.id,
            version: after.version,
            name: after.name,
          });
        } else {
          expect({ name: after.name, version: after.version }).toEqual({
            name: before.name,
            version: before.version,
          });
        }
      }
    }
  });

  it('DELETE of an account outside scope is 404 (403 without the grant) and deletes nothing', async () => {
    for (const [name, actor] of Object.entries(actors)) {
      for (const target of targets().filter((t) => !canSee(actor.account, t))) {
        const response = await actor.client.del(`/${kindPath(target)}/${target.id}`);
        const expected = actor.grants.includes(`${kindPath(target)}:delete`) ? 404 : 403;
        expect([name, target.name, response.status]).toEqual([name, target.name, expected]);
        expect(await dbRow(target.id)).not.toBeNull();
      }
    }
  });

  it('creating under a parent outside scope is 404 and writes nothing', async () => {
    const count = await suite.orm.em.fork().count(Account, {});
    for (const [name, actor] of Object.entries(actors)) {
      for (const parent of [world.C2, world.R2, world.R3, world.K1].filter(
        (p) => !canSee(actor.account, p) && p.id !== actor.account.id,
      )) {
        const response = await actor.client.post('/resellers', {
          name: 'Sneaky',
          email: 'sneaky@x.test',
          parentId: parent.id,
        });
        const expected = actor.grants.includes('resellers:create') ? 404 : 403;
        expect([name, parent.name, response.status]).toEqual([name, parent.name, expected]);
      }
    }
    expect(await suite.orm.em.fork().count(Account, {})).toBe(count);
  });
});

describe('creating, validating and editing', () => {
  it('creates a reseller under the caller by default, 201 with the bare entity', async () => {
    const response = await actors.r1Admin.client.post('/resellers', {
      name: 'Acme Sub',
      email: 'Ops@AcmeSub.test',
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.any(String),
      name: 'Acme Sub',
      email: 'ops@acmesub.test',
      parentId: world.R1.id,
      parentName: expect.stringContaining('Reseller One'),
      status: 'active',
      creditBlock: null,
      depth: 2,
      currency: 'EUR',
      creditLimit: null,
      balance: '0.000000',
      warningThreshold: null,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const row = (await dbRow(response.body.id))!;
    expect(row.path).toBe(`${world.R1.path}${row.id}/`);
  });

  it('refuses resellers deeper than the configured limit', async () => {
    const response = await actors.r1aUser.client.post('/resellers', {
      name: 'Too Deep',
      email: 'deep@x.test',
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'invalid_input',
      fields: { parentId: expect.any(String) },
    });
  });

  it('refuses a customer named as a parent with 400 naming parentId, not as unknown', async () => {
    // The caller reads that customer: "no such parent" would be untrue.
    expect((await actors.carrierAdmin.client.get(`/customers/${world.K1.id}`)).status).toBe(200);
    for (const path of ['/customers', '/resellers']) {
      const response = await actors.carrierAdmin.client.post(path, {
        name: 'Under a customer',
        email: 'under@x.test',
        parentId: world.K1.id,
      });
      expect([path, response.status]).toEqual([path, 400]);
      expect(response.body.error.fields).toEqual({
        parentId: 'is a customer: a customer cannot have sub-accounts',
      });
    }
  });

  it('names every bad field, and never half-writes', async () => {
    const count = await suite.orm.em.fork().count(Account, {});
    const response = await actors.carrierAdmin.client.post('/customers', {
      name: '',
      creditLimit: 12.5,
      // Three capitals, but no currency: fixed for life, it could never be billed.
      currency: 'ABC',
      extra: 1,
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_input');
    expect(response.body.error.fields).toEqual({
      name: 'is required',
      creditLimit: expect.stringContaining('decimal string'),
      currency: 'is not an ISO 4217 currency code',
      extra: 'is not a known field',
    });
    expect(response.body.error.message).toMatch(/name/);
    const notJson = await actors.carrierAdmin.client.post('/customers', '{not json');
    expect(notJson).toMatchObject({
      status: 400,
      body: { error: { fields: { body: 'must be a JSON object' } } },
    });
    expect(await suite.orm.em.fork().count(Account, {})).toBe(count);
  });

  it('keeps money exact as decimal strings', async () => {
    const created = await actors.carrierAdmin.client.post('/customers', {
      name: 'Exact Ltd',
      creditLimit: '1234.567891',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      creditLimit: '1234.567891',
      balance: '0.000000',
      parentId: world.C1.id,
    });
  });

  it('answers a stale version with 409 and the current entity', async () => {
    const current = (await actors.carrierAdmin.client.get(`/customers/${world.K0.id}`)).body;
    const ok = await actors.carrierAdmin.client.patch(`/customers/${world.K0.id}`, {
      version: current.version,
      creditLimit: '10',
    });
    expect(ok.status).toBe(200);
    const stale = await actors.carrierAdmin.client.patch(`/customers/${world.K0.id}`, {
      version: current.version,
      creditLimit: '20',
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({
      code: 'conflict',
      current: { id: world.K0.id, version: current.version + 1, creditLimit: '10.000000' },
    });
  });

  it("refuses a plain change of a customer's or reseller's parent with 409", async () => {
    const customer = (await actors.carrierAdmin.client.get(`/customers/${world.K1.id}`)).body;
    const move = await actors.carrierAdmin.client.patch(`/customers/${world.K1.id}`, {
      version: customer.version,
      parentId: world.R2.id,
    });
    expect(move.status).toBe(409);
    expect(move.body.error.code).toBe('transfer_required');
    expect(move.body.error.message).toContain('/transfer');
    const reseller = (await actors.carrierAdmin.client.get(`/resellers/${world.R1a.id}`)).body;
    const reparent = await actors.carrierAdmin.client.patch(`/resellers/${world.R1a.id}`, {
      version: reseller.version,
      parentId: world.R2.id,
    });
    expect(reparent).toMatchObject({ status: 409, body: { error: { code: 'parent_immutable' } } });
    expect((await dbRow(world.K1.id))!.path).toBe(world.K1.path);
  });

  it('shows customers of a suspended reseller as suspended', async () => {
    const reseller = (await actors.carrierAdmin.client.get(`/resellers/${world.R2.id}`)).body;
    const suspended = await actors.carrierAdmin.client.patch(`/resellers/${world.R2.id}`, {
      version: reseller.version,
      status: 'suspended',
    });
    expect(suspended.body.status).toBe('suspended');
    expect((await actors.carrierAdmin.client.get(`/customers/${world.K2.id}`)).body.status).toBe(
      'suspended',
    );
    // And its users are out at once.
    expect((await actors.r2User.client.get('/me')).status).toBe(401);
  });

  it('lifts a suspension only from the account that set it or one above', async () => {
    const carrier = actors.carrierAdmin.client;
    const r1 = actors.r1Admin.client;
    const patch = async (client: typeof carrier, status: 'active' | 'suspended') => {
      const { version } = (await carrier.get(`/customers/${world.K1.id}`)).body;
      return client.patch(`/customers/${world.K1.id}`, { version, status });
    };
    // The carrier suspends R1's customer: R1 may edit it, but not resume it, one by one
    // or in bulk.
    expect((await patch(carrier, 'suspended')).status).toBe(200);
    const resumed = await patch(r1, 'active');
    expect([resumed.status, resumed.body.error?.code]).toEqual([403, 'suspended_above']);
    const bulk = await r1.post('/customers/bulk', { ids: [world.K1.id], status: 'active' });
    expect([bulk.status, bulk.body.error?.code]).toEqual([403, 'suspended_above']);
    expect((await carrier.get(`/customers/${world.K1.id}`)).body.status).toBe('suspended');
    expect((await patch(carrier, 'active')).status).toBe(200);
    // R1's own suspension: R1 lifts it, and so may the carrier above it.
    expect((await patch(r1, 'suspended')).status).toBe(200);
    expect((await patch(r1, 'active')).status).toBe(200);
    expect((await patch(r1, 'suspended')).status).toBe(200);
    expect((await patch(carrier, 'active')).status).toBe(200);
    // Suspended by R1, then again by the carrier (one by one, or in bulk): the carrier's.
    for (const again of [
      () => patch(carrier, 'suspended'),
      () => carrier.post('/customers/bulk', { ids: [world.K1.id], status: 'suspended' }),
    ]) {
      expect((await patch(r1, 'suspended')).status).toBe(200);
      expect((await again()).status).toBe(200);
      const lifted = await patch(r1, 'active');
      expect([lifted.status, lifted.body.error?.code]).toEqual([403, 'suspended_above']);
      expect((await patch(carrier, 'active')).status).toBe(200);
    }
  });

  it('refuses to delete an account with dependants (409 listing them), deletes a leaf', async () => {
    const blocked = await actors.carrierAdmin.client.del(`/resellers/${world.R1.id}`);
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe('has_dependants');
    expect(blocked.body.error.dependants).toEqual(
      expect.arrayContaining([
        { resource: 'customers', id: world.K1.id, name: expect.any(String) },
      ]),
    );
    const leaf = await actors.carrierAdmin.client.post('/customers', { name: 'Short Lived' });
    expect((await actors.carrierAdmin.client.del(`/customers/${leaf.body.id}`)).status).toBe(204);
    expect(await dbRow(leaf.body.id)).toBeNull();
  });
});

describe('audit within scope', () => {
  it('records who did what, and names people only to those who may read them', async () => {
    const created = await actors.carrierAdmin.client.post('/customers', {
      name: 'Audited Co',
      parentId: world.R1.id,
    });
    const carrierView = await actors.carrierAdmin.client.get(`/audit?entityId=${created.body.id}`);
    expect(carrierView.body.items).toEqual([
      expect.objectContaining({
        resource: 'customers',
        op: 'created',
        entityId: created.body.id,
        version: 1,
        actor: {
          kind: 'user',
          id: expect.any(String),
          name: expect.any(String),
          email: ADMIN.email,
        },
        after: expect.objectContaining({ name: 'Audited Co' }),
        before: null,
      }),
    ]);
    const resellerView = await actors.r1Admin.client.get(`/audit?entityId=${created.body.id}`);
    expect(resellerView.body.items).toHaveLength(1);
    expect(resellerView.body.items[0].actor).toEqual({ kind: 'account', name: world.C1.name });
    // Another reseller and another tenant see nothing of it.
    expect((await actors.r2User.client.get(`/audit?entityId=${created.body.id}`)).status).toBe(401); // suspended above
    expect(
      (await actors.c2Admin.client.get(`/audit?entityId=${created.body.id}`)).body.items,
    ).toEqual([]);
  });

  it('pages newest first by seq', async () => {
    const first = await actors.carrierAdmin.client.get('/audit?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0].seq).toBeGreaterThan(first.body.items[1].seq);
    const second = await actors.carrierAdmin.client.get(
      `/audit?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items[0].seq).toBeLessThan(first.body.items[1].seq);
  });

  it('keeps the log append-only', async () => {
    await expect(suite.orm.em.fork().execute('delete from change_log')).rejects.toThrow(
      /append-only/,
    );
    await expect(
      suite.orm.em.fork().execute(`update change_log set op = 'deleted'`),
    ).rejects.toThrow(/append-only/);
  });
});

describe('me', () => {
  it('answers who the caller is', async () => {
    const me = await actors.r1aUser.client.get('/me');
    expect(me).toEqual({
      status: 200,
      body: {
        user: {
          id: expect.any(String),
          email: 'user@r1a.test',
          name: 'user',
          mustChangePassword: false,
        },
        account: {
          id: world.R1a.id,
          name: expect.stringContaining('Reseller One A'),
          kind: 'reseller',
          status: 'active',
        },
        group: { id: expect.any(String), name: 'Default Reseller' },
        grants: [...DEFAULT_RESELLER_GRANTS],
        impersonation: null,
        mfa: { enrolled: false, required: false },
      },
    });
  });

  it('answers 401 without a session', async () => {
    const response = await fetch(`${suite.server.url}/api/v1/me`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: 'unauthenticated', message: expect.any(String) },
    });
  });

  it('is refused at once for a user disabled after signing in', async () => {
    const em = suite.orm.em.fork();
    const group = await em.findOneOrFail(Group, { name: 'Default Reseller' });
    await addUser(em, { account: world.R1, group, email: 'soon-off@r1.test', password: PASSWORD });
    const client = await apiClient(suite.server.url, 'soon-off@r1.test', PASSWORD);
    expect((await client.get('/me')).status).toBe(200);
    await arrange(em, () =>
      em.nativeUpdate(User, { email: 'soon-off@r1.test' }, { status: 'disabled' }),
    );
    expect((await client.get('/me')).status).toBe(401);
    expect((await client.get(`/customers/${world.K1.id}`)).status).toBe(401);
  });
});
