import { beforeAll, describe, expect, it } from 'vitest';
import { Account, CardAssignment, User, type TAccount } from '@/lib/server/entities';
import { resolveActor } from '@/lib/server/authz/actor';
import { belowFilter } from '@/lib/server/authz/scope';
import { exportSubAccounts } from '@/lib/server/services/accounts/export-sub-accounts';
import { DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient, type TApiResponse } from '../fixtures/api-client';
import { addAccount, addGroup, addUser } from '../fixtures/accounts';

/**
 * Lists that scale (issue 15 item 3): totals counted within the caller's scope, sorts
 * with keyset cursors that stay in order across pages, search, the CSV export, and the
 * all-or-nothing bulk actions.
 */
const PASSWORD = 'lists-password-12';
const ADMIN = { email: 'admin@lists.test', password: 'lists-admin-password' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1User: TApiClient;
const world = {} as Record<'C1' | 'R1' | 'R2' | 'C2R', TAccount>;
/** Resellers under R1 named out of creation order; `zz-` keeps the search to them. */
const NAMES = ['zz-delta', 'zz-alpha', 'zz-echo', 'zz-charlie', 'zz-bravo', 'zz-foxtrot'];

beforeAll(async () => {
  const em = suite.orm.em.fork();
  world.C1 = await em.findOneOrFail(Account, { kind: 'carrier' });
  world.R1 = await addAccount(em, world.C1, 'reseller', 'Reseller One');
  world.R2 = await addAccount(em, world.C1, 'reseller', 'Reseller Two');
  const other = await createCarrier(em, {
    name: 'Carrier Two',
    adminEmail: 'admin@c2.lists.test',
    adminPassword: PASSWORD,
  });
  world.C2R = await addAccount(em, other.carrier, 'reseller', 'Other Tenant Reseller');
  for (const name of ['Kilo One', 'Lima One', 'Mike One'])
    await addAccount(em, world.R1, 'customer', name);
  for (const name of ['November Two', 'Oscar Two'])
    await addAccount(em, world.R2, 'customer', name);
  for (const name of NAMES) await addAccount(em, world.R1, 'reseller', name);
  const group = await addGroup(em, world.C1, 'Default Reseller', [...DEFAULT_RESELLER_GRANTS]);
  await addUser(em, { account: world.R1, group, email: 'r1@lists.test', password: PASSWORD });
  await addUser(em, { account: world.R2, group, email: 'r2@lists.test', password: PASSWORD });
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  r1User = await apiClient(suite.server.url, 'r1@lists.test', PASSWORD);
});

/** Rows in the change log (the audit): a refused bulk action adds none. */
async function logRows(): Promise<number> {
  const [row] = await suite.orm.em
    .fork()
    .execute<{ n: string }[]>('select count(*) as n from change_log');
  return Number(row!.n);
}

/** Every page of a list, following `nextCursor`. */
async function allPages(client: TApiClient, path: string) {
  const items: { id: string; name: string; email: string | null }[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  do {
    const joiner: string = path.includes('?') ? '&' : '?';
    type TListPage = { items: typeof items; total: number; nextCursor: string | null };
    const page: TApiResponse<TListPage> = await client.get<TListPage>(
      `${path}${cursor ? `${joiner}cursor=${cursor}` : ''}`,
    );
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    totals.push(page.body.total);
    cursor = page.body.nextCursor;
  } while (cursor);
  return { items, totals };
}

describe('totals', () => {
  it('count what is in the caller’s scope and matches the filters, not one page', async () => {
    const all = await admin.get('/customers?limit=2');
    expect(all.body.items).toHaveLength(2);
    expect(all.body.total).toBe(5);
    // A reseller counts its own customers only: R2's are not in its total.
    const own = await r1User.get('/customers?limit=1');
    expect(own.body.total).toBe(3);
    const searched = await r1User.get('/customers?q=lima');
    expect(searched.body.total).toBe(1);
    const r2Search = await r1User.get('/customers?q=Two');
    expect(r2Search.body.total).toBe(0);
    expect((await admin.get('/resellers?limit=1')).body.total).toBe(2 + NAMES.length);
    expect((await r1User.get('/resellers?limit=1')).body.total).toBe(NAMES.length);
  });

  it('users carry their account’s name; customers and resellers their parent’s', async () => {
    const users = await admin.get('/users?sort=email');
    const r1 = users.body.items.find((user: { email: string }) => user.email === 'r1@lists.test');
    expect(r1.accountName).toBe('Reseller One');
    const customers = await r1User.get('/customers');
    expect(customers.body.items.map((c: { parentName: string }) => c.parentName)).toEqual([
      'Reseller One',
      'Reseller One',
      'Reseller One',
    ]);
    const reseller = await admin.get(`/resellers?q=zz-alpha`);
    expect(reseller.body.items[0]).toMatchObject({
      parentId: world.R1.id,
      parentName: 'Reseller One',
    });
  });
});

describe('sort', () => {
  it('orders by name both ways, and the cursor keeps the order across pages', async () => {
    const sorted = [...NAMES].sort();
    const ascending = await allPages(admin, '/resellers?q=zz-&sort=name&limit=2');
    expect(ascending.items.map((item) => item.name)).toEqual(sorted);
    expect(new Set(ascending.totals)).toEqual(new Set([NAMES.length]));
    const descending = await allPages(admin, '/resellers?q=zz-&sort=-name&limit=4');
    expect(descending.items.map((item) => item.name)).toEqual([...sorted].reverse());
  });

  it('pages through a nullable column (customers without an email) without loss', async () => {
    const seen = await allPages(admin, '/customers?sort=email&limit=2');
    expect(seen.items).toHaveLength(5);
    expect(new Set(seen.items.map((item) => item.id)).size).toBe(5);
    const back = await allPages(admin, '/customers?sort=-email&limit=2');
    expect(new Set(back.items.map((item) => item.id))).toEqual(
      new Set(seen.items.map((item) => item.id)),
    );
  });

  it('orders users by their last sign-in, those never signed in at the end, across pages', async () => {
    const em = suite.orm.em.fork();
    // An account of their own: the counts below R1 and R2 stay as the other tests read them.
    const account = await addAccount(em, world.C1, 'customer', 'Sign-in order');
    const group = await addGroup(em, world.C1, 'Sign-in order', ['customers:read']);
    const at = (name: string) => `${name}@signin.lists.test`;
    for (const name of ['never-a', 'never-b', 'old', 'mid', 'new']) {
      await addUser(em, { account, group, email: at(name), password: PASSWORD });
    }
    // Two signed in days ago (written as a sign-in writes it: to the millisecond), one now,
    // for real: a page ends on it below, and its cursor must not bring it back.
    for (const [name, ago] of [
      ['old', 30],
      ['mid', 2],
    ] as const) {
      await em.execute(
        `update app_user set last_login_at = date_trunc('milliseconds', now())
                                             - (? * interval '1 day') where email = ?`,
        [ago, at(name)],
      );
    }
    expect((await requestToken(suite.server.url, at('new'), PASSWORD)).status).toBe(201);
    const emails = (items: { email: string | null }[]) => items.map((item) => item.email);
    const up = await allPages(admin, `/users?accountId=${account.id}&sort=lastSignInAt&limit=3`);
    expect(emails(up.items).slice(0, 3)).toEqual([at('old'), at('mid'), at('new')]);
    expect(new Set(emails(up.items).slice(3))).toEqual(new Set([at('never-a'), at('never-b')]));
    const down = await allPages(admin, `/users?accountId=${account.id}&sort=-lastSignInAt&limit=2`);
    expect(new Set(emails(down.items).slice(0, 2))).toEqual(
      new Set([at('never-a'), at('never-b')]),
    );
    expect(emails(down.items).slice(2)).toEqual([at('new'), at('mid'), at('old')]);
  });

  it('refuses an unknown column with 400 naming `sort`, and a cursor of another sort', async () => {
    const bad = await admin.get('/resellers?sort=password');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('sort');
    expect((await admin.get('/users?sort=groupId')).body.error.fields).toHaveProperty('sort');
    const byName = await admin.get('/resellers?q=zz-&sort=name&limit=2');
    const mixed = await admin.get(`/resellers?q=zz-&sort=email&cursor=${byName.body.nextCursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.fields).toHaveProperty('cursor');
  });
});

describe('bulk status', () => {
  it('with one account out of scope writes nothing (404)', async () => {
    const em = suite.orm.em.fork();
    const mine = await em.findOneOrFail(Account, { name: 'Kilo One' });
    const theirs = await em.findOneOrFail(Account, { name: 'November Two' });
    const logBefore = await logRows();
    const refused = await r1User.post('/customers/bulk', {
      ids: [mine.id, theirs.id],
      status: 'suspended',
    });
    expect(refused.status).toBe(404);
    const after = suite.orm.em.fork();
    expect((await after.findOneOrFail(Account, { id: mine.id })).status).toBe('active');
    expect((await after.findOneOrFail(Account, { id: theirs.id })).status).toBe('active');
    expect(await logRows()).toBe(logBefore);
  });

  it('suspends every named account in one go, and a repeat changes nothing', async () => {
    const em = suite.orm.em.fork();
    const ids = (await em.find(Account, { name: { $in: ['Kilo One', 'Lima One'] } })).map(
      (account) => account.id,
    );
    const done = await r1User.post('/customers/bulk', { ids, status: 'suspended' });
    expect(done.status).toBe(200);
    expect(done.body.items.map((item: { status: string }) => item.status)).toEqual([
      'suspended',
      'suspended',
    ]);
    const logAfter = await logRows();
    const again = await r1User.post('/customers/bulk', { ids, status: 'suspended' });
    expect(again.body.items.map((item: { version: number }) => item.version)).toEqual(
      done.body.items.map((item: { version: number }) => item.version),
    );
    expect(await logRows()).toBe(logAfter);
    await r1User.post('/customers/bulk', { ids, status: 'active' });
  });
});

describe('bulk suspend impact', () => {
  it('counts what is below the named accounts, once each, and their active users', async () => {
    const alpha = (await admin.get('/resellers?q=zz-alpha')).body.items[0];
    const both = await admin.post('/resellers/bulk/impact', { ids: [world.R1.id, world.R2.id] });
    expect(both.status).toBe(200);
    expect(both.body).toEqual({ accounts: 2, resellers: NAMES.length, customers: 5, users: 2 });
    // zz-alpha is named itself: not counted again among R1's resellers.
    const overlap = await admin.post('/resellers/bulk/impact', { ids: [world.R1.id, alpha.id] });
    expect(overlap.body).toEqual({
      accounts: 2,
      resellers: NAMES.length - 1,
      customers: 3,
      users: 1,
    });
    const kilo = await suite.orm.em.fork().findOneOrFail(Account, { name: 'Kilo One' });
    const own = await r1User.post('/customers/bulk/impact', { ids: [kilo.id, kilo.id] });
    expect(own.body).toEqual({ accounts: 1, resellers: 0, customers: 0, users: 0 });
  });

  it('counts only what the suspend changes: nothing already suspended, or below one', async () => {
    const alpha = (await admin.get('/resellers?q=zz-alpha')).body.items[0];
    const impact = async (ids: string[]) =>
      (await admin.post('/resellers/bulk/impact', { ids })).body;
    const r1 = await impact([world.R1.id]);
    const underAlpha = await impact([alpha.id]);
    const suspended = await admin.patch(`/resellers/${alpha.id}`, {
      version: alpha.version,
      status: 'suspended',
    });
    expect(suspended.status).toBe(200);
    try {
      // zz-alpha is suspended already: neither it nor what is below it loses access again.
      expect(await impact([alpha.id])).toEqual({
        accounts: 0,
        resellers: 0,
        customers: 0,
        users: 0,
      });
      expect(await impact([world.R1.id, alpha.id])).toEqual({
        accounts: 1,
        resellers: r1.resellers - 1 - underAlpha.resellers,
        customers: r1.customers - underAlpha.customers,
        users: r1.users - underAlpha.users,
      });
    } finally {
      await admin.patch(`/resellers/${alpha.id}`, {
        version: suspended.body.version,
        status: 'active',
      });
    }
  });

  it('withholds the count of each kind the caller may not read', async () => {
    // May suspend R1's resellers and customers, and read customers: nothing else.
    const em = suite.orm.em.fork();
    const narrow = await addGroup(em, world.C1, 'Suspends only', [
      'customers:read',
      'customers:update',
      'resellers:update',
    ]);
    const email = 'suspends-only@lists.test';
    await addUser(em, { account: world.R1, group: narrow, email, password: PASSWORD });
    const suspender = await apiClient(suite.server.url, email, PASSWORD);
    const alpha = (await admin.get('/resellers?q=zz-alpha')).body.items[0];
    const kilo = await em.findOneOrFail(Account, { name: 'Kilo One' });

    const asAdmin = await admin.post('/resellers/bulk/impact', { ids: [alpha.id] });
    expect(asAdmin.body).toMatchObject({ accounts: 1, resellers: expect.any(Number) });
    const resellers = await suspender.post('/resellers/bulk/impact', { ids: [alpha.id] });
    expect(resellers.status).toBe(200);
    expect(resellers.body).toEqual({
      accounts: 1,
      resellers: null,
      customers: asAdmin.body.customers,
      users: null,
    });
    const customers = await suspender.post('/customers/bulk/impact', { ids: [kilo.id] });
    // Nothing is below a customer: no count of resellers withheld there.
    expect(customers.body).toEqual({ accounts: 1, resellers: 0, customers: 0, users: null });
  });

  it('is 404 when any one is out of scope or of the other kind, and 400 naming `ids`', async () => {
    const november = await suite.orm.em.fork().findOneOrFail(Account, { name: 'November Two' });
    const kilo = await suite.orm.em.fork().findOneOrFail(Account, { name: 'Kilo One' });
    expect(
      (await r1User.post('/customers/bulk/impact', { ids: [kilo.id, november.id] })).status,
    ).toBe(404);
    expect((await admin.post('/resellers/bulk/impact', { ids: [kilo.id] })).status).toBe(404);
    expect((await admin.post('/resellers/bulk/impact', { ids: [world.C2R.id] })).status).toBe(404);
    const empty = await admin.post('/resellers/bulk/impact', { ids: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.fields).toHaveProperty('ids');
  });
});

describe('bulk assign', () => {
  it('assigns a card to several accounts; any refusal writes nothing', async () => {
    const card = await admin.post('/cards', {
      name: 'Bulk Card',
      currency: 'EUR',
      kind: 'customer',
    });
    expect(card.status).toBe(201);
    const em = suite.orm.em.fork();
    const refused = await admin.post('/assignments/bulk', {
      cardId: card.body.id,
      accountIds: [world.R1.id, world.C2R.id],
    });
    expect(refused.status).toBe(404);
    expect(await em.count(CardAssignment, { card: card.body.id })).toBe(0);

    const done = await admin.post('/assignments/bulk', {
      cardId: card.body.id,
      accountIds: [world.R1.id, world.R2.id],
    });
    expect(done.status).toBe(200);
    expect(done.body.items).toHaveLength(2);
    const again = await admin.post('/assignments/bulk', {
      cardId: card.body.id,
      accountIds: [world.R2.id],
    });
    expect(again.status).toBe(200);
    expect(again.body.items[0].id).toBe(done.body.items[1].id);
    expect(await suite.orm.em.fork().count(CardAssignment, { card: card.body.id })).toBe(2);
  });
});

describe('CSV export', () => {
  it('writes the list in scope, sorted, with raw decimal strings', async () => {
    const em = suite.orm.em.fork();
    const lima = await em.findOneOrFail(Account, { name: 'Lima One' });
    const edit = await r1User.patch(`/customers/${lima.id}`, {
      version: lima.version,
      creditLimit: '1234.5',
    });
    expect(edit.status).toBe(200);
    const csv = await r1User.raw('GET', '/customers/export?sort=-name');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,name,email,parentId,parentName,status,currency,creditLimit,balance,createdAt',
    );
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual([
      'Mike One',
      'Lima One',
      'Kilo One',
    ]);
    const limaLine = lines.find((line) => line.includes('Lima One'))!.split(',');
    expect(limaLine[6]).toBe('EUR');
    expect(limaLine[7]).toBe('1234.500000');
    expect(limaLine[8]).toBe('0.000000');
    expect(csv.text).not.toContain('Two');
  });
});

describe('CSV export, while the list changes', () => {
  it('writes each row once, where it stood when the export began', async () => {
    const em = suite.orm.em.fork();
    const me = await em.findOneOrFail(User, { email: 'r1@lists.test' });
    const actor = await resolveActor(em, { userId: me.id, sessionVersion: me.sessionVersion });
    const before = (await r1User.get('/customers?sort=name&limit=100')).body.items as {
      id: string;
      name: string;
    }[];
    expect(before.length).toBeGreaterThan(2);
    // One row a batch; the stream reads one batch ahead of its reader.
    const reader = exportSubAccounts(
      suite.orm.em.fork(),
      actor!,
      'customer',
      { sort: 'name' },
      // Paging is what this reads; its reader's access stays (assertStillAdmitted's own test).
      { batch: 1, stillAllowed: async () => {} },
    ).getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (let chunk = 0; chunk < 2; chunk++) text += decoder.decode((await reader.read()).value);
    // The first row renamed past the last while the export runs.
    const first = await em.findOneOrFail(Account, { id: before[0]!.id });
    const renamed = await r1User.patch(`/customers/${first.id}`, {
      version: first.version,
      name: 'Zz renamed mid-export',
    });
    expect(renamed.status).toBe(200);
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      text += decoder.decode(next.value);
    }
    const ids = text
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((line) => line.split(',')[0]);
    expect(ids).toEqual(before.map((row) => row.id));
    const restored = await em.fork().findOneOrFail(Account, { id: first.id });
    expect(
      (
        await r1User.patch(`/customers/${first.id}`, {
          version: restored.version,
          name: before[0]!.name,
        })
      ).status,
    ).toBe(200);
  });
});

describe('CSV export, memory', () => {
  it('keeps no account of its batches in the request’s context: a long export stays flat', async () => {
    const em = suite.orm.em.fork();
    const me = await em.findOneOrFail(User, { email: ADMIN.email });
    const actor = await resolveActor(em, { userId: me.id, sessionVersion: me.sessionVersion });
    const context = suite.orm.em.fork();
    const reader = exportSubAccounts(
      context,
      actor!,
      'customer',
      {},
      {
        stillAllowed: async () => {},
      },
    ).getReader();
    let lines = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      lines += new TextDecoder().decode(chunk.value).split('\r\n').length - 1;
    }
    // Every customer in the carrier's scope written, none of them held afterwards.
    expect(lines - 1).toBe(
      await em.count(Account, { kind: 'customer', path: belowFilter(actor!.account.path) }),
    );
    expect(lines - 1).toBeGreaterThan(0);
    expect(context.getUnitOfWork().getIdentityMap().keys()).toEqual([]);
  });
});

describe('assignments list', () => {
  it('names the card and the account, sorts by either, and follows a rename', async () => {
    const zulu = await admin.post('/cards', { name: 'zz-Zulu', currency: 'EUR', kind: 'customer' });
    const yankee = await admin.post('/cards', {
      name: 'zz-Yankee',
      currency: 'EUR',
      kind: 'customer',
    });
    for (const [card, accounts] of [
      [zulu, [world.R1, world.R2]],
      [yankee, [world.R1]],
    ] as const) {
      const done = await admin.post('/assignments/bulk', {
        cardId: card.body.id,
        accountIds: accounts.map((account) => account.id),
      });
      expect(done.status).toBe(200);
    }
    const byAccount = await allPages(
      admin,
      `/assignments?cardId=${zulu.body.id}&sort=-accountName&limit=1`,
    );
    expect(byAccount.totals).toEqual([2, 2]);
    expect(
      byAccount.items.map((item) => (item as unknown as { accountName: string }).accountName),
    ).toEqual(['Reseller Two', 'Reseller One']);
    const held = await allPages(
      admin,
      `/assignments?accountId=${world.R1.id}&sort=cardName&limit=1`,
    );
    const cardNames = held.items.map((item) => (item as unknown as { cardName: string }).cardName);
    expect(cardNames).toEqual([...cardNames].sort());
    expect(cardNames).toEqual(expect.arrayContaining(['zz-Yankee', 'zz-Zulu']));
    expect(new Set(held.totals)).toEqual(new Set([cardNames.length]));

    // The names are read with the list: a rename shows at the next read.
    const renamed = await admin.patch(`/cards/${yankee.body.id}`, {
      version: yankee.body.version,
      name: 'zz-Xray',
    });
    expect(renamed.status).toBe(200);
    const again = await admin.get(`/assignments?cardId=${yankee.body.id}`);
    expect(again.body.items[0]).toMatchObject({
      cardName: 'zz-Xray',
      cardCurrency: 'EUR',
      accountName: 'Reseller One',
    });
  });

  it('gives an assignee every card assigned to it, and only those (`relation`)', async () => {
    const assigned = await r1User.get('/cards?relation=assigned&limit=1');
    expect(assigned.status).toBe(200);
    // Bulk Card, zz-Xray (was zz-Yankee) and zz-Zulu: all the carrier's, assigned to R1.
    expect(assigned.body.total).toBe(3);
    expect(assigned.body.items[0].relation).toBe('assigned');
    const own = await r1User.post('/cards', {
      name: 'zz-R1 Own',
      currency: 'EUR',
      kind: 'customer',
    });
    expect(own.status).toBe(201);
    expect((await r1User.get('/cards?relation=assigned')).body.total).toBe(3);
    const owned = await r1User.get('/cards?relation=owner');
    expect(owned.body.items.map((card: { name: string }) => card.name)).toEqual(['zz-R1 Own']);
    expect((await admin.get('/cards?relation=assigned')).body.total).toBe(0);
    const bad = await r1User.get('/cards?relation=mine');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('relation');
  });

  it('refuses an unknown sort (400 naming `sort`) and a cursor of another sort', async () => {
    const bad = await admin.get('/assignments?sort=exclusive');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('sort');
    const byCard = await admin.get(`/assignments?accountId=${world.R1.id}&sort=cardName&limit=1`);
    const mixed = await admin.get(
      `/assignments?accountId=${world.R1.id}&sort=accountName&cursor=${byCard.body.nextCursor}`,
    );
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.fields).toHaveProperty('cursor');
  });
});

describe('audit list', () => {
  type TEntry = { seq: number; resource: string };
  async function auditPages(client: TApiClient, path: string) {
    const pages = await allPages(client, path);
    return { entries: pages.items as unknown as TEntry[], totals: pages.totals };
  }

  it('counts the trail in the caller’s scope over every page', async () => {
    const all = await auditPages(admin, '/audit?limit=7');
    expect(new Set(all.totals)).toEqual(new Set([all.entries.length]));
    const own = await auditPages(r1User, '/audit?limit=7');
    expect(new Set(own.totals)).toEqual(new Set([own.entries.length]));
    expect(own.entries.length).toBeGreaterThan(0);
    expect(own.entries.length).toBeLessThan(all.entries.length);
    const cards = await admin.get('/audit?resource=cards&limit=1');
    expect(cards.body.total).toBe(all.entries.filter((entry) => entry.resource === 'cards').length);
  });

  it('sorts by time either way and by resource, the cursor keeping the order', async () => {
    const newest = (await auditPages(admin, '/audit?limit=5')).entries.map((entry) => entry.seq);
    const oldest = (await auditPages(admin, '/audit?sort=at&limit=5')).entries.map(
      (entry) => entry.seq,
    );
    expect(oldest).toEqual([...newest].reverse());
    const byResource = (await auditPages(admin, '/audit?sort=resource&limit=3')).entries;
    expect(byResource).toHaveLength(newest.length);
    const order = (a: TEntry, b: TEntry) =>
      a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : b.seq - a.seq;
    expect(byResource).toEqual([...byResource].sort(order));
    const back = (await auditPages(admin, '/audit?sort=-resource&limit=4')).entries;
    expect(back.map((entry) => entry.resource)).toEqual(
      byResource.map((entry) => entry.resource).reverse(),
    );
  });

  it('refuses an unknown sort (400 naming `sort`) and a cursor of another sort', async () => {
    const bad = await admin.get('/audit?sort=actor');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('sort');
    const byResource = await admin.get('/audit?sort=resource&limit=1');
    const mixed = await admin.get(`/audit?cursor=${byResource.body.nextCursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.fields).toHaveProperty('cursor');
    expect((await admin.get('/audit?cursor=12')).status).toBe(400);
  });
});

describe('groups assignable to an account (the Add-user picker)', () => {
  it('lists what the viewer may give a user of that account, searched and counted', async () => {
    const own = await r1User.post('/groups', {
      name: 'zz-R1 Support',
      grants: ['customers:read'],
    });
    expect(own.status).toBe(201);
    const names = async (client: TApiClient, accountId: string, q = '') => {
      const page = await client.get(`/groups?assignableTo=${accountId}&limit=500${q}`);
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(page.body.items.length);
      return page.body.items.map((group: { name: string }) => group.name) as string[];
    };
    // R1's own group and the carrier's Default Reseller (held whole by R1's user).
    expect(await names(r1User, world.R1.id)).toEqual(
      expect.arrayContaining(['zz-R1 Support', 'Default Reseller']),
    );
    // Not for R2: a group of R1 is not above R2.
    expect(await names(admin, world.R2.id)).not.toContain('zz-R1 Support');
    expect(await names(admin, world.R1.id)).toContain('zz-R1 Support');
    // A group holding more than the viewer is never offered (no escalation).
    const carrierAdmin = await admin.get('/groups?limit=500');
    const wider = carrierAdmin.body.items.filter(
      (group: { accountId: string; grants: string[] }) =>
        group.accountId === world.C1.id && group.grants.length > DEFAULT_RESELLER_GRANTS.length,
    );
    expect(wider.length).toBeGreaterThan(0);
    const offered = await names(r1User, world.R1.id);
    for (const group of wider) expect(offered).not.toContain(group.name);
    expect(await names(r1User, world.R1.id, '&q=support')).toEqual(['zz-R1 Support']);
  });

  it('pages every group once in each sort, counted the same on every page', async () => {
    // Paged in the database (a reseller may make any number of groups): ties on the
    // sort key broken by id, a name with LIKE's wildcards searched as written.
    for (const name of ['zz-page a', 'zz-page b', 'zz-page_c', 'zz-page%d', 'zz-page e']) {
      expect((await r1User.post('/groups', { name, grants: ['customers:read'] })).status).toBe(201);
    }
    const whole = await admin.get('/groups?limit=500');
    const everyId = (whole.body.items as { id: string }[]).map((group) => group.id).sort();
    for (const sort of ['', '&sort=name', '&sort=-name', '&sort=createdAt', '&sort=-createdAt']) {
      const { items, totals } = await allPages(admin, `/groups?limit=3${sort}`);
      expect(items.map((group) => group.id).sort(), sort).toEqual(everyId);
      expect(new Set(totals), sort).toEqual(new Set([everyId.length]));
      if (sort.includes('name')) {
        const names = items.map((group) => group.name);
        const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(names, sort).toEqual(sort.includes('-') ? sorted.reverse() : sorted);
      }
    }
    const searched = await allPages(r1User, '/groups?limit=2&q=zz-page_');
    expect(searched.items.map((group) => group.name)).toEqual(['zz-page_c']);
    const percent = await r1User.get('/groups?q=page%25d');
    expect(percent.body.items.map((group: { name: string }) => group.name)).toEqual(['zz-page%d']);
    expect(percent.body.total).toBe(1);
  });

  it('is 404 for an account outside scope; a customer’s are its own and its parents’', async () => {
    expect((await r1User.get(`/groups?assignableTo=${world.R2.id}`)).status).toBe(404);
    expect((await admin.get(`/groups?assignableTo=${world.C2R.id}`)).status).toBe(404);
    // Customers hold users too (issue 19, customer self-care): groups of the customer or
    // an account above it, and never one the viewer could not hand out.
    const em = suite.orm.em.fork();
    const customer = await em.findOneOrFail(Account, { name: 'Kilo One' });
    const forCustomer = await r1User.get(`/groups?assignableTo=${customer.id}&limit=500`);
    expect(forCustomer.status).toBe(200);
    expect(forCustomer.body.items.length).toBeGreaterThan(0);
    // Its own side's groups name their account; an ancestor's come use-only, unnamed.
    for (const group of forCustomer.body.items as { accountId?: string; useOnly: boolean }[]) {
      expect(group.useOnly || customer.path.split('/').includes(group.accountId!)).toBe(true);
    }
    const bad = await admin.get('/groups?assignableTo=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('assignableTo');
  });
});
