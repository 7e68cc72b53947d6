import { beforeAll, describe, expect, it } from 'vitest';
import type { TAuditEntryDto } from '@/lib/shared/schemas/audit';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { csvObjects, csvRows } from '../fixtures/csv-rows';
import { exportAudit } from '@/lib/server/services/audit/list-audit';
import { actorByEmail, listenAs } from '../fixtures/cookie-listener';

/**
 * Issue 13 item 7: the audit shows what changed only as the live events would show it
 * to the viewer. `audit:read` alone lets a viewer see that an entity changed, when and by
 * whom — never a user's email or group, a group's grants, a card's markup, its parent or
 * who else holds it. Everything is made through the API of the real server.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'audit-admin-pass-1' };
const PASSWORD = 'audit-viewer-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
const ids = {} as Record<'R1' | 'R2' | 'P' | 'S' | 'D' | 'sales' | 'opsR1', string>;
/** The carrier's markup on S: a value no one else uses, so its absence is checkable. */
const MARKUP_FIXED = '0.0077';

async function audit(client: TApiClient): Promise<TAuditEntryDto[]> {
  const response = await client.get<{ items: TAuditEntryDto[]; nextCursor: string | null }>(
    '/audit?limit=100',
  );
  expect(response.status).toBe(200);
  expect(response.body.nextCursor).toBeNull();
  return response.body.items;
}

const find = (items: TAuditEntryDto[], resource: string, entityId: string, op: string) => {
  const item = items.find(
    (entry) => entry.resource === resource && entry.entityId === entityId && entry.op === op,
  );
  expect(item, `${resource} ${op} ${entityId}`).toBeDefined();
  return item!;
};

async function viewer(email: string, accountId: string, groupId: string) {
  const made = await admin.post('/users', { email, password: PASSWORD, accountId, groupId });
  expect(made.status).toBe(201);
  return made.body.id as string;
}

const groupOf = async (name: string, grants: string[]) => {
  const made = await admin.post('/groups', { name, grants });
  expect(made.status).toBe(201);
  return made.body as { id: string; version: number };
};

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const auditOnly = await groupOf('Auditors', ['audit:read']);
  const people = await groupOf('People auditors', ['audit:read', 'users:read']);
  const cards = await groupOf('Card auditors', ['audit:read', 'cards:read']);
  const template = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@x.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@x.test' })).body.id;
  const me = (await admin.get('/me')).body.account.id as string;
  await viewer('auditor@carrier.test', me, auditOnly.id);
  await viewer('people@carrier.test', me, people.id);
  await viewer('cards@carrier.test', me, cards.id);
  // R1 holds the carrier's card S and reads its own audit with cards:read (assignee view).
  await viewer('holder@r1.test', ids.R1, cards.id);
  ids.opsR1 = await viewer('ops@r1.test', ids.R1, template.id);

  // Users and groups change.
  const ops = (await admin.get(`/users/${ids.opsR1}`)).body;
  expect(
    (await admin.patch(`/users/${ids.opsR1}`, { version: ops.version, name: 'R1 Ops' })).status,
  ).toBe(200);
  const sales = await groupOf('Sales', ['customers:read']);
  ids.sales = sales.id;
  expect(
    (
      await admin.patch(`/groups/${sales.id}`, {
        version: sales.version,
        grants: ['customers:read', 'resellers:read'],
      })
    ).status,
  ).toBe(200);

  // Cards: an upstream card P, a derived S with markup, held by R1 and R2, new rates,
  // S renamed; R1 derives its own D from S.
  ids.P = (
    await admin.post('/cards', { name: 'Upstream', currency: 'EUR', kind: 'provider' })
  ).body.id;
  const derived = await admin.post(`/cards/${ids.P}/derive`, {
    name: 'Retail',
    markupPercent: '20',
    markupFixed: MARKUP_FIXED,
  });
  expect(derived.status).toBe(201);
  ids.S = derived.body.id;
  for (const holder of [ids.R1, ids.R2])
    expect((await admin.post('/assignments', { cardId: ids.S, accountId: holder })).status).toBe(
      201,
    );
  // New rates on P: a rates_changed row for P and one for S (its holders told live).
  expect(
    (
      await admin.put(`/cards/${ids.P}/rates`, {
        rates: [{ prefix: '44', destination: 'UK', rate: '0.0200' }],
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await admin.patch(`/cards/${ids.S}`, {
        version: (await admin.get(`/cards/${ids.S}`)).body.version,
        name: 'Retail EU',
      })
    ).status,
  ).toBe(200);
  const opsR1 = await apiClient(suite.server.url, 'ops@r1.test', PASSWORD);
  const own = await opsR1.post(`/cards/${ids.S}/derive`, {
    name: 'R1 retail',
    markupPercent: '10',
  });
  expect(own.status).toBe(201);
  ids.D = own.body.id;
});

describe('the audit projects each entry as the live events would', () => {
  it('tells an audit:read-only viewer that things changed, and nothing of what', async () => {
    const items = await audit(await apiClient(suite.server.url, 'auditor@carrier.test', PASSWORD));
    // Every kind of change is listed: in scope as before.
    for (const [resource, id, op] of [
      ['users', ids.opsR1, 'created'],
      ['users', ids.opsR1, 'updated'],
      ['groups', ids.sales, 'updated'],
      ['resellers', ids.R1, 'created'],
      ['cards', ids.S, 'created'],
      ['cards', ids.S, 'updated'],
      ['cards', ids.P, 'updated'],
    ] as const) {
      const entry = find(items, resource, id, op);
      expect(entry).toMatchObject({ before: null, after: null, summary: null, detail: 'withheld' });
      // The actor as before: the account, since this viewer may not read people.
      expect(entry.actor).toEqual({ kind: 'account', name: expect.any(String) });
    }
    // Two assignments made, and each updated when its card was renamed (its card name).
    expect(
      items
        .filter((entry) => entry.resource === 'assignments')
        .map((entry) => entry.op)
        .sort(),
    ).toEqual(['created', 'created', 'updated', 'updated']);
    expect(items.filter((entry) => entry.before || entry.after || entry.summary)).toEqual([]);
    const text = JSON.stringify(items);
    expect(text).not.toContain('@'); // no email of a user, an account or an actor
    expect(text).not.toContain(':read'); // no group's grants
    expect(text).not.toContain(MARKUP_FIXED);
  });

  it('shows users to a users:read holder, but not groups or cards', async () => {
    const items = await audit(await apiClient(suite.server.url, 'people@carrier.test', PASSWORD));
    const created = find(items, 'users', ids.opsR1, 'created');
    expect(created).toMatchObject({
      detail: 'shown',
      before: null,
      after: { email: 'ops@r1.test', accountId: ids.R1 },
    });
    const renamed = find(items, 'users', ids.opsR1, 'updated');
    expect(renamed.before).toMatchObject({ email: 'ops@r1.test' });
    expect(renamed.after).toMatchObject({ name: 'R1 Ops' });
    expect(renamed.actor).toMatchObject({ kind: 'user', email: ADMIN.email });
    expect(find(items, 'groups', ids.sales, 'updated')).toMatchObject({
      before: null,
      after: null,
      detail: 'withheld',
    });
    expect(find(items, 'cards', ids.S, 'created')).toMatchObject({
      after: null,
      detail: 'withheld',
    });
    expect(JSON.stringify(items)).not.toContain(MARKUP_FIXED);
  });

  it('shows the owner of a card everything to a cards:read holder, and no people', async () => {
    const items = await audit(await apiClient(suite.server.url, 'cards@carrier.test', PASSWORD));
    const derived = find(items, 'cards', ids.S, 'created');
    expect(derived).toMatchObject({
      detail: 'shown',
      after: { parentId: ids.P, markup: { percent: '20', fixed: MARKUP_FIXED } },
    });
    const rates = items.find(
      (entry) => entry.entityId === ids.S && entry.summary?.event === 'rates_changed',
    );
    // A rates change the parent's PUT made: the summary as the owner side gets it live.
    expect(rates?.summary).toEqual(expect.objectContaining({ event: 'rates_changed' }));
    expect(rates?.summary).not.toHaveProperty('audience');
    expect(find(items, 'users', ids.opsR1, 'created')).toMatchObject({
      after: null,
      detail: 'withheld',
    });
    expect(JSON.stringify(items)).not.toContain('@');
  });

  it("gives a card's assignee nothing of the owner's card, and no people", async () => {
    const items = await audit(await apiClient(suite.server.url, 'holder@r1.test', PASSWORD));
    // Its own account's users: listed, withheld (no users:read).
    expect(find(items, 'users', ids.opsR1, 'created')).toMatchObject({
      after: null,
      detail: 'withheld',
    });
    // Its own derived card: the owner's view, as GET /cards gives it.
    expect(find(items, 'cards', ids.D, 'created')).toMatchObject({
      detail: 'shown',
      after: { parentId: ids.S, markup: { percent: '10' } },
    });
    const text = JSON.stringify(items);
    expect(text).not.toContain('@');
    expect(text).not.toContain(ids.P); // the owner's upstream card
    expect(text).not.toContain(MARKUP_FIXED); // the owner's markup
    expect(text).not.toContain(ids.R2); // another holder
    expect(items.some((entry) => entry.resource === 'assignments')).toBe(false);
  });

  it('shows the carrier admin everything', async () => {
    const items = await audit(admin);
    expect(items.every((entry) => entry.detail === 'shown')).toBe(true);
    expect(find(items, 'groups', ids.sales, 'updated')).toMatchObject({
      before: { grants: ['customers:read'] },
      after: { grants: ['customers:read', 'resellers:read'] },
    });
  });
});

/** A CSV download's records, read by the panel's own CSV reader (the rates import's). */
async function exported(client: TApiClient, query = '') {
  const response = await client.raw('GET', `/audit/export${query}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
  return csvObjects(response.text);
}

describe('the audit filtered by who and when, and exported', () => {
  it('lists one person’s doing only to a viewer the audit names them to', async () => {
    const people = await apiClient(suite.server.url, 'people@carrier.test', PASSWORD);
    const mine = await people.get<{ items: TAuditEntryDto[]; total: number }>(
      `/audit?actorId=${ids.opsR1}&limit=100`,
    );
    expect(mine.status).toBe(200);
    // ops@r1 signed in once, then derived one card (its own D): those, newest first, and
    // nothing of the admin's.
    expect(mine.body.items.map((entry) => [entry.resource, entry.entityId, entry.op])).toEqual([
      ['cards', ids.D, 'created'],
      ['sessions', expect.any(String), 'created'],
    ]);
    expect(mine.body.total).toBe(2);
    expect(mine.body.items[0]!.actor).toMatchObject({ kind: 'user', id: ids.opsR1 });
    const adminId = (await admin.get('/me')).body.user.id as string;
    const admins = await admin.get<{ items: TAuditEntryDto[] }>(`/audit?actorId=${adminId}`);
    expect(admins.body.items.length).toBeGreaterThan(5);
    expect(admins.body.items.every((entry) => entry.actor.kind === 'user')).toBe(true);
    expect(new Set(admins.body.items.map((entry) => (entry.actor as { id: string }).id))).toEqual(
      new Set([adminId]),
    );
    // No users:read, or the person outside the viewer's subtree: the audit names neither,
    // so the filter would tell which entries were theirs — 404, as reading the user is.
    const auditor = await apiClient(suite.server.url, 'auditor@carrier.test', PASSWORD);
    const opsR1 = await apiClient(suite.server.url, 'ops@r1.test', PASSWORD);
    for (const [client, id] of [
      [auditor, ids.opsR1],
      [opsR1, adminId],
      [admin, '00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const refused = await client.get(`/audit?actorId=${id}`);
      expect(refused.status).toBe(404);
      expect(refused.body.error.code).toBe('not_found');
      expect((await client.raw('GET', `/audit/export?actorId=${id}`)).status).toBe(404);
    }
    const bad = await admin.get('/audit?actorId=someone');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('actorId');
  });

  it('takes a time window: from inclusive, to exclusive', async () => {
    const all = await audit(admin);
    const oldest = all.at(-1)!;
    const newest = all[0]!;
    const window = await admin.get<{ items: TAuditEntryDto[] }>(
      `/audit?limit=100&from=${encodeURIComponent(oldest.at)}&to=${encodeURIComponent(newest.at)}`,
    );
    // The newest entry's instant is the window's end: left out, and everything earlier in.
    const atNewest = all.filter((entry) => entry.at === newest.at).length;
    expect(window.body.items.map((entry) => entry.seq)).toEqual(
      all.slice(atNewest).map((entry) => entry.seq),
    );
    const later = await admin.get<{ items: TAuditEntryDto[] }>(
      `/audit?from=${encodeURIComponent(newest.at)}`,
    );
    expect(later.body.items.map((entry) => entry.seq)).toEqual(
      all.slice(0, atNewest).map((entry) => entry.seq),
    );
    const bad = await admin.get('/audit?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('from');
  });

  it('exports what the list shows, oldest first, projected for the viewer', async () => {
    const listed = await audit(admin);
    const rows = await exported(admin);
    expect(rows.map((row) => Number(row.seq))).toEqual(listed.map((entry) => entry.seq).reverse());
    const renamed = rows.find(
      (row) => row.resource === 'groups' && row.entityId === ids.sales && row.op === 'updated',
    )!;
    expect(renamed).toMatchObject({ actorEmail: ADMIN.email, detail: 'shown' });
    expect(JSON.parse(renamed.after!)).toMatchObject({
      grants: ['customers:read', 'resellers:read'],
    });
    expect(renamed.description).toMatch(/Sales/);
    // The list's filters apply.
    const cards = await exported(admin, '?resource=cards&op=created');
    expect(cards.map((row) => row.entityId).sort()).toEqual([ids.P, ids.S, ids.D].sort());

    // An audit:read-only viewer: the same rows, nothing of what changed, no one named.
    const auditor = await apiClient(suite.server.url, 'auditor@carrier.test', PASSWORD);
    const withheld = await exported(auditor);
    expect(withheld.length).toBe((await audit(auditor)).length);
    expect(withheld.every((row) => row.detail === 'withheld' && !row.before && !row.after)).toBe(
      true,
    );
    expect(withheld.map((row) => row.actorEmail).filter(Boolean)).toEqual([]);
    // A reseller's export: its own subtree, nothing of its provider's card or sibling.
    const holder = await apiClient(suite.server.url, 'holder@r1.test', PASSWORD);
    const r1 = await holder.raw('GET', '/audit/export');
    expect(r1.text).not.toContain(ids.P);
    expect(r1.text).not.toContain(ids.R2);
    expect(r1.text).not.toContain(MARKUP_FIXED);
    expect((await csvRows(r1.text)).length - 1).toBe((await audit(holder)).length);
  });

  it('gives the same file three entries a batch as in one batch', async () => {
    const em = suite.orm.em.fork();
    const actor = await actorByEmail(em, ADMIN.email);
    const whole = (await admin.raw('GET', '/audit/export')).text;
    expect(whole.split('\r\n').length).toBeGreaterThan(10);
    // Paging is what this reads; access mid-download is the ledger export's test.
    const batched = await exportAudit(em, actor, {}, { batch: 3, stillAllowed: async () => {} });
    expect(await new Response(batched).text()).toBe(whole);
  });
});

describe('the audit, live', () => {
  it('reaches audit readers whom nothing else tells, naming only their own account', async () => {
    const me = (await admin.get('/me')).body.account.id as string;
    // Both signed in before either listens: a sign-in is in the audit too.
    const clients = [
      await apiClient(suite.server.url, 'auditor@carrier.test', PASSWORD),
      await apiClient(suite.server.url, 'holder@r1.test', PASSWORD),
    ];
    const auditor = await listenAs(suite.server.url, clients[0]!);
    const holder = await listenAs(suite.server.url, clients[1]!);
    try {
      // R2 renamed (its entry is the carrier's: outside R1's audit), then a customer made
      // under R1 (in both audits): nothing of either is a card, which is all the holder
      // reads, and the auditor reads nothing else at all.
      const r2 = (await admin.get(`/resellers/${ids.R2}`)).body;
      const renamed = await admin.patch(`/resellers/${ids.R2}`, {
        version: r2.version,
        name: 'R2 renamed',
      });
      expect(renamed.status).toBe(200);
      const made = await admin.post('/customers', { name: 'Live audit', parentId: ids.R1 });
      expect(made.status).toBe(201);
      const madeAt = (await audit(admin)).find((entry) => entry.entityId === made.body.id)!.seq;
      const deadline = Date.now() + 10_000;
      const heard = (l: typeof auditor) => l.received.some((e) => e.seq === madeAt);
      while (!(heard(auditor) && heard(holder)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const bare = (id: string) => ({
        type: 'audit.refetch',
        id,
        data: { id },
        actor: { kind: 'account', name: expect.any(String) },
      });
      expect(auditor.received.map((e) => e.type)).toEqual(['audit.refetch', 'audit.refetch']);
      expect(auditor.received).toEqual([
        expect.objectContaining(bare(me)),
        expect.objectContaining({ ...bare(me), seq: madeAt }),
      ]);
      expect(JSON.stringify(auditor.received)).not.toContain(made.body.id);
      // The holder: the customer under its account only, not R2's rename.
      expect(holder.received).toEqual([expect.objectContaining({ ...bare(ids.R1), seq: madeAt })]);
      // Catch-up tells the same.
      const since = auditor.received[0]!.seq - 1;
      const auditorClient = auditor.client;
      const caught = (await auditorClient.get(`/events?since=${since}`)).body.items as unknown[];
      expect(caught).toEqual(auditor.received.map((e) => expect.objectContaining(bare(e.id))));
    } finally {
      auditor.socket.close();
      holder.socket.close();
    }
  });
});
