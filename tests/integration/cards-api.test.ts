import { beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { TPresence } from '@/lib/shared/live/presence';
import { deriveTerms, marginCheck } from '@/lib/shared/pricing/markup';
import { callPrice } from '@/lib/shared/pricing/billing';
import { money } from '@/lib/shared/pricing/money';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { ASSIGNEE_VIEW_KEYS } from '../fixtures/cards';
import { listenAs } from '../fixtures/cookie-listener';

/**
 * Rate cards over the real API and sockets (DESIGN §1 "Rate cards", §3): master and
 * reseller mode, derive and its recompute on parent edits, margin flags and alerts,
 * assignment rules, assignee projections (REST and live), CSV import/export, lookup,
 * transfer. Expected prices come from the pricing core (lib/shared/pricing), not from
 * the SQL that computes them on the server.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'cards-api-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
const ids = {} as Record<'C' | 'R1' | 'R1a' | 'R2' | 'K0' | 'K1' | 'K2', string>;

const BUY_RATES = [
  { prefix: '44', destination: 'UK', rate: '0.0200' },
  { prefix: '441', destination: 'UK geographic', rate: '0.0400', connectionFee: '0.0100' },
  {
    prefix: '441481',
    destination: 'Guernsey',
    rate: '0.1500',
    initialIncrement: 30,
    increment: 6,
  },
  { prefix: '33', destination: 'France', rate: '0.0123', initialIncrement: 1, increment: 1 },
];

const listen = (client: TApiClient) => listenAs(suite.server.url, client);

async function until(check: () => boolean, what: string) {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function allRates(client: TApiClient, cardId: string) {
  const rows: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const page: {
      status: number;
      body: { items: Record<string, unknown>[]; nextCursor: string | null };
    } = await client.get(`/cards/${cardId}/rates?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    rows.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return rows;
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@x.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@x.test' })).body.id;
  ids.R1a = (
    await admin.post('/resellers', { name: 'R1a', email: 'a@x.test', parentId: ids.R1 })
  ).body.id;
  ids.K0 = (await admin.post('/customers', { name: 'K0' })).body.id;
  ids.K1 = (await admin.post('/customers', { name: 'K1', parentId: ids.R1 })).body.id;
  ids.K2 = (await admin.post('/customers', { name: 'K2', parentId: ids.R2 })).body.id;
  for (const [email, accountId] of [
    ['ops@r1.test', ids.R1],
    ['ops@r2.test', ids.R2],
  ] as const) {
    const made = await admin.post('/users', {
      email,
      password: PASSWORD,
      accountId,
      groupId: group.id,
    });
    expect(made.status).toBe(201);
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.test', PASSWORD);
});

describe('cards, rates and derive (master mode)', () => {
  const card = {} as Record<'P' | 'S' | 'D', { id: string; version: number }>;

  it('creates a provider card and validates it', async () => {
    const bad = await admin.post('/cards', {
      name: '',
      currency: 'euro',
      kind: 'upstream',
      decimals: 9,
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual([
      'currency',
      'decimals',
      'kind',
      'name',
    ]);
    const made = await admin.post('/cards', {
      name: 'Upstream A',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      relation: 'owner',
      currency: 'EUR',
      kind: 'provider',
      decimals: 4,
      rounding: 'half_up',
      ownerId: ids.C,
      parentId: null,
      markup: null,
      rateCount: 0,
    });
    card.P = made.body;
  });

  it('PUT replaces the rate set; bad rows name their field and nothing is written', async () => {
    const bad = await admin.put(`/cards/${card.P.id}/rates`, {
      rates: [
        { prefix: '44', destination: 'UK', rate: 0.02 },
        { prefix: '4a', destination: 'X', rate: '0.01' },
        { prefix: '45', destination: 'Y', rate: '0.012345' },
        { prefix: '46', destination: 'Z', rate: '0.01' },
        { prefix: '46', destination: 'Z again', rate: '0.01' },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty(['rates.0.rate']);
    expect(bad.body.error.fields).toHaveProperty(['rates.1.prefix']);
    // Zod stops at the schema; precision and repeats are checked against the card next.
    const finer = await admin.put(`/cards/${card.P.id}/rates`, {
      rates: [
        { prefix: '45', destination: 'Y', rate: '0.012345' },
        { prefix: '46', destination: 'Z', rate: '0.01' },
        { prefix: '46', destination: 'Z again', rate: '0.01' },
      ],
    });
    expect(finer.status).toBe(400);
    expect(finer.body.error.fields['rates.0.rate']).toMatch(/4/);
    expect(finer.body.error.fields['rates.2.prefix']).toBe('repeats rates.1');
    expect((await admin.get(`/cards/${card.P.id}/rates`)).body.items).toEqual([]);

    const put = await admin.put(`/cards/${card.P.id}/rates`, { rates: BUY_RATES });
    expect(put.status).toBe(200);
    expect(put.body.rows).toBe(4);
    expect(put.body.card.rateCount).toBe(4);
    expect(put.body.card.version).toBeGreaterThan(card.P.version);
    const rows = await allRates(admin, card.P.id);
    expect(rows.map((row) => row.prefix)).toEqual(['33', '44', '441', '441481']);
    expect(rows[3]).toMatchObject({
      rate: '0.1500',
      connectionFee: '0.0000',
      initialIncrement: 30,
      increment: 6,
      graceSeconds: 0,
      effectiveFrom: null,
      blocked: false,
    });
    const search = await admin.get(`/cards/${card.P.id}/rates?prefix=441`);
    expect(search.body.items.map((row: { prefix: string }) => row.prefix)).toEqual([
      '441',
      '441481',
    ]);
  });

  it('derives a customer card that follows the markup, overrides and rounding', async () => {
    const bad = await admin.post(`/cards/${card.P.id}/derive`, {
      name: 'Retail',
      markupPercent: 20,
      overrides: [{ prefix: '999', rate: '0.01' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('markupPercent');
    // A negative markup is refused saying what a markup may be, not only its format.
    const negative = await admin.post(`/cards/${card.P.id}/derive`, {
      name: 'Retail',
      markupPercent: '-10',
    });
    expect(negative.status).toBe(400);
    expect(negative.body.error.fields.markupPercent).toBe(
      'must be a percentage from 0 to 1000, such as "20" (up to 6 decimals)',
    );
    const missing = await admin.post(`/cards/${card.P.id}/derive`, {
      name: 'Retail',
      overrides: [{ prefix: '999', rate: '0.01' }],
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.fields['overrides.0.prefix']).toBe(
      'is not a prefix of the parent card',
    );

    const made = await admin.post(`/cards/${card.P.id}/derive`, {
      name: 'Retail',
      markupPercent: '20',
      markupFixed: '0.001',
      rounding: 'up',
      overrides: [{ prefix: '441', rate: '0.0450' }],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      kind: 'customer',
      parentId: card.P.id,
      currency: 'EUR',
      rounding: 'up',
      markup: { percent: '20', fixed: '0.001', overrides: [{ prefix: '441', rate: '0.045' }] },
      rateCount: 4,
      losingRates: 0,
    });
    card.S = made.body;
    await expectFollows(
      card.S.id,
      card.P.id,
      { markupPercent: '20', markupFixed: '0.001' },
      { '441': '0.0450' },
    );
  });

  it('PUT takes a carrier-sized card as JSON: 30,000 rows, past the 1 MB other bodies get', async () => {
    const big = await admin.post('/cards', { name: 'Big deck', currency: 'EUR', kind: 'provider' });
    expect(big.status).toBe(201);
    const rates = Array.from({ length: 30_000 }, (_, index) => ({
      prefix: String(100_000 + index),
      destination: `Destination ${index}`,
      rate: '0.0123',
    }));
    const body = JSON.stringify({ rates });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1_000_000);
    const put = await admin.put(`/cards/${big.body.id}/rates`, { rates });
    expect(put.status, JSON.stringify(put.body).slice(0, 300)).toBe(200);
    expect(put.body.rows).toBe(30_000);
    expect(put.body.card.rateCount).toBe(30_000);
  });

  it('recomputes derived cards with the parent, one rates_changed row per card, and alerts on new losses', async () => {
    // R1 holds S and derives its own card from it: three levels.
    const assigned = await admin.post('/assignments', { cardId: card.S.id, accountId: ids.R1 });
    expect(assigned.status).toBe(201);
    const derived = await r1.post(`/cards/${card.S.id}/derive`, {
      name: 'R1 retail',
      markupPercent: '10',
    });
    expect(derived.status).toBe(201);
    card.D = derived.body;

    const edited = BUY_RATES.map((row) =>
      row.prefix === '441' ? { ...row, rate: '0.0600' } : row,
    );
    const put = await admin.put(`/cards/${card.P.id}/rates`, { rates: edited });
    expect(put.status).toBe(200);
    await expectFollows(
      card.S.id,
      card.P.id,
      { markupPercent: '20', markupFixed: '0.001' },
      { '441': '0.0450' },
    );
    await expectFollows(card.D.id, card.S.id, { markupPercent: '10' }, {});

    const s = (await admin.get(`/cards/${card.S.id}`)).body;
    expect(s.losingRates).toBe(1);
    const flagged = await admin.get(`/cards/${card.S.id}/rates?losing=true`);
    expect(flagged.body.items.map((row: { prefix: string }) => row.prefix)).toEqual(['441']);
    const margin = await admin.get(`/cards/${card.S.id}/margin`);
    expect(margin.status).toBe(200);
    expect(margin.body.total).toBe(1);
    expect(margin.body.items[0]).toMatchObject({ prefix: '441' });
    expect(
      margin.body.items[0].samples.map((sample: { seconds: number }) => sample.seconds),
    ).toEqual([1, 6, 30, 60, 180]);
    // Sold at 0.0450 over a buy of 0.0600: every call loses, more the longer it is.
    expect(margin.body.items[0]).toMatchObject({
      sellsBelowBuyRate: true,
      firstLosingSeconds: 1,
      worstLossSeconds: expect.any(Number),
    });
    expect(Number(margin.body.items[0].worstLoss)).toBeGreaterThan(0);

    // The log of that one PUT: one rates_changed per card, a margin alert for S only.
    const rows = await suite.orm.em
      .fork()
      .getConnection()
      .execute<{ entity_id: string; event: string; n: string }[]>(
        `select entity_id, summary->>'event' as event, count(*) as n from change_log
        where txid = (select txid from change_log where entity_id = ? and summary->>'event' = 'rates_changed' order by seq desc limit 1)
        group by entity_id, summary->>'event'`,
        [card.P.id],
      );
    const byCard = Object.fromEntries(
      rows.map((row) => [`${row.entity_id}:${row.event}`, Number(row.n)]),
    );
    expect(byCard).toEqual({
      [`${card.P.id}:rates_changed`]: 1,
      [`${card.S.id}:rates_changed`]: 1,
      [`${card.S.id}:margin_alert`]: 1,
      [`${card.D.id}:rates_changed`]: 1,
    });
  });

  it('never hides a dearer longer buy prefix behind a cheaper shorter sell one', async () => {
    // S overrides 441 cheaply; the parent charges more for 441481 — S has that row too.
    expect(
      (await admin.post('/assignments', { cardId: card.S.id, accountId: ids.K0 })).status,
    ).toBe(201);
    const trace = await admin.get(`/rates/lookup?accountId=${ids.K0}&number=441481555123`);
    expect(trace.status).toBe(200);
    expect(
      trace.body.levels.map((level: { cardId: string; prefix: string }) => [
        level.cardId,
        level.prefix,
      ]),
    ).toEqual([
      [card.P.id, '441481'],
      [card.S.id, '441481'],
    ]);
    const [buy, sell] = trace.body.levels;
    expect(money(sell.amount).greaterThanOrEqualTo(buy.amount)).toBe(true);
    const shorter = await admin.get(`/rates/lookup?accountId=${ids.K0}&number=4412000`);
    expect(shorter.body.levels.map((level: { prefix: string }) => level.prefix)).toEqual([
      '441',
      '441',
    ]);
    expect(shorter.body.levels[1]).toMatchObject({ rate: '0.0450' });
  });

  it('keeps dependants: 409 listing them, nothing deleted', async () => {
    const deleteP = await admin.del(`/cards/${card.P.id}`);
    expect(deleteP.status).toBe(409);
    expect(deleteP.body.error.dependants).toEqual([
      { resource: 'cards', id: card.S.id, name: 'Retail' },
    ]);
    const assignment = (await admin.get(`/assignments?cardId=${card.S.id}&accountId=${ids.R1}`))
      .body.items[0];
    const unassign = await admin.del(`/assignments/${assignment.id}`);
    expect(unassign.status).toBe(409);
    expect(unassign.body.error.dependants).toEqual([
      { resource: 'cards', id: card.D.id, name: 'R1 retail' },
    ]);
    const derivedPut = await r1.put(`/cards/${card.D.id}/rates`, { rates: BUY_RATES });
    expect(derivedPut.status).toBe(409);
    expect(derivedPut.body.error.code).toBe('derived_card');
    expect((await admin.get(`/cards/${card.S.id}`)).status).toBe(200);
  });

  it('shows an assignee only name, currency and rates — over REST and live', async () => {
    const r1Live = await listen(r1);
    const r2Live = await listen(r2);
    try {
      const seen = (await r1.get(`/cards/${card.S.id}`)).body;
      expect(Object.keys(seen).sort()).toEqual([...ASSIGNEE_VIEW_KEYS].sort());
      expect(seen).toMatchObject({ relation: 'assigned', kind: 'provider' });
      const list = await r1.get('/cards?kind=provider');
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([card.S.id]);
      const rates = await r1.get(`/cards/${card.S.id}/rates`);
      expect(rates.status).toBe(200);
      for (const row of rates.body.items) {
        expect(row).not.toHaveProperty('losing');
        expect(row).not.toHaveProperty('overridden');
      }
      // Its margin is the owner's to read (it compares with the cost above): refused, and
      // the holder told why rather than that the card it sees does not exist.
      const margin = await r1.get(`/cards/${card.S.id}/margin`);
      expect([margin.status, margin.body.error.code]).toEqual([403, 'assigned_card']);
      expect((await r1.get(`/cards/${card.P.id}`)).status).toBe(404);
      expect((await r1.get(`/assignments?cardId=${card.S.id}`)).body.items).toEqual([]);
      expect((await r2.get(`/cards/${card.S.id}`)).status).toBe(404);
      expect((await r2.get(`/cards/${card.S.id}/rates`)).status).toBe(404);

      // Live: a parent edit, a new assignment to R2, a rename.
      const edited = BUY_RATES.map((row) =>
        row.prefix === '33' ? { ...row, rate: '0.0130' } : row,
      );
      expect((await admin.put(`/cards/${card.P.id}/rates`, { rates: edited })).status).toBe(200);
      const second = await admin.post(`/cards/${card.P.id}/derive`, {
        name: 'Wholesale',
        markupPercent: '5',
      });
      expect(
        (await admin.post('/assignments', { cardId: second.body.id, accountId: ids.R2 })).status,
      ).toBe(201);
      await until(
        () => r1Live.received.some((e) => e.type === 'cards.rates_changed' && e.id === card.S.id),
        'R1 to hear of S',
      );
      await until(
        () => r2Live.received.some((e) => e.type === 'cards.added'),
        'R2 to receive its card',
      );

      for (const envelope of r1Live.received.filter((e) => e.id === card.S.id)) {
        expect(envelope.data).not.toHaveProperty('parentId');
        expect(envelope.data).not.toHaveProperty('markup');
        expect(envelope.data).not.toHaveProperty('losingRates');
        expect(envelope.summary ?? {}).not.toHaveProperty('losing');
        expect(envelope.summary ?? {}).not.toHaveProperty('audience');
        expect(envelope.type).not.toBe('cards.margin_alert');
      }
      // R1 hears about its own derived card in full (it owns it), never about P or R2's card.
      expect(r1Live.received.some((e) => e.id === card.P.id || e.id === second.body.id)).toBe(
        false,
      );
      const added = r2Live.received.find((e) => e.type === 'cards.added')!;
      expect(added.id).toBe(second.body.id);
      expect(added.data).toMatchObject({
        relation: 'assigned',
        name: 'Wholesale',
        kind: 'provider',
      });
      expect(added.data).not.toHaveProperty('parentId');
      expect(
        r2Live.received.some((e) => e.id === card.S.id || e.id === card.D.id || e.id === card.P.id),
      ).toBe(false);
    } finally {
      r1Live.socket.disconnect();
      r2Live.socket.disconnect();
    }
  });

  it('presence on a card: each holder account has its own room, an outsider is refused', async () => {
    // A second person at R1, and S held by R2 too for the length of this test.
    const me = (await r1.get('/me')).body;
    expect(
      (
        await r1.post('/users', {
          email: 'ops2@r1.test',
          password: PASSWORD,
          accountId: ids.R1,
          groupId: me.group.id,
        })
      ).status,
    ).toBe(201);
    const r1b = await apiClient(suite.server.url, 'ops2@r1.test', PASSWORD);
    const people = { admin, r1, r1b, r2 };
    const live = Object.fromEntries(
      await Promise.all(Object.entries(people).map(async ([name, c]) => [name, await listen(c)])),
    ) as Record<keyof typeof people, Awaited<ReturnType<typeof listen>>>;
    const seen: Record<string, TPresence[]> = { admin: [], r1: [], r1b: [], r2: [] };
    for (const [name, { socket }] of Object.entries(live)) {
      socket.on('presence', (presence: TPresence) => seen[name]!.push(presence));
    }
    const join = (socket: Socket) =>
      new Promise<{ ok: boolean; error?: { code: string } }>((resolve) =>
        socket.emit('presence:join', { topic: `cards:${card.S.id}` }, resolve),
      );
    const last = (name: string) => seen[name]!.at(-1)?.members ?? [];
    let assignment: string | undefined;
    try {
      // Not a holder yet: it cannot even learn that the card exists.
      expect(await join(live.r2.socket)).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
      const assigned = await admin.post('/assignments', { cardId: card.S.id, accountId: ids.R2 });
      expect(assigned.status).toBe(201);
      assignment = assigned.body.id;
      for (const name of ['admin', 'r1', 'r1b', 'r2'] as const) {
        expect(await join(live[name].socket), name).toEqual({ ok: true });
      }
      await until(
        () => last('r1').length === 2 && last('r1b').length === 2 && last('r2').length === 1,
        'each side to see its own room',
      );
      // R1's two people see each other (named: they may read their own users); R2 and
      // the carrier see only themselves — and no holder ever hears of another.
      expect(last('r1').map((m) => m.actor)).toContainEqual(
        expect.objectContaining({ kind: 'user', email: 'ops2@r1.test' }),
      );
      expect(last('admin').map((m) => m.you)).toEqual([true]);
      expect(last('r2').map((m) => m.you)).toEqual([true]);
      const heard = (name: string) => JSON.stringify(seen[name]);
      for (const name of ['r1', 'r1b']) {
        expect(heard(name)).not.toContain('ops@r2.test');
        expect(heard(name)).not.toContain('"R2"');
        expect(heard(name)).not.toContain(ADMIN.email);
      }
      expect(heard('r2')).not.toContain('r1.test');
      expect(heard('r2')).not.toContain('"R1"');
    } finally {
      for (const { socket } of Object.values(live)) socket.disconnect();
      if (assignment) expect((await admin.del(`/assignments/${assignment}`)).status).toBe(204);
    }
  });

  it('presence on a group above: each account that may only give it out has its own room', async () => {
    // The carrier's Default Reseller, which R1's and R2's people hold and may give out.
    const me = (await r1.get('/me')).body;
    const second = { email: 'ops3@r1.test', password: PASSWORD, accountId: ids.R1 };
    expect((await r1.post('/users', { ...second, groupId: me.group.id })).status).toBe(201);
    const r1b = await apiClient(suite.server.url, second.email, PASSWORD);
    const people = { admin, r1, r1b, r2 };
    const live = Object.fromEntries(
      await Promise.all(Object.entries(people).map(async ([name, c]) => [name, await listen(c)])),
    ) as Record<keyof typeof people, Awaited<ReturnType<typeof listen>>>;
    const seen: Record<string, TPresence[]> = { admin: [], r1: [], r1b: [], r2: [] };
    for (const [name, { socket }] of Object.entries(live)) {
      socket.on('presence', (presence: TPresence) => seen[name]!.push(presence));
    }
    const last = (name: string) => seen[name]!.at(-1)?.members ?? [];
    try {
      for (const name of ['admin', 'r1', 'r1b', 'r2'] as const) {
        const joined = await new Promise((resolve) =>
          live[name].socket.emit('presence:join', { topic: `groups:${me.group.id}` }, resolve),
        );
        expect(joined, name).toEqual({ ok: true });
      }
      await until(
        () =>
          last('r1').length === 2 &&
          last('r1b').length === 2 &&
          last('r2').length === 1 &&
          last('admin').length === 1,
        'each account to see its own room',
      );
      expect(last('r2').map((m) => m.you)).toEqual([true]);
      expect(last('admin').map((m) => m.you)).toEqual([true]);
      const heard = (name: string) => JSON.stringify(seen[name]);
      for (const name of ['r1', 'r1b']) {
        expect(heard(name)).not.toContain('"R2"');
        expect(heard(name)).not.toContain('r2.test');
      }
      expect(heard('r2')).not.toContain('"R1"');
      expect(heard('r2')).not.toContain('r1.test');
    } finally {
      for (const { socket } of Object.values(live)) socket.disconnect();
    }
  });

  /** Every child row equals the pricing core's markup of the parent row. */
  async function expectFollows(
    childId: string,
    parentId: string,
    markup: { markupPercent?: string; markupFixed?: string },
    overrides: Record<string, string>,
  ) {
    const child = (await admin.get(`/cards/${childId}`)).body;
    const parent = (await admin.get(`/cards/${parentId}`)).body;
    const parentRows = await allRates(admin, parentId);
    const childRows = await allRates(admin, childId);
    expect(childRows.map((row) => row.prefix)).toEqual(parentRows.map((row) => row.prefix));
    parentRows.forEach((row, index) => {
      const terms = row as unknown as Parameters<typeof deriveTerms>[0];
      const expected = deriveTerms(terms, markup, child, overrides[row.prefix as string]);
      expect(childRows[index]).toMatchObject({
        rate: expected.rate,
        connectionFee: expected.connectionFee,
        initialIncrement: row.initialIncrement,
        increment: row.increment,
        overridden: (row.prefix as string) in overrides,
        losing: marginCheck({ terms, card: parent }, { terms: expected, card: child }).losing,
      });
    });
  }
});

describe('exact margin check (issue 16: rows the sampled check called safe)', () => {
  /** A provider card with `rows`, a card derived from it selling each row at `sell`. */
  async function derivedOver(
    parentCard: { decimals: number; rounding: string },
    childCard: { decimals: number; rounding: string },
    rows: { prefix: string; rate: string; sell: string; [key: string]: unknown }[],
  ) {
    const parent = await admin.post('/cards', {
      name: `Margin buy ${rows[0]!.prefix}`,
      currency: 'EUR',
      kind: 'provider',
      ...parentCard,
    });
    expect(parent.status).toBe(201);
    const rates = rows.map(({ sell: _sell, ...row }) => ({
      destination: `D${row.prefix}`,
      ...row,
    }));
    expect((await admin.put(`/cards/${parent.body.id}/rates`, { rates })).status).toBe(200);
    const child = await admin.post(`/cards/${parent.body.id}/derive`, {
      name: `Margin sell ${rows[0]!.prefix}`,
      ...childCard,
      overrides: rows.map((row) => ({ prefix: row.prefix, rate: row.sell })),
    });
    expect(child.status).toBe(201);
    return child.body as { id: string; losingRates: number };
  }

  it('flags a 30/6 row losing on 37-42 s and a 1/1 row with grace losing on 7-38 s', async () => {
    const card = await derivedOver(
      { decimals: 4, rounding: 'up' },
      { decimals: 4, rounding: 'down' },
      [
        { prefix: '51', rate: '0.0013', sell: '0.0014', initialIncrement: 30, increment: 6 },
        {
          prefix: '52',
          rate: '0.0100',
          sell: '0.0101',
          initialIncrement: 1,
          increment: 1,
          graceSeconds: 6,
        },
        // Enough of a lead that rounding never takes it back: not flagged.
        { prefix: '53', rate: '0.0100', sell: '0.0200', initialIncrement: 1, increment: 1 },
      ],
    );
    expect(card.losingRates).toBe(2);
    const margin = await admin.get(`/cards/${card.id}/margin`);
    expect(margin.status).toBe(200);
    expect(margin.body.items).toMatchObject([
      {
        prefix: '51',
        firstLosingSeconds: 37,
        worstLoss: '0.0001',
        worstLossSeconds: 37,
        sellsBelowBuyRate: false,
      },
      { prefix: '52', firstLosingSeconds: 7, sellsBelowBuyRate: false },
    ]);
  });

  it('refuses an override finer than the card prices to, naming it, as a rate written', async () => {
    const parent = await admin.post('/cards', {
      name: 'Override buy',
      currency: 'EUR',
      kind: 'provider',
      decimals: 6,
    });
    expect(parent.status).toBe(201);
    const rates = [{ prefix: '57', destination: 'D57', rate: '0.010000' }];
    expect((await admin.put(`/cards/${parent.body.id}/rates`, { rates })).status).toBe(200);
    const fine = await admin.post(`/cards/${parent.body.id}/derive`, {
      name: 'Override sell',
      decimals: 4,
      overrides: [{ prefix: '57', rate: '0.123456' }],
    });
    expect(fine.status).toBe(400);
    expect(fine.body.error.fields).toEqual({
      'overrides.0.rate': 'has 6 decimals; the card prices to 4',
    });
    // At the card's precision it is taken.
    const made = await admin.post(`/cards/${parent.body.id}/derive`, {
      name: 'Override sell',
      decimals: 5,
      overrides: [{ prefix: '57', rate: '0.12345' }],
    });
    expect(made.status).toBe(201);
    const finer = await admin.patch(`/cards/${made.body.id}`, {
      version: made.body.version,
      overrides: [{ prefix: '57', rate: '0.123456' }],
    });
    expect(finer.status).toBe(400);
    expect(Object.keys(finer.body.error.fields)).toEqual(['overrides.0.rate']);
    // Nor may the card price coarser than an override it keeps.
    const coarser = await admin.patch(`/cards/${made.body.id}`, {
      version: made.body.version,
      decimals: 4,
    });
    expect(coarser.status).toBe(400);
    expect(Object.keys(coarser.body.error.fields)).toEqual(['overrides.0.rate']);
    // Unless the same edit clears them.
    const cleared = await admin.patch(`/cards/${made.body.id}`, {
      version: made.body.version,
      decimals: 4,
      overrides: null,
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ decimals: 4 });
  });

  it('pages a prefix’s dated rows one by one: no page skips a later row of its prefix', async () => {
    const parent = await admin.post('/cards', {
      name: 'Margin buy dated',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(parent.status).toBe(201);
    const later = '2030-01-01T00:00:00.000Z';
    const rates = [
      { prefix: '55', destination: 'D55', rate: '0.0100' },
      { prefix: '55', destination: 'D55', rate: '0.0200', effectiveFrom: later },
      { prefix: '56', destination: 'D56', rate: '0.0100' },
    ];
    expect((await admin.put(`/cards/${parent.body.id}/rates`, { rates })).status).toBe(200);
    const child = await admin.post(`/cards/${parent.body.id}/derive`, {
      name: 'Margin sell dated',
      overrides: [
        { prefix: '55', rate: '0.0050' },
        { prefix: '56', rate: '0.0050' },
      ],
    });
    expect(child.status).toBe(201);
    expect(child.body.losingRates).toBe(3);
    const seen: [string, string | null][] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await admin.get(`/cards/${child.body.id}/margin?limit=1${query}`);
      expect(page.status).toBe(200);
      for (const item of page.body.items) seen.push([item.prefix, item.effectiveFrom]);
      cursor = page.body.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([
      ['55', null],
      ['55', later],
      ['56', null],
    ]);
    const bad = await admin.get(`/cards/${child.body.id}/margin?cursor=55_x`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty(['cursor']);
  });

  it('flags a half-even 4 dp card over a 6 dp parent at 0.021 (loses on 3, 7, 11 … s)', async () => {
    const card = await derivedOver(
      { decimals: 6, rounding: 'half_up' },
      { decimals: 4, rounding: 'half_even' },
      [{ prefix: '54', rate: '0.021000', sell: '0.0210', initialIncrement: 1, increment: 1 }],
    );
    expect(card.losingRates).toBe(1);
    const margin = await admin.get(`/cards/${card.id}/margin`);
    expect(margin.body.items).toMatchObject([{ prefix: '54', firstLosingSeconds: 3 }]);
  });
});

describe('sell cards as carriers build them (issue 16 §3)', () => {
  async function providerWith(name: string, rates: Record<string, unknown>[]) {
    const made = await admin.post('/cards', { name, currency: 'EUR', kind: 'provider' });
    expect(made.status).toBe(201);
    const rows = rates.map((row) => ({ destination: `D${row.prefix as string}`, ...row }));
    expect((await admin.put(`/cards/${made.body.id}/rates`, { rates: rows })).status).toBe(200);
    return made.body as { id: string; decimals: number; rounding: 'half_up' };
  }

  /** The first losing call length, by pricing every length of an hour (the oracle). */
  function bruteFirstLoss(
    buy: Parameters<typeof callPrice>[0],
    sell: Parameters<typeof callPrice>[0],
    buyCard: Parameters<typeof callPrice>[2],
    sellCard: Parameters<typeof callPrice>[2],
  ): number | null {
    for (let seconds = 1; seconds <= 3600; seconds++) {
      const loss = money(callPrice(buy, seconds, buyCard)).minus(
        money(callPrice(sell, seconds, sellCard)),
      );
      if (loss.greaterThan(0)) return seconds;
    }
    return null;
  }

  it('bills its own structure, the margin check exact on the mixed one', async () => {
    const parent = await providerWith('Mixed buy', [
      { prefix: '61', rate: '0.0100', initialIncrement: 1, increment: 1 },
      { prefix: '62', rate: '0.0100', initialIncrement: 60, increment: 60 },
    ]);
    const badIncrement = await admin.post(`/cards/${parent.id}/derive`, {
      name: 'Mixed sell',
      increment: 0,
      graceSeconds: 'ten',
    });
    expect(badIncrement.status).toBe(400);
    expect(badIncrement.body.error.fields).toHaveProperty('increment');
    expect(badIncrement.body.error.fields).toHaveProperty('graceSeconds');

    // Sell 60/60 on a 1/1 buy is safe; sell 60/60 on a 60/60 buy too.
    const coarse = await admin.post(`/cards/${parent.id}/derive`, {
      name: 'Sell 60/60',
      markupPercent: '5',
      initialIncrement: 60,
      increment: 60,
    });
    expect(coarse.status).toBe(201);
    expect(coarse.body.markup).toMatchObject({
      initialIncrement: 60,
      increment: 60,
      graceSeconds: null,
      fee: false,
    });
    expect(coarse.body.losingRates).toBe(0);
    const coarseRows = await allRates(admin, coarse.body.id);
    expect(coarseRows.map((row) => [row.initialIncrement, row.increment, row.rate])).toEqual([
      [60, 60, '0.0105'],
      [60, 60, '0.0105'],
    ]);

    // Sell 1/1 with 3 s grace on a 60/60 buy loses on short calls though its rate is higher.
    const fine = await admin.post(`/cards/${parent.id}/derive`, {
      name: 'Sell 1/1',
      markupPercent: '5',
      initialIncrement: 1,
      increment: 1,
      graceSeconds: 3,
    });
    expect(fine.status).toBe(201);
    expect(fine.body.losingRates).toBe(2);
    const margin = await admin.get(`/cards/${fine.body.id}/margin`);
    const buyRows = await allRates(admin, parent.id);
    const sellRows = await allRates(admin, fine.body.id);
    const firsts = buyRows.map((row, index) =>
      bruteFirstLoss(
        row as unknown as Parameters<typeof callPrice>[0],
        sellRows[index] as unknown as Parameters<typeof callPrice>[0],
        parent,
        fine.body,
      ),
    );
    // 61: free under 4 s while the buy side charges from 1 s.
    expect(firsts).toEqual([1, 1]);
    expect(
      margin.body.items.map((item: { prefix: string; firstLosingSeconds: number }) => [
        item.prefix,
        item.firstLosingSeconds,
      ]),
    ).toEqual([
      ['61', firsts[0]],
      ['62', firsts[1]],
    ]);

    // Back to the parent's structure: nothing loses any more.
    const back = await admin.patch(`/cards/${fine.body.id}`, {
      version: fine.body.version,
      initialIncrement: null,
      increment: null,
      graceSeconds: null,
    });
    expect(back.status).toBe(200);
    expect(back.body.losingRates).toBe(0);
    expect((await allRates(admin, fine.body.id)).map((row) => row.increment)).toEqual([1, 60]);

    const onProvider = await admin.patch(`/cards/${parent.id}`, {
      version: (await admin.get(`/cards/${parent.id}`)).body.version,
      increment: 6,
    });
    expect(onProvider.status).toBe(400);
    expect(onProvider.body.error.fields.increment).toBe('applies to derived cards only');
  });

  it('prices by the longest covering rule, an override first, and flags a losing rule', async () => {
    const parent = await providerWith('Rules buy', [
      { prefix: '64', rate: '0.0100' },
      { prefix: '641', rate: '0.0200' },
      { prefix: '6412', rate: '0.0300' },
      { prefix: '65', rate: '0.0400' },
    ]);
    const bad = await admin.post(`/cards/${parent.id}/derive`, {
      name: 'Rules sell',
      rules: [
        { prefix: '64', mode: 'percent', value: '0.01' },
        { prefix: '641', mode: 'discount', value: '1' },
        { prefix: '6412', mode: 'fixed', value: 'cheap' },
      ],
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual(['rules.1.mode', 'rules.2.value']);
    const made = await admin.post(`/cards/${parent.id}/derive`, {
      name: 'Rules sell',
      markupPercent: '10',
      rules: [
        { prefix: '64', mode: 'percent', value: '50' },
        { prefix: '641', mode: 'fixed', value: '0.0050' },
        { prefix: '6412', mode: 'absolute', value: '0.0250' },
      ],
      overrides: [{ prefix: '641', rate: '0.0222' }],
    });
    expect(made.status).toBe(201);
    expect(made.body.markup.rules).toEqual([
      { prefix: '64', mode: 'percent', value: '50' },
      { prefix: '641', mode: 'fixed', value: '0.005' },
      { prefix: '6412', mode: 'absolute', value: '0.025' },
    ]);
    // 64 by its rule; 641 by the override before its rule; 6412 absolute, below the buy
    // rate (flagged); 65 under no rule: the card-wide 10 %.
    expect(
      (await allRates(admin, made.body.id)).map((row) => [row.prefix, row.rate, row.losing]),
    ).toEqual([
      ['64', '0.0150', false],
      ['641', '0.0222', false],
      ['6412', '0.0250', true],
      ['65', '0.0440', false],
    ]);
    expect(made.body.losingRates).toBe(1);

    const patched = await admin.patch(`/cards/${made.body.id}`, {
      version: made.body.version,
      rules: [{ prefix: '6', mode: 'fixed', value: '0.0010' }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.losingRates).toBe(0);
    expect((await allRates(admin, made.body.id)).map((row) => row.rate)).toEqual([
      '0.0110',
      '0.0222',
      '0.0310',
      '0.0410',
    ]);
  });

  it('marks up the connection fee when the card says so (fixed once per call)', async () => {
    const parent = await providerWith('Fee buy', [
      { prefix: '63', rate: '0.0200', connectionFee: '0.0100' },
    ]);
    const bad = await admin.post(`/cards/${parent.id}/derive`, {
      name: 'Fee sell',
      markupFee: 'yes',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('markupFee');
    const made = await admin.post(`/cards/${parent.id}/derive`, {
      name: 'Fee sell',
      markupPercent: '20',
      markupFixed: '0.0010',
      markupFee: true,
    });
    expect(made.status).toBe(201);
    expect(made.body.markup.fee).toBe(true);
    expect(await allRates(admin, made.body.id)).toMatchObject([
      { prefix: '63', rate: '0.0250', connectionFee: '0.0130', losing: false },
    ]);
    const off = await admin.patch(`/cards/${made.body.id}`, {
      version: made.body.version,
      markupFee: false,
    });
    expect(off.status).toBe(200);
    expect(off.body.markup.fee).toBe(false);
    expect(await allRates(admin, made.body.id)).toMatchObject([
      { prefix: '63', rate: '0.0250', connectionFee: '0.0100' },
    ]);
  });
});

describe('assignment rules', () => {
  it('only the owner, only customer cards, only direct children, one card per customer', async () => {
    const provider = (
      await admin.post('/cards', { name: 'Up B', currency: 'EUR', kind: 'provider' })
    ).body;
    const sell = (await admin.post('/cards', { name: 'Sell B', currency: 'EUR', kind: 'customer' }))
      .body;
    const sell2 = (
      await admin.post('/cards', { name: 'Sell C', currency: 'EUR', kind: 'customer' })
    ).body;
    const providerAssign = await admin.post('/assignments', {
      cardId: provider.id,
      accountId: ids.R2,
    });
    expect(providerAssign.status).toBe(409);
    expect(providerAssign.body.error.code).toBe('provider_card');
    const deep = await admin.post('/assignments', { cardId: sell.id, accountId: ids.R1a });
    expect(deep.status).toBe(409);
    expect(deep.body.error.code).toBe('not_direct_child');
    // The owner's own account is no unknown account: the same refusal.
    const own = (await admin.get('/me')).body.account.id;
    const toItself = await admin.post('/assignments', { cardId: sell.id, accountId: own });
    expect([toItself.status, toItself.body.error.code]).toEqual([409, 'not_direct_child']);
    const notOwner = await r1.post('/assignments', { cardId: sell.id, accountId: ids.K1 });
    expect(notOwner.status).toBe(404);
    const outsider = await r2.post('/assignments', { cardId: sell.id, accountId: ids.K0 });
    expect(outsider.status).toBe(404);
    const bad = await admin.post('/assignments', { cardId: 'nope', accountId: ids.K0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('cardId');

    const first = await admin.post('/assignments', { cardId: sell.id, accountId: ids.K0 });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      cardId: sell.id,
      accountId: ids.K0,
      accountKind: 'customer',
    });
    const again = await admin.post('/assignments', { cardId: sell.id, accountId: ids.K0 });
    expect(again.status).toBe(409);
    const replaced = await admin.post('/assignments', { cardId: sell2.id, accountId: ids.K0 });
    expect(replaced.status).toBe(201);
    const held = (await admin.get(`/assignments?accountId=${ids.K0}`)).body.items;
    expect(held.map((row: { cardId: string }) => row.cardId)).toEqual([sell2.id]);
    const log = (await admin.get(`/audit?resource=assignments&entityId=${first.body.id}`)).body
      .items;
    expect(log.map((row: { op: string }) => row.op)).toEqual(['deleted', 'created']);
    // Named, so the audit reads "… removed <card> from <account>" without a lookup.
    expect(log[0].summary).toEqual({
      reason: 'replaced',
      cardName: sell.name,
      accountName: expect.any(String),
    });
    expect(log[1].summary).toEqual({
      cardName: sell.name,
      accountName: log[0].summary.accountName,
    });

    // A reseller holds several.
    expect((await admin.post('/assignments', { cardId: sell.id, accountId: ids.R2 })).status).toBe(
      201,
    );
    expect((await admin.post('/assignments', { cardId: sell2.id, accountId: ids.R2 })).status).toBe(
      201,
    );
    const r2Cards = (await r2.get('/cards?kind=provider')).body.items.map(
      (item: { name: string }) => item.name,
    );
    expect(r2Cards).toEqual(expect.arrayContaining(['Sell B', 'Sell C']));
    // Its holder sees the card, so it is told why it may not, not that it does not exist.
    const heldCard = (await r2.get(`/cards/${sell2.id}`)).body;
    const refusals = [
      [await r2.post('/assignments', { cardId: sell2.id, accountId: ids.K0 }), 'assigns it'],
      [
        await r2.patch(`/cards/${sell2.id}`, { version: heldCard.version, name: 'Mine' }),
        'changes it',
      ],
      [await r2.del(`/cards/${sell2.id}`), 'deletes it'],
      [
        await r2.put(`/cards/${sell2.id}/rates`, {
          rates: [{ prefix: '44', destination: 'UK', rate: '0.0100' }],
        }),
        'changes its rates',
      ],
      [await r2.get(`/cards/${sell2.id}/margin`), 'reads its margin'],
    ] as const;
    for (const [answer, doing] of refusals) {
      expect([answer.status, answer.body.error.code]).toEqual([403, 'assigned_card']);
      expect(answer.body.error.message).toContain(`only its owner ${doing}`);
    }
    expect((await admin.get(`/cards/${sell2.id}`)).body).toMatchObject({ name: 'Sell C' });
    // Removing one without dependants works, and R2 stops seeing it.
    const row = (await admin.get(`/assignments?cardId=${sell.id}&accountId=${ids.R2}`)).body
      .items[0];
    expect((await admin.del(`/assignments/${row.id}`)).status).toBe(204);
    expect((await r2.get(`/cards/${sell.id}`)).status).toBe(404);
  });
});

describe('CSV import and export', () => {
  let cardId: string;
  beforeAll(async () => {
    cardId = (await admin.post('/cards', { name: 'CSV card', currency: 'USD', kind: 'provider' }))
      .body.id;
  });

  it('rejects a bad file whole, naming every bad line', async () => {
    const good = 'prefix,destination,rate\n1,US,0.0100\n';
    expect(
      (await admin.raw('POST', `/cards/${cardId}/rates/import`, good, 'text/csv')).status,
    ).toBe(200);
    const csv = [
      'prefix,destination,rate,connectionFee,blocked',
      '1,US,0.0110,,',
      '1x,Bad prefix,0.01,,',
      '7,Russia,abc,,',
      '1,US again,0.0200,,',
      '"44","UK, London",0.0300,0.0100,maybe',
      '49,Germany,0.012345,,',
      '33,France,0.01',
    ].join('\n');
    const rejected = await admin.raw('POST', `/cards/${cardId}/rates/import`, csv, 'text/csv');
    expect(rejected.status).toBe(400);
    const body = JSON.parse(rejected.text);
    expect(body.error.code).toBe('invalid_csv');
    expect(body.error.lines.map((line: { line: number }) => line.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(body.error.lines[0].reason).toMatch(/prefix/);
    expect(body.error.lines[2].reason).toMatch(/repeats line 2/);
    expect(body.error.lines[4].reason).toMatch(/decimals/);
    // Nothing written: the first file's single row is still all there is.
    const rows = await allRates(admin, cardId);
    expect(rows.map((row) => [row.prefix, row.rate])).toEqual([['1', '0.0100']]);

    for (const [text, field] of [
      ['', 'empty'],
      ['prefix,destination\n1,US\n', 'missing column'],
      ['prefix,destination,rate,colour\n1,US,0.01,red\n', 'unknown column'],
    ] as const) {
      const answer = await admin.raw('POST', `/cards/${cardId}/rates/import`, text, 'text/csv');
      expect(answer.status).toBe(400);
      expect(answer.text).toContain(field);
    }
    const wrongType = await admin.raw(
      'POST',
      `/cards/${cardId}/rates/import`,
      good,
      'application/json',
    );
    expect(wrongType.status).toBe(415);
    const wrongMode = await admin.raw(
      'POST',
      `/cards/${cardId}/rates/import?mode=append`,
      good,
      'text/csv',
    );
    expect(wrongMode.status).toBe(400);
    expect(JSON.parse(wrongMode.text).error.fields).toHaveProperty('mode');
  });

  it('replaces or merges, and exports what it imported with formulas neutralized', async () => {
    const csv = [
      'prefix,destination,rate,connectionFee,initialIncrement,increment,graceSeconds,effectiveFrom,blocked',
      '1,"=HYPERLINK(""http://x"")",0.0100,0.0010,30,6,3,,false',
      '1,US later,0.0200,0,60,60,0,2030-01-01T00:00:00Z,no',
      '44,"UK, ""London""",0.0300,0,1,1,0,,true',
    ].join('\r\n');
    const replaced = await admin.raw(
      'POST',
      `/cards/${cardId}/rates/import?mode=replace`,
      csv,
      'text/csv',
    );
    expect(replaced.status).toBe(200);
    expect(JSON.parse(replaced.text)).toMatchObject({ rows: 3, mode: 'replace' });

    const merged = await admin.raw(
      'POST',
      `/cards/${cardId}/rates/import?mode=merge`,
      // Backslashes are text, not the bulk load's escapes (`\N` is its NULL, `\t` a tab).
      'prefix,destination,rate\n44,UK,0.0310\n49,Germany \\N\\t,0.0150\n',
      'text/csv',
    );
    expect(merged.status).toBe(200);
    expect(JSON.parse(merged.text).rows).toBe(4);
    const rows = await allRates(admin, cardId);
    expect(rows.find((row) => row.prefix === '49')?.destination).toBe('Germany \\N\\t');
    expect(rows.map((row) => [row.prefix, row.rate, row.effectiveFrom])).toEqual([
      ['1', '0.0100', null],
      ['1', '0.0200', '2030-01-01T00:00:00.000Z'],
      ['44', '0.0310', null],
      ['49', '0.0150', null],
    ]);

    const exported = await admin.raw('GET', `/cards/${cardId}/rates/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(exported.headers.get('content-disposition')).toBe('attachment; filename="CSV_card.csv"');
    const lines = exported.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'prefix,destination,rate,connectionFee,initialIncrement,increment,graceSeconds,effectiveFrom,blocked,minimumSeconds',
    );
    expect(lines[1]).toBe(`1,"'=HYPERLINK(""http://x"")",0.0100,0.0010,30,6,3,,false,`);
    expect(lines).toHaveLength(5);

    const again = await admin.raw(
      'POST',
      `/cards/${cardId}/rates/import`,
      exported.text,
      'text/csv',
    );
    expect(again.status).toBe(200);
    const back = await allRates(admin, cardId);
    // The export imports back to the same set: the formula guard comes off again.
    expect(back.map(({ id: _id, ...row }) => row)).toEqual(rows.map(({ id: _id, ...row }) => row));
    expect((await r1.raw('GET', `/cards/${cardId}/rates/export`)).status).toBe(404);
  });

  it('merges a file without a term’s column keeping that term of each row it replaces', async () => {
    const card = (
      await admin.post('/cards', { name: 'Supplier sheet', currency: 'EUR', kind: 'provider' })
    ).body.id as string;
    const terms = { connectionFee: '0.0500', initialIncrement: 1, increment: 1, graceSeconds: 5 };
    expect(
      (
        await admin.put(`/cards/${card}/rates`, {
          rates: [
            { prefix: '44', destination: 'UK', rate: '0.0200', ...terms, minimumSeconds: 30 },
            { prefix: '882', destination: 'Satellite', rate: '5.0000', blocked: true },
          ],
        })
      ).status,
    ).toBe(200);
    // A supplier's price sheet: the three required columns, one new prefix.
    const merged = await admin.raw(
      'POST',
      `/cards/${card}/rates/import?mode=merge`,
      'prefix,destination,rate\n44,UK,0.0190\n882,Satellite,4.0000\n33,France,0.0100\n',
      'text/csv',
    );
    expect(merged.status).toBe(200);
    /** A row's price and terms: the undated row of `prefix`, or its dated one. */
    const termsOf = async (prefix: string, dated = false) => {
      const row = (await allRates(admin, card)).find(
        (r) => r.prefix === prefix && (r.effectiveFrom !== null) === dated,
      )!;
      return [
        row.rate,
        row.connectionFee,
        row.initialIncrement,
        row.increment,
        row.graceSeconds,
        row.minimumSeconds ?? null,
        row.blocked,
      ];
    };
    // The fraud block stays, and so do the billing terms; the new row takes the defaults.
    expect(await termsOf('44')).toEqual(['0.0190', '0.0500', 1, 1, 5, 30, false]);
    expect(await termsOf('882')).toEqual(['4.0000', '0.0000', 60, 60, 0, null, true]);
    expect(await termsOf('33')).toEqual(['0.0100', '0.0000', 60, 60, 0, null, false]);
    // "New prices from the 1st": dated rows keep the terms in force at their date.
    const at = new Date(Date.now() + 24 * 3_600_000).toISOString();
    const dated = await admin.raw(
      'POST',
      `/cards/${card}/rates/import?mode=merge`,
      `prefix,destination,rate,effectiveFrom\n44,UK,0.0180,${at}\n882,Satellite,3.0000,${at}\n`,
      'text/csv',
    );
    expect(dated.status).toBe(200);
    expect(await termsOf('44', true)).toEqual(['0.0180', '0.0500', 1, 1, 5, 30, false]);
    expect(await termsOf('882', true)).toEqual(['3.0000', '0.0000', 60, 60, 0, null, true]);
    // A column the file has is the file's, empty cells its defaults: 44 unblocked there.
    await admin.raw(
      'POST',
      `/cards/${card}/rates/import?mode=merge`,
      'prefix,destination,rate,blocked\n882,Satellite,4.0000,false\n',
      'text/csv',
    );
    const after = await allRates(admin, card);
    expect(after.find((r) => r.prefix === '882')?.blocked).toBe(false);
  });
});

describe('a rate set replaced from an older copy', () => {
  it('is 409 with the card as it is when a version is given and another write came first', async () => {
    const made = await admin.post('/cards', {
      name: 'Versioned',
      currency: 'EUR',
      kind: 'provider',
    });
    const id = made.body.id as string;
    const row = (rate: string) => ({ prefix: '44', destination: 'UK', rate });
    // Two people read the card at this version; the first one's set lands.
    const read = made.body.version as number;
    const first = await admin.put(`/cards/${id}/rates`, { rates: [row('0.0100')], version: read });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    // The second one's, made from the same version: refused, the first one's kept.
    const second = await admin.put(`/cards/${id}/rates`, { rates: [row('0.0200')], version: read });
    expect(second.status).toBe(409);
    expect(second.body.error.current).toMatchObject({ id, version: first.body.card.version });
    const imported = await admin.raw(
      'POST',
      `/cards/${id}/rates/import?version=${read}`,
      'prefix,destination,rate\n44,UK,0.0300\n',
      'text/csv',
    );
    expect(imported.status).toBe(409);
    expect(JSON.parse(imported.text).error.current.version).toBe(first.body.card.version);
    const rates = (await admin.get(`/cards/${id}/rates`)).body.items as { rate: string }[];
    expect(rates.map((rate) => rate.rate)).toEqual(['0.0100']);
    // From the version it is at: written.
    const current = first.body.card.version as number;
    const again = await admin.raw(
      'POST',
      `/cards/${id}/rates/import?version=${current}`,
      'prefix,destination,rate\n44,UK,0.0300\n',
      'text/csv',
    );
    expect(again.status, again.text).toBe(200);
    const bad = await admin.raw('POST', `/cards/${id}/rates/import?version=two`, 'x', 'text/csv');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.fields).toHaveProperty(['version']);
  });
});

describe('price trace and transfer', () => {
  it('prices a number at each visible level with the margin at each step', async () => {
    const buy = (
      await admin.post('/cards', { name: 'Trace buy', currency: 'EUR', kind: 'provider' })
    ).body;
    await admin.put(`/cards/${buy.id}/rates`, {
      rates: [
        { prefix: '49', destination: 'DE', rate: '0.0100' },
        {
          prefix: '4930',
          destination: 'Berlin',
          rate: '0.0200',
          connectionFee: '0.0050',
          initialIncrement: 30,
          increment: 6,
        },
      ],
    });
    const sell = (
      await admin.post(`/cards/${buy.id}/derive`, { name: 'Trace sell', markupPercent: '50' })
    ).body;
    expect((await admin.post('/assignments', { cardId: sell.id, accountId: ids.R2 })).status).toBe(
      201,
    );
    const r2Sell = (
      await r2.post(`/cards/${sell.id}/derive`, { name: 'R2 sell', markupFixed: '0.0100' })
    ).body;
    expect((await r2.post('/assignments', { cardId: r2Sell.id, accountId: ids.K2 })).status).toBe(
      201,
    );

    const asCarrier = await admin.get(
      `/rates/lookup?accountId=${ids.K2}&number=%2B4930123456&seconds=31`,
    );
    expect(asCarrier.status).toBe(200);
    expect(asCarrier.body.number).toBe('4930123456');
    const levels = asCarrier.body.levels;
    expect(levels.map((level: { cardId: string }) => level.cardId)).toEqual([
      buy.id,
      sell.id,
      r2Sell.id,
    ]);
    expect(levels.map((level: { prefix: string }) => level.prefix)).toEqual([
      '4930',
      '4930',
      '4930',
    ]);
    // The pricing core's answer for a 31 s call (30/6 bills 36 s) at each level's rate.
    const expected = ['0.0200', '0.0300', '0.0400'].map((rate) =>
      callPrice(
        { rate, connectionFee: '0.0050', initialIncrement: 30, increment: 6, graceSeconds: 0 },
        31,
        { decimals: 4, rounding: 'half_up' },
      ),
    );
    expect(levels.map((level: { amount: string }) => level.amount)).toEqual(expected);
    expect(levels.map((level: { billedSeconds: number }) => level.billedSeconds)).toEqual([
      36, 36, 36,
    ]);
    expect(levels.map((level: { margin: string | null }) => level.margin)).toEqual([
      null,
      money(expected[1]!).minus(expected[0]!).toFixed(4),
      money(expected[2]!).minus(expected[1]!).toFixed(4),
    ]);

    // R2 sees from its buy card down: the carrier's upstream card and owner stay hidden.
    const asReseller = await r2.get(`/rates/lookup?accountId=${ids.K2}&number=4912`);
    expect(asReseller.body.levels.map((level: { cardId: string }) => level.cardId)).toEqual([
      sell.id,
      r2Sell.id,
    ]);
    expect(asReseller.body.levels[0]).toMatchObject({
      relation: 'assignee',
      accountId: null,
      prefix: '49',
      margin: null,
    });
    expect(asReseller.body.levels[1]).toMatchObject({
      relation: 'owner',
      accountId: ids.R2,
      rate: '0.0250',
    });

    expect((await r1.get(`/rates/lookup?accountId=${ids.K2}&number=4912`)).status).toBe(404);
    // Someone of R2 who reads rates but no cards learns no card's id from the trace, nor
    // whether the account holds one it names.
    const ratesOnly = (await r2.post('/groups', { name: 'Rates only', grants: ['rates:read'] }))
      .body.id;
    expect(
      (
        await r2.post('/users', {
          email: 'rates-only@r2.cards.test',
          password: 'rates-only-password',
          accountId: ids.R2,
          groupId: ratesOnly,
        })
      ).status,
    ).toBe(201);
    const reader = await apiClient(
      suite.server.url,
      'rates-only@r2.cards.test',
      'rates-only-password',
    );
    const blind = await reader.get(`/rates/lookup?accountId=${ids.K2}&number=4912`);
    expect(blind.status).toBe(200);
    expect(blind.body).toMatchObject({ levels: [], chains: [] });
    expect(JSON.stringify(blind.body)).not.toContain(r2Sell.id);
    const named = await reader.get(
      `/rates/lookup?accountId=${ids.K2}&number=4912&cardId=${r2Sell.id}`,
    );
    expect(named.status).toBe(400);
    expect(named.body.error.fields).toEqual({ cardId: 'is not a card this account holds' });
    const bad = await admin.get(`/rates/lookup?accountId=${ids.K2}&number=12ab`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('number');
    // A number pasted as people write it is the same number.
    for (const written of ['+49 (30) 123-456', '(+49) 30 123.456', '0049 30 123456']) {
      const answer = await admin.get(
        `/rates/lookup?accountId=${ids.K2}&number=${encodeURIComponent(written)}&seconds=31`,
      );
      expect(answer.body, written).toEqual(asCarrier.body);
    }
  });

  it('moves a customer with its new card in one audited step', async () => {
    const r1Card = (await r1.post('/cards', { name: 'R1 own', currency: 'EUR', kind: 'customer' }))
      .body;
    const r2Card = (await r2.post('/cards', { name: 'R2 own', currency: 'EUR', kind: 'customer' }))
      .body;
    expect((await r1.post('/assignments', { cardId: r1Card.id, accountId: ids.K1 })).status).toBe(
      201,
    );
    const r1Live = await listen(r1);
    const r2Live = await listen(r2);
    try {
      // R1 cannot reach R2; a plain PATCH of the parent is refused.
      expect(
        (await r1.post(`/customers/${ids.K1}/transfer`, { toParentId: ids.R2, cardId: r2Card.id }))
          .status,
      ).toBe(404);
      const k1 = (await admin.get(`/customers/${ids.K1}`)).body;
      const patch = await admin.patch(`/customers/${ids.K1}`, {
        version: k1.version,
        parentId: ids.R2,
      });
      expect(patch.status).toBe(409);
      expect(patch.body.error.code).toBe('transfer_required');
      const wrongCard = await admin.post(`/customers/${ids.K1}/transfer`, {
        toParentId: ids.R2,
        cardId: r1Card.id,
      });
      expect(wrongCard.status).toBe(400);
      expect(wrongCard.body.error.fields).toHaveProperty('cardId');

      const moved = await admin.post(`/customers/${ids.K1}/transfer`, {
        toParentId: ids.R2,
        cardId: r2Card.id,
      });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ id: ids.K1, parentId: ids.R2 });
      expect((await r1.get(`/customers/${ids.K1}`)).status).toBe(404);
      expect((await r2.get(`/customers/${ids.K1}`)).body.parentId).toBe(ids.R2);
      const held = (await admin.get(`/assignments?accountId=${ids.K1}`)).body.items;
      expect(held.map((row: { cardId: string }) => row.cardId)).toEqual([r2Card.id]);
      await until(() => r1Live.received.some((e) => e.type === 'customers.removed'), 'R1 removal');
      await until(() => r2Live.received.some((e) => e.type === 'customers.added'), 'R2 addition');
      expect(r1Live.received.find((e) => e.type === 'customers.removed')!.data).toEqual({
        id: ids.K1,
      });
      expect(r2Live.received.some((e) => e.type === 'customers.removed')).toBe(false);
      const audit = (await admin.get(`/audit?resource=customers&entityId=${ids.K1}`)).body.items[0];
      expect(audit.summary).toEqual({ reason: 'transfer' });
      expect(audit.before.parentId).toBe(ids.R1);
      expect(audit.after.parentId).toBe(ids.R2);
      // Each side learns only its own side: never where the customer went or came from.
      const removal = r1Live.received.find((e) => e.type === 'customers.removed')!;
      expect(removal).not.toHaveProperty('summary');
      const asOld = (await r1.get(`/audit?resource=customers&entityId=${ids.K1}`)).body.items[0];
      expect(asOld).toMatchObject({ op: 'updated', after: null });
      expect(asOld.before.parentId).toBe(ids.R1);
      const asNew = (await r2.get(`/audit?resource=customers&entityId=${ids.K1}`)).body.items[0];
      expect(asNew).toMatchObject({ op: 'updated', before: null });
      expect(asNew.after.parentId).toBe(ids.R2);
      const oldCardLog = await r2.get(`/audit?resource=assignments`);
      expect(JSON.stringify(oldCardLog.body)).not.toContain(r1Card.id);
    } finally {
      r1Live.socket.disconnect();
      r2Live.socket.disconnect();
    }
  });
});

describe('card edits', () => {
  it('checks versions, fixed fields and markup fields', async () => {
    const made = (
      await admin.post('/cards', {
        name: 'Edit me',
        currency: 'EUR',
        kind: 'customer',
        decimals: 6,
      })
    ).body;
    const stale = await admin.patch(`/cards/${made.id}`, { version: made.version + 1, name: 'x' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.current).toMatchObject({ id: made.id, name: 'Edit me' });
    const fixed = await admin.patch(`/cards/${made.id}`, {
      version: made.version,
      currency: 'USD',
    });
    expect(fixed.status).toBe(400);
    expect(fixed.body.error.fields).toEqual({ currency: 'is not a known field' });
    for (const [body, field] of [
      [{ markupPercent: '1000000' }, 'markupPercent'],
      [{ markupPercent: '1000.5' }, 'markupPercent'],
      [{ markupFixed: '999999999999' }, 'markupFixed'],
    ] as const) {
      const tooBig = await admin.post(`/cards/${made.id}/derive`, { name: 'x', ...body });
      expect(tooBig.status).toBe(400);
      expect(tooBig.body.error.fields).toHaveProperty(field);
    }
    const ancient = await admin.put(`/cards/${made.id}/rates`, {
      rates: [
        { prefix: '1', destination: 'US', rate: '0.01', effectiveFrom: '0000-01-01T00:00:00Z' },
      ],
    });
    expect(ancient.status).toBe(400);
    expect(ancient.body.error.fields).toHaveProperty(['rates.0.effectiveFrom']);
    const forged = Buffer.from(JSON.stringify(['44', '0'])).toString('base64url');
    const badCursor = await admin.get(`/cards/${made.id}/rates?cursor=${forged}`);
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.fields).toHaveProperty('cursor');
    const markup = await admin.patch(`/cards/${made.id}`, {
      version: made.version,
      markupPercent: '5',
    });
    expect(markup.status).toBe(400);
    expect(markup.body.error.fields).toEqual({ markupPercent: 'applies to derived cards only' });
    await admin.put(`/cards/${made.id}/rates`, {
      rates: [{ prefix: '1', destination: 'US', rate: '0.012345' }],
    });
    const current = (await admin.get(`/cards/${made.id}`)).body;
    const coarser = await admin.patch(`/cards/${made.id}`, {
      version: current.version,
      decimals: 4,
    });
    expect(coarser.status).toBe(409);
    expect(coarser.body.error.code).toBe('precision_loss');
    const renamed = await admin.patch(`/cards/${made.id}`, {
      version: current.version,
      name: 'Edited',
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Edited', version: current.version + 1 });
    expect(
      (await r1.patch(`/cards/${made.id}`, { version: renamed.body.version, name: 'R1 was here' }))
        .status,
    ).toBe(404);
    expect((await admin.del(`/cards/${made.id}`)).status).toBe(204);
    expect((await admin.get(`/cards/${made.id}`)).status).toBe(404);
  });
});

describe('dashboard counts', () => {
  it('count exactly what each list shows the caller', async () => {
    for (const client of [admin, r1, r2]) {
      const counts = (await client.get('/dashboard')).body;
      for (const resource of ['resellers', 'customers', 'users', 'cards'] as const) {
        const list = await client.get(`/${resource}?limit=500`);
        expect(list.status).toBe(200);
        expect(counts[resource], resource).toBe(list.body.items.length);
      }
    }
  });
});

describe('a card renamed', () => {
  it('reaches a viewer of assignments who reads no cards: each assignment shows the new name live', async () => {
    const group = await admin.post('/groups', {
      name: 'Assignments only',
      grants: ['assignments:read'],
    });
    expect(group.status).toBe(201);
    expect(
      (
        await admin.post('/users', {
          email: 'assignments@carrier.test',
          password: PASSWORD,
          accountId: ids.C,
          groupId: group.body.id,
        })
      ).status,
    ).toBe(201);
    const viewer = await apiClient(suite.server.url, 'assignments@carrier.test', PASSWORD);
    const card = (await admin.post('/cards', { name: 'Before', currency: 'EUR', kind: 'customer' }))
      .body;
    const held = await admin.post('/assignments', { cardId: card.id, accountId: ids.K0 });
    expect(held.status).toBe(201);
    const { socket, received } = await listen(viewer);
    try {
      const renamed = await admin.patch(`/cards/${card.id}`, {
        version: card.version,
        name: 'After',
      });
      expect(renamed.status).toBe(200);
      await until(
        () => received.some((envelope) => envelope.type === 'assignments.updated'),
        'the assignment updated',
      );
      const update = received.find((envelope) => envelope.type === 'assignments.updated')!;
      expect(update).toMatchObject({
        id: held.body.id,
        data: { cardName: 'After', cardId: card.id },
      });
      // It reads no cards: the card's own change is not its to see.
      expect(received.filter((envelope) => envelope.type.startsWith('cards.'))).toEqual([]);
      const list = await viewer.get(`/assignments?accountId=${ids.K0}`);
      expect(
        list.body.items.find((item: { id: string }) => item.id === held.body.id),
      ).toMatchObject({
        cardName: 'After',
        version: update.data!.version,
      });
    } finally {
      socket.close();
    }
  });
});

describe('a derived card’s precision and rounding', () => {
  it('follow its parent’s, now and when they change, unless given', async () => {
    const P = (await admin.post('/cards', { name: 'Follow P', currency: 'EUR', kind: 'provider' }))
      .body.id as string;
    expect(
      (
        await admin.put(`/cards/${P}/rates`, {
          rates: [{ prefix: '44', destination: 'UK', rate: '0.0200' }],
        })
      ).status,
    ).toBe(200);
    const derive = async (parent: string, name: string, extra: Record<string, unknown> = {}) =>
      (await admin.post(`/cards/${parent}/derive`, { name, markupPercent: '0', ...extra })).body
        .id as string;
    const follows = await derive(P, 'Follows');
    const below = await derive(follows, 'Below it');
    const own = await derive(P, 'Own decimals', { decimals: 4 });
    const terms = async (id: string) => {
      const card = (await admin.get(`/cards/${id}`)).body;
      return [card.decimals, card.rounding, card.markup.decimalsFromParent];
    };
    const rate = async (id: string) => (await allRates(admin, id))[0]!.rate;
    const patch = async (id: string, body: Record<string, unknown>) => {
      const { version } = (await admin.get(`/cards/${id}`)).body;
      return admin.patch(`/cards/${id}`, { version, ...body });
    };
    expect(await terms(follows)).toEqual([4, 'half_up', true]);

    // The provider card moves to 6 decimals, rounding up: those following move with it,
    // down the chain; the one given 4 keeps 4 (its rounding, not given, follows).
    expect((await patch(P, { decimals: 6, rounding: 'up' })).status).toBe(200);
    expect(await terms(follows)).toEqual([6, 'up', true]);
    expect(await terms(below)).toEqual([6, 'up', true]);
    expect(await terms(own)).toEqual([4, 'up', false]);
    await admin.patch(`/cards/${P}/rates`, {
      upsert: [{ prefix: '44', destination: 'UK', rate: '0.020049' }],
      remove: [],
    });
    // Not rounded away below its cost at 4 decimals.
    expect(await rate(follows)).toBe('0.020049');
    expect(await rate(below)).toBe('0.020049');
    expect(await rate(own)).toBe('0.0201');

    // Given a precision, a card keeps it; `null` gives it back to its parent's.
    expect((await patch(follows, { decimals: 5 })).status).toBe(200);
    expect(await terms(follows)).toEqual([5, 'up', false]);
    expect(await terms(below)).toEqual([5, 'up', true]);
    expect((await patch(follows, { decimals: null })).status).toBe(200);
    expect(await terms(follows)).toEqual([6, 'up', true]);
    expect(await terms(below)).toEqual([6, 'up', true]);
    // A card following down with its own sell prices finer than that keeps its precision
    // as its own: they never veto the parent's change.
    const priced = await derive(P, 'Own prices', {
      overrides: [{ prefix: '44', rate: '0.030001' }],
    });
    await admin.patch(`/cards/${P}/rates`, {
      upsert: [{ prefix: '44', destination: 'UK', rate: '0.0201' }],
      remove: [],
    });
    expect((await patch(P, { decimals: 4 })).status).toBe(200);
    expect(await terms(priced)).toEqual([6, 'up', false]);
    expect(await terms(follows)).toEqual([4, 'up', true]);
    const notDerived = await patch(P, { decimals: null });
    expect(notDerived.status).toBe(400);
    expect(Object.keys(notDerived.body.error.fields)).toEqual(['decimals']);
  });
});

describe('a page of cards', () => {
  it('ends early once its rules and overrides pass the bound; the next page goes on', async () => {
    // A card's item carries its markup rules and overrides whole: fifty cards of 10,000
    // each made a 64 MB page. Three derived cards given 30,000 rules each (written here
    // directly: the API would take a minute to build them).
    const provider = await admin.post('/cards', {
      name: 'Heavy parent',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(provider.status).toBe(201);
    const heavy: string[] = [];
    for (const name of ['Heavy 1', 'Heavy 2', 'Heavy 3']) {
      const made = await admin.post(`/cards/${provider.body.id}/derive`, {
        name,
        markupPercent: '20',
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      heavy.push(made.body.id);
    }
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `update card set rules = (select jsonb_agg(jsonb_build_object(
                 'prefix', (100000 + g)::text, 'mode', 'percent', 'value', '1'))
               from generate_series(1, 30000) g)
          where id in (?, ?, ?)`,
        heavy,
      );
    });
    const whole = await admin.get('/dashboard');
    const seen: string[] = [];
    const totals = new Set<number>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: {
        status: number;
        body: {
          items: { id: string; markup: { rules: unknown[]; overrides: unknown[] } | null }[];
          nextCursor: string | null;
          total: number;
        };
      } = await admin.get(`/cards?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      const entries = page.body.items.reduce(
        (sum, card) =>
          sum + (card.markup?.rules.length ?? 0) + (card.markup?.overrides.length ?? 0),
        0,
      );
      // At most 50,000 rules and overrides on a page, unless one card alone holds more.
      expect(entries <= 50_000 || page.body.items.length === 1).toBe(true);
      seen.push(...page.body.items.map((card) => card.id));
      totals.add(page.body.total);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);
    // Every card once, across more pages than one (500 would have fitted them all).
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(whole.body.cards);
    expect(seen).toEqual(expect.arrayContaining(heavy));
    expect([...totals]).toEqual([whole.body.cards]);
  });
});
