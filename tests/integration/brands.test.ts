import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { brandForHost, effectiveBrand } from '@/lib/server/services/brands/brands';
import { directQuery } from '@/lib/server/db/direct-query';
import { DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { resolveActor } from '@/lib/server/authz/actor';
import { catchUp } from '@/lib/server/services/events/catch-up';
import { getRuntime } from '@/lib/server/runtime';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { connectLiveClient, until, type TLiveClient } from '../fixtures/live-client';

/**
 * Brands (issue 19, first slice) over the real API and PostgreSQL: who may read and set
 * an account's brand, the contrast rule, hostnames unique across the installation (two
 * carriers), the audit, and the resolution the portal slices build on (nearest brand at
 * or above an account; the brand owning a hostname).
 */
const ADMIN = { email: 'admin@brands.test', password: 'brands-admin-pass' };
const PASSWORD = 'brands-user-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
let noBrand: TApiClient;
let second: TApiClient;
const ids = {} as Record<'C' | 'C2' | 'R1' | 'R1a' | 'K' | 'R2' | 'K2', string>;
const paths = {} as Record<'K' | 'K2', string>;

const brand = (extra: Record<string, unknown> = {}) => ({
  displayName: 'Nimbus Voice',
  primaryColor: '#1D4ED8',
  accentColor: '#0369a1',
  supportEmail: 'Help@Nimbus.example',
  supportUrl: 'https://help.nimbus.example/',
  hostnames: ['portal.nimbus.example'],
  ...extra,
});

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  const without = await admin.post('/groups', {
    name: 'Resellers without brands',
    grants: DEFAULT_RESELLER_GRANTS.filter((grant) => !grant.startsWith('brand:')),
  });
  expect(without.status).toBe(201);
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@b.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@b.test' })).body.id;
  ids.R1a = (
    await admin.post('/resellers', { name: 'R1a', email: 'r1a@b.test', parentId: ids.R1 })
  ).body.id;
  ids.K = (await admin.post('/customers', { name: 'K', parentId: ids.R1a })).body.id;
  ids.K2 = (await admin.post('/customers', { name: 'K2', parentId: ids.R2 })).body.id;
  paths.K = `${ids.C}/${ids.R1}/${ids.R1a}/${ids.K}/`;
  paths.K2 = `${ids.C}/${ids.R2}/${ids.K2}/`;
  for (const [email, accountId, groupId] of [
    ['ops@r1.b.test', ids.R1, group.id],
    ['ops@r2.b.test', ids.R2, group.id],
    ['plain@r1.b.test', ids.R1, without.body.id],
  ] as const) {
    const made = await admin.post('/users', { email, password: PASSWORD, accountId, groupId });
    expect(made.status).toBe(201);
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.b.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.b.test', PASSWORD);
  noBrand = await apiClient(suite.server.url, 'plain@r1.b.test', PASSWORD);

  const { carrier } = await createCarrier(suite.orm.em.fork(), {
    name: 'Second Carrier',
    adminEmail: 'ops@second.b.test',
    adminPassword: 'second-carrier-pass',
  });
  ids.C2 = carrier.id;
  second = await apiClient(suite.server.url, 'ops@second.b.test', 'second-carrier-pass');
});

describe('an account’s own brand', () => {
  it('a reseller reads and sets its own; PUT is versioned', async () => {
    const empty = await r1.get(`/accounts/${ids.R1}/brand`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({
      brand: null,
      effective: expect.objectContaining({ source: 'default', displayName: 'Reseller Panel' }),
    });

    const made = await r1.put(`/accounts/${ids.R1}/brand`, brand());
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      accountId: ids.R1,
      displayName: 'Nimbus Voice',
      primaryColor: '#1d4ed8',
      supportEmail: 'help@nimbus.example',
      hostnames: ['portal.nimbus.example'],
      version: 1,
    });
    const read = (await r1.get(`/accounts/${ids.R1}/brand`)).body;
    expect(read.brand).toEqual(made.body);
    expect(read.effective).toMatchObject({ source: 'own', accountId: ids.R1 });

    // A first brand's PUT again (no version) is stale now: someone set one.
    const stale = await r1.put(`/accounts/${ids.R1}/brand`, brand({ displayName: 'Other' }));
    expect(stale.status).toBe(409);
    expect(stale.body.error.current).toMatchObject({ version: 1 });
    const updated = await r1.put(
      `/accounts/${ids.R1}/brand`,
      brand({ version: 1, hostnames: ['portal.nimbus.example', 'Calls.Nimbus.example'] }),
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      version: 2,
      hostnames: ['calls.nimbus.example', 'portal.nimbus.example'],
    });
    // The same brand again writes nothing.
    const same = await r1.put(
      `/accounts/${ids.R1}/brand`,
      brand({ version: 2, hostnames: ['calls.nimbus.example', 'portal.nimbus.example'] }),
    );
    expect(same.body.version).toBe(2);
  });

  it('the parent side reads and sets its children’s', async () => {
    const set = await r1.put(
      `/accounts/${ids.K}/brand`,
      brand({ displayName: 'K self-care', hostnames: [] }),
    );
    expect(set.status).toBe(201);
    expect((await admin.get(`/accounts/${ids.K}/brand`)).body.brand).toMatchObject({
      displayName: 'K self-care',
    });
    expect((await r1.del(`/accounts/${ids.K}/brand`)).status).toBe(204);
    expect((await r1.get(`/accounts/${ids.K}/brand`)).body.brand).toBeNull();
    expect((await r1.del(`/accounts/${ids.K}/brand`)).status).toBe(404);
  });

  it('is 404 to a sibling and to a child, reading or writing', async () => {
    for (const [client, id] of [
      [r2, ids.R1],
      [r2, ids.K],
      [r1, ids.R2],
      [r1, ids.C],
      [second, ids.R1],
    ] as const) {
      expect((await client.get(`/accounts/${id}/brand`)).status).toBe(404);
      expect((await client.put(`/accounts/${id}/brand`, brand({ hostnames: [] }))).status).toBe(
        404,
      );
      expect((await client.del(`/accounts/${id}/brand`)).status).toBe(404);
    }
    // Nothing was written by those attempts.
    expect((await admin.get(`/accounts/${ids.R2}/brand`)).body.brand).toBeNull();
  });

  it('is 403 without the grants (a group that does not list them)', async () => {
    const read = await noBrand.get(`/accounts/${ids.R1}/brand`);
    expect(read.status).toBe(403);
    expect(read.body.error.message).toContain('brand:read');
    const write = await noBrand.put(`/accounts/${ids.R1}/brand`, brand({ hostnames: [] }));
    expect(write.status).toBe(403);
    expect(write.body.error.message).toContain('brand:update');
    expect((await noBrand.del(`/accounts/${ids.R1}/brand`)).status).toBe(403);
  });
});

describe('the colours', () => {
  it('refuses a primary colour white text cannot be read on, naming the field and ratio', async () => {
    const bad = await r2.put(`/accounts/${ids.R2}/brand`, brand({ primaryColor: '#777777' }));
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields)).toEqual(['primaryColor']);
    expect(bad.body.error.fields.primaryColor).toMatch(/4\.5:1.*#777777 has 4\.47:1/);
  });

  it('refuses an accent below 3:1 on white, and names both when both fail', async () => {
    const bad = await r2.put(
      `/accounts/${ids.R2}/brand`,
      brand({ primaryColor: '#ff0000', accentColor: '#959595' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.primaryColor).toContain('3.99:1');
    expect(bad.body.error.fields.accentColor).toMatch(/3:1.*#959595 has 2\.99:1/);
    // Just at the limits passes: #767676 (4.54) and #949494 (3.03).
    const ok = await r2.put(
      `/accounts/${ids.R2}/brand`,
      brand({ primaryColor: '#767676', accentColor: '#949494', hostnames: [] }),
    );
    expect(ok.status).toBe(201);
    expect((await r2.del(`/accounts/${ids.R2}/brand`)).status).toBe(204);
  });

  it('refuses what is not #rrggbb, an http URL and a bad name', async () => {
    const bad = await r2.put(
      `/accounts/${ids.R2}/brand`,
      brand({ accentColor: 'blue', supportUrl: 'http://help.example', displayName: '' }),
    );
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual([
      'accentColor',
      'displayName',
      'supportUrl',
    ]);
    // What the URL parser takes but the database's check does not: 400, never a 500.
    for (const supportUrl of [
      'HTTPS://help.example',
      ' https://help.example',
      'https:help.example',
    ]) {
      const odd = await r2.put(`/accounts/${ids.R2}/brand`, brand({ supportUrl, hostnames: [] }));
      expect([supportUrl, odd.status]).toEqual([supportUrl, 400]);
      expect(Object.keys(odd.body.error.fields)).toEqual(['supportUrl']);
    }
  });
});

describe('hostnames', () => {
  it('are unique across the installation: 409 hostname_taken, never saying whose', async () => {
    const sibling = await r2.put(
      `/accounts/${ids.R2}/brand`,
      brand({ displayName: 'R2 Voice', hostnames: ['r2.example', 'PORTAL.nimbus.example'] }),
    );
    expect(sibling.status).toBe(409);
    expect(sibling.body.error.code).toBe('hostname_taken');
    expect(JSON.stringify(sibling.body)).not.toContain(ids.R1);
    expect(JSON.stringify(sibling.body)).not.toContain('Nimbus Voice');
    // Refused whole: not even its free hostname was kept.
    expect((await r2.get(`/accounts/${ids.R2}/brand`)).body.brand).toBeNull();

    const otherTenant = await second.put(
      `/accounts/${ids.C2}/brand`,
      brand({ displayName: 'Second', hostnames: ['calls.nimbus.example'] }),
    );
    expect(otherTenant.status).toBe(409);
    expect(otherTenant.body.error.code).toBe('hostname_taken');
    expect(
      (
        await second.put(
          `/accounts/${ids.C2}/brand`,
          brand({ displayName: 'Second', hostnames: ['portal.second.example'] }),
        )
      ).status,
    ).toBe(201);
  });

  it('are unique by the database’s key, whatever writes them', async () => {
    const em = suite.orm.em.fork();
    await expect(
      directQuery(em, `insert into brand_hostname (hostname, brand_id) values (?, ?)`, [
        'portal.nimbus.example',
        ids.C2,
      ]),
    ).rejects.toThrow(/duplicate key|unique/i);
    await expect(
      directQuery(em, `insert into brand_hostname (hostname, brand_id) values (?, ?)`, [
        'Portal.Second2.example:8080',
        ids.C2,
      ]),
    ).rejects.toThrow(/check constraint/i);
  });

  it('go to one of two brands claiming one at the same moment', async () => {
    for (let round = 0; round < 5; round++) {
      const hostname = `race${round}.example`;
      const answers = await Promise.all([
        r1.put(`/accounts/${ids.R1a}/brand`, brand({ displayName: 'A', hostnames: [hostname] })),
        r2.put(`/accounts/${ids.K2}/brand`, brand({ displayName: 'B', hostnames: [hostname] })),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
      const owner = await brandForHost(suite.orm.em.fork(), hostname);
      expect(owner?.accountId).toBe(answers[0]!.status === 201 ? ids.R1a : ids.K2);
      for (const [client, id] of [
        [r1, ids.R1a],
        [r2, ids.K2],
      ] as const) {
        if ((await client.get(`/accounts/${id}/brand`)).body.brand) {
          expect((await client.del(`/accounts/${id}/brand`)).status).toBe(204);
        }
      }
    }
  });

  it('must be DNS names, at most ten', async () => {
    for (const hostname of [
      'https://x.example',
      'x.example:8443',
      'x.example/path',
      '10.0.0.1',
      '-x.example',
      'localhost',
      `${'a'.repeat(64)}.example`,
    ]) {
      const bad = await r2.put(`/accounts/${ids.R2}/brand`, brand({ hostnames: [hostname] }));
      expect(bad.status, hostname).toBe(400);
      expect(Object.keys(bad.body.error.fields)[0], hostname).toMatch(/^hostnames/);
    }
    const many = Array.from({ length: 11 }, (_, i) => `p${i}.r2.example`);
    const tooMany = await r2.put(`/accounts/${ids.R2}/brand`, brand({ hostnames: many }));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.fields.hostnames).toContain('at most 10');
  });

  it('are freed when the brand is removed', async () => {
    const taken = await admin.put(
      `/accounts/${ids.C}/brand`,
      brand({ displayName: 'Carrier', hostnames: ['portal.second.example'] }),
    );
    expect(taken.status).toBe(409);
    expect((await second.del(`/accounts/${ids.C2}/brand`)).status).toBe(204);
    const now = await admin.put(
      `/accounts/${ids.C}/brand`,
      brand({ displayName: 'Carrier', hostnames: ['portal.second.example'] }),
    );
    expect(now.status).toBe(201);
    expect((await admin.del(`/accounts/${ids.C}/brand`)).status).toBe(204);
  });
});

describe('an account deleted with its brand', () => {
  it('takes the brand and its hostnames with it, in the same logged change', async () => {
    const gone = (await admin.post('/customers', { name: 'Gone' })).body;
    expect(
      (
        await admin.put(
          `/accounts/${gone.id}/brand`,
          brand({ displayName: 'Gone', hostnames: ['gone.example'] }),
        )
      ).status,
    ).toBe(201);
    expect((await admin.del(`/customers/${gone.id}`)).status).toBe(204);
    expect(await brandForHost(suite.orm.em.fork(), 'gone.example')).toBeNull();
    // Recorded as the brand's own delete would be: the audit says so (and the fan-out,
    // passing it, drops every process's hostname list).
    const audit = await admin.get(`/audit?resource=brands&entityId=${gone.id}&limit=50`);
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((entry: { op: string }) => entry.op)).toEqual([
      'deleted',
      'created',
    ]);
    const reused = await admin.put(
      `/accounts/${ids.K2}/brand`,
      brand({ displayName: 'K2', hostnames: ['gone.example'] }),
    );
    expect(reused.status).toBe(201);
    expect((await admin.del(`/accounts/${ids.K2}/brand`)).status).toBe(204);
  });
});

describe('resolution', () => {
  it('finds the nearest brand at or above an account, three levels deep, never a sibling’s', async () => {
    const em = suite.orm.em.fork();
    const nearest = async (path: string) => (await effectiveBrand(em, path))?.accountId ?? null;
    // R1 has its brand from the first tests; R2's sibling brand never applies to K.
    await admin.put(
      `/accounts/${ids.R2}/brand`,
      brand({ displayName: 'R2 Voice', hostnames: ['r2.example'] }),
    );
    expect(await nearest(paths.K)).toBe(ids.R1);
    expect(await nearest(paths.K2)).toBe(ids.R2);

    await admin.put(`/accounts/${ids.C}/brand`, brand({ displayName: 'Carrier', hostnames: [] }));
    await r1.put(`/accounts/${ids.R1a}/brand`, brand({ displayName: 'R1a', hostnames: [] }));
    expect(await nearest(paths.K)).toBe(ids.R1a);
    await r1.put(`/accounts/${ids.K}/brand`, brand({ displayName: 'K', hostnames: [] }));
    expect(await nearest(paths.K)).toBe(ids.K);
    await r1.del(`/accounts/${ids.K}/brand`);
    await r1.del(`/accounts/${ids.R1a}/brand`);
    expect(await effectiveBrand(em, paths.K)).toMatchObject({
      accountId: ids.R1,
      accountPath: `${ids.C}/${ids.R1}/`,
      brand: { displayName: 'Nimbus Voice' },
    });
    await r1.del(`/accounts/${ids.R1}/brand`);
    expect(await nearest(paths.K)).toBe(ids.C);
    // Another tenant's brand is never on the path.
    expect(await effectiveBrand(em, `${ids.C2}/`)).toBeNull();
  });

  it('shows a reseller the carrier’s brand only when none is set at or below it, not whose', async () => {
    await r1.del(`/accounts/${ids.R1}/brand`);
    const inherited = (await r1.get(`/accounts/${ids.R1}/brand`)).body;
    expect(inherited.brand).toBeNull();
    expect(inherited.effective).toMatchObject({
      source: 'inherited',
      accountId: null,
      displayName: 'Carrier',
    });
    // Its customer's inherited brand names the reseller when it comes from there.
    await r1.put(`/accounts/${ids.R1a}/brand`, brand({ displayName: 'R1a', hostnames: [] }));
    expect((await r1.get(`/accounts/${ids.K}/brand`)).body.effective).toMatchObject({
      source: 'inherited',
      accountId: ids.R1a,
      displayName: 'R1a',
    });
    // The carrier's side sees where its own comes from.
    expect((await admin.get(`/accounts/${ids.R1}/brand`)).body.effective.accountId).toBe(ids.C);
    await r1.put(`/accounts/${ids.R1}/brand`, brand());
    expect((await r1.get(`/accounts/${ids.R1}/brand`)).body.effective).toMatchObject({
      source: 'own',
      displayName: 'Nimbus Voice',
    });
  });

  it('finds the brand owning a hostname, and its account', async () => {
    const em = suite.orm.em.fork();
    expect(await brandForHost(em, 'Portal.Nimbus.Example:443')).toMatchObject({
      accountId: ids.R1,
      accountPath: `${ids.C}/${ids.R1}/`,
      brand: { displayName: 'Nimbus Voice' },
    });
    expect(await brandForHost(em, 'r2.example.')).toMatchObject({ accountId: ids.R2 });
    expect(await brandForHost(em, 'nobody.example')).toBeNull();
    expect(await brandForHost(em, 'not a host')).toBeNull();
  });
});

describe('the audit', () => {
  it('logs every change for the account’s side and above, never a sibling', async () => {
    const own = (await r1.get(`/audit?resource=brands&entityId=${ids.R1}`)).body.items;
    expect(own.length).toBeGreaterThanOrEqual(3);
    expect(own.map((entry: { op: string }) => entry.op)).toEqual(
      expect.arrayContaining(['created', 'updated', 'deleted']),
    );
    expect(own[0].detail).toBe('shown');
    const carrier = (await admin.get(`/audit?resource=brands&entityId=${ids.R1}`)).body.items;
    expect(carrier).toHaveLength(own.length);
    expect((await r2.get(`/audit?resource=brands&entityId=${ids.R1}`)).body.items).toEqual([]);
    // A change to brand rows outside mutate() cannot commit (the change-log guard).
    await expect(
      directQuery(suite.orm.em.fork(), `update brand set display_name = 'x' where id = ?`, [
        ids.R1,
      ]),
    ).rejects.toThrow(/change-log row/);
  });
});

describe('live', () => {
  const live: TLiveClient[] = [];
  afterAll(() => {
    for (const client of live) client.close();
  });

  it('a brand change reaches its account’s people and those below, nobody else', async () => {
    // A person at R1a, below R1; the carrier admin above; R2 beside.
    const group = (await admin.get('/groups')).body.items.find(
      (item: { name: string }) => item.name === 'Default Reseller',
    );
    expect(
      (
        await admin.post('/users', {
          email: 'ops@r1a.b.test',
          password: PASSWORD,
          accountId: ids.R1a,
          groupId: group.id,
        })
      ).status,
    ).toBe(201);
    const token = async (email: string, password = PASSWORD) =>
      (await requestToken(suite.server.url, email, password)).body.token as string;
    const clients = {
      own: connectLiveClient(suite.server.url, await token('ops@r1.b.test'), 'R1'),
      // No brand grant at all: the brand is on every page all the same.
      ownWithout: connectLiveClient(suite.server.url, await token('plain@r1.b.test'), 'R1 plain'),
      below: connectLiveClient(suite.server.url, await token('ops@r1a.b.test'), 'R1a'),
      beside: connectLiveClient(suite.server.url, await token('ops@r2.b.test'), 'R2'),
      above: connectLiveClient(suite.server.url, await token(ADMIN.email, ADMIN.password), 'C'),
    };
    live.push(...Object.values(clients));
    for (const client of live) await client.waitForHello(1);
    // The log's head as the carrier's sockets joined (one carrier): catch-up from there.
    const since = Math.max(...live.map((client) => client.hellos[0]!.seq));

    const current = (await r1.get(`/accounts/${ids.R1}/brand`)).body.brand;
    const changed = await r1.put(
      `/accounts/${ids.R1}/brand`,
      brand({ displayName: 'Nimbus Live', hostnames: [], version: current?.version }),
    );
    expect([200, 201]).toContain(changed.status);
    // Sentinels after it, in log order: once each socket has its own, anything of the
    // brand change that was going to reach it has.
    const sentinelR1 = (await admin.post('/customers', { name: 'Sentinel R1', parentId: ids.R1a }))
      .body.id;
    const sentinelR2 = (await admin.post('/customers', { name: 'Sentinel R2', parentId: ids.R2 }))
      .body.id;
    const got = (client: TLiveClient, id: string) => client.raw.some((e) => e.id === id);
    await until(
      () =>
        got(clients.own, sentinelR1) &&
        got(clients.ownWithout, sentinelR1) &&
        got(clients.below, sentinelR1) &&
        got(clients.beside, sentinelR2) &&
        got(clients.above, sentinelR2),
      'the sentinels',
    );
    const signals = (client: TLiveClient) => client.raw.filter((e) => e.type.startsWith('brands.'));
    for (const client of [clients.own, clients.ownWithout, clients.below]) {
      expect(signals(client), client.name).toEqual([
        expect.objectContaining({ type: 'brands.refetch', id: ids.R1, data: { id: ids.R1 } }),
      ]);
      // Nothing of the brand travels: the page reads it again.
      expect(JSON.stringify(signals(client))).not.toContain('Nimbus');
    }
    expect(signals(clients.beside)).toEqual([]);
    expect(signals(clients.above)).toEqual([]);

    // Catch-up says the same as the live feed.
    const caughtUp = async (client: TApiClient) =>
      ((await client.get(`/events?since=${since}`)).body.items as { type: string; id: string }[])
        .filter((e) => e.type.startsWith('brands.'))
        .map((e) => [e.type, e.id]);
    expect(await caughtUp(r1)).toEqual([['brands.refetch', ids.R1]]);
    expect(await caughtUp(r2)).toEqual([]);
    expect(await caughtUp(admin)).toEqual([]);
  });

  it('a catch-up read from the log brings it to those below, as one from memory does', async () => {
    // Away while R1 changes its brand: a person of R1a (a sub-reseller of R1) and a
    // customer user of K (under R1a); R2 beside and the carrier above never hear of it.
    const em = suite.orm.em.fork();
    const resellerGroup = (await admin.get('/groups')).body.items.find(
      (item: { name: string }) => item.name === 'Default Reseller',
    );
    const customerGroup = (await admin.post('/groups', { template: 'default-customer' })).body;
    for (const [email, accountId, groupId] of [
      ['away@r1a.b.test', ids.R1a, resellerGroup.id],
      ['desk@k.b.test', ids.K, customerGroup.id],
    ] as const) {
      const made = await admin.post('/users', { email, password: PASSWORD, accountId, groupId });
      expect(made.status).toBe(201);
    }
    const actorOf = async (email: string) => {
      const [row] = await em.execute<{ id: string; session_version: number }[]>(
        'select id, session_version from app_user where email = ?',
        [email],
      );
      return (await resolveActor(em, { userId: row!.id, sessionVersion: row!.session_version }))!;
    };
    const headOf = async () =>
      Number(
        (
          await em.execute<{ seq: string }[]>(
            'select seq from carrier_log_head where carrier_id = ?',
            [ids.C],
          )
        )[0]!.seq,
      );
    const since = await headOf();

    const current = (await r1.get(`/accounts/${ids.R1}/brand`)).body.brand;
    const changed = await r1.put(
      `/accounts/${ids.R1}/brand`,
      brand({ displayName: 'Nimbus Away', hostnames: [], version: current?.version }),
    );
    expect([200, 201]).toContain(changed.status);
    const head = await headOf();
    // The fan-out has passed the change, so a page from memory holds it too.
    const recent = getRuntime().recent!;
    await until(
      () => recent.after(ids.C, since, head, 1e6)?.length === head - since,
      'the fan-out to pass the brand change',
    );

    const brandSignals = (items: { type: string; id: string }[]) =>
      items.filter((e) => e.type.startsWith('brands.')).map((e) => [e.type, e.id]);
    const refetch = [['brands.refetch', ids.R1]];
    for (const [email, expected] of [
      ['away@r1a.b.test', refetch],
      ['desk@k.b.test', refetch],
      ['ops@r1.b.test', refetch],
      ['ops@r2.b.test', []],
      [ADMIN.email, []],
    ] as const) {
      const actor = await actorOf(email);
      const query = { since, limit: 1000 };
      // Without `recent` the page is read from the log (narrowed by the viewer's path).
      const fromLog = await catchUp(em, actor, query, { retentionDays: 7 });
      const fromMemory = await catchUp(em, actor, query, { retentionDays: 7, recent });
      expect(brandSignals(fromLog.items), email).toEqual(expected);
      expect(fromLog, email).toEqual(fromMemory);
    }
  });
});
