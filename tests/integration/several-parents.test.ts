import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Migration20261208130500 } from '@/lib/server/db/migrations/Migration20261208130500';
import pg from 'pg';
import { usePanelSuite } from '../fixtures/panel-suite';
import { waitForLockWaiters } from '../fixtures/lock-waiters';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * Sell cards built from several provider cards (issue 16 §3) over the real API and
 * PostgreSQL: one derived card per compaction over two parents, the rows and the parent
 * that priced each, longer prefixes of either parent expanding into the card, the trace
 * naming the pricing parent, the margin report checking each row against it, a parent's
 * scheduled revision reaching the derived card, and bad lists refused naming the field.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'parents-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
// The embedded database has one connection: the races below need two transactions open at
// once. Under CI the suite always runs on a PostgreSQL server.
const embedded = inject('testDatabase').kind === 'pglite';
if (embedded) console.log('one skipped on PGlite: one connection serialises the transactions');

let admin: TApiClient;
let outsider: TApiClient;
let carrierId: string;
const card = {} as Record<'A' | 'B' | 'USD', string>;

const A = [
  { prefix: '44', destination: 'UK', rate: '0.0200' },
  { prefix: '441', destination: 'UK geographic', rate: '0.0400' },
  { prefix: '33', destination: 'France', rate: '0.0100' },
];
/** Cheaper to the UK (and 4420 longer than anything of A's), dearer to France, alone on 49. */
const B = [
  { prefix: '44', destination: 'UK', rate: '0.0150' },
  { prefix: '4420', destination: 'London', rate: '0.0100' },
  { prefix: '33', destination: 'France', rate: '0.0300' },
  { prefix: '49', destination: 'Germany', rate: '0.0300' },
];

const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

async function derive(compaction: string) {
  const derived = await admin.post(`/cards/${card.A}/derive`, {
    name: `Sell ${compaction}`,
    markupPercent: '10',
    moreParents: [card.B],
    compaction,
  });
  expect(derived.status).toBe(201);
  return derived.body as {
    id: string;
    parentIds: string[];
    compaction: string;
    losingRates: number;
  };
}

/** prefix → [rate, pricing parent] as the lookup trace tells it, for the derived card. */
async function traced(
  cardId: string,
  prefixes: string[],
  at?: string,
  names: Record<string, string> = { [card.A]: 'A', [card.B]: 'B' },
) {
  const when = at ? `&at=${encodeURIComponent(at)}` : '';
  const out: Record<string, [string | null, string | null]> = {};
  for (const prefix of prefixes) {
    const found = await admin.get(
      `/rates/lookup?accountId=${carrierId}&cardId=${cardId}&number=${prefix}&seconds=60${when}`,
    );
    expect(found.status).toBe(200);
    const levels = found.body.levels as {
      cardId: string;
      rate: string | null;
      pricedBy: { cardId: string } | null;
    }[];
    const mine = levels.at(-1)!;
    expect(mine.cardId).toBe(cardId);
    // The level above is the parent that priced the row.
    if (mine.pricedBy) expect(levels.at(-2)?.cardId).toBe(mine.pricedBy.cardId);
    out[prefix] = [mine.rate, mine.pricedBy ? (names[mine.pricedBy.cardId] ?? null) : null];
  }
  return out;
}

const PREFIXES = ['44', '441', '4420', '33', '49'];

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  carrierId = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  const reseller = (await admin.post('/resellers', { name: 'R', email: 'r@x.test' })).body.id;
  await admin.post('/users', {
    email: 'ops@r.test',
    password: PASSWORD,
    accountId: reseller,
    groupId: group.id,
  });
  outsider = await apiClient(suite.server.url, 'ops@r.test', PASSWORD);
  for (const [key, currency, rates] of [
    ['A', 'EUR', A],
    ['B', 'EUR', B],
    ['USD', 'USD', B],
  ] as const) {
    card[key] = (await admin.post('/cards', { name: key, currency, kind: 'provider' })).body.id;
    expect((await admin.put(`/cards/${card[key]}/rates`, { rates })).status).toBe(200);
  }
});

describe('a card derived from several parents', () => {
  it('lowest: the cheaper parent prices each prefix, longer prefixes of either expand', async () => {
    const sell = await derive('lowest');
    expect(sell.parentIds).toEqual([card.A, card.B]);
    expect(sell.compaction).toBe('lowest');
    expect(sell.losingRates).toBe(0);
    expect(await traced(sell.id, PREFIXES)).toEqual({
      '44': ['0.0165', 'B'],
      // A's 441 against B's 44, its longest prefix for 441.
      '441': ['0.0165', 'B'],
      '4420': ['0.0110', 'B'],
      '33': ['0.0110', 'A'],
      '49': ['0.0330', 'B'],
    });
  });

  it('highest and first: the dearer parent, or the first that prices the prefix', async () => {
    const highest = await derive('highest');
    expect(await traced(highest.id, PREFIXES)).toEqual({
      '44': ['0.0220', 'A'],
      '441': ['0.0440', 'A'],
      '4420': ['0.0220', 'A'],
      '33': ['0.0330', 'B'],
      '49': ['0.0330', 'B'],
    });
    const first = await derive('first');
    expect(await traced(first.id, PREFIXES)).toEqual({
      '44': ['0.0220', 'A'],
      '441': ['0.0440', 'A'],
      '4420': ['0.0220', 'A'],
      '33': ['0.0110', 'A'],
      '49': ['0.0330', 'B'],
    });
  });

  it('average: the mean marked up, checked against the dearer parent (the margin report)', async () => {
    const average = await derive('average');
    expect(await traced(average.id, PREFIXES)).toEqual({
      // (0.0200 + 0.0150) / 2 · 1.1 = 0.01925, half up.
      '44': ['0.0193', 'A'],
      '441': ['0.0303', 'A'],
      '4420': ['0.0165', 'A'],
      '33': ['0.0220', 'B'],
      '49': ['0.0330', 'B'],
    });
    expect(average.losingRates).toBe(4);
    const report = await admin.get(`/cards/${average.id}/margin?limit=10`);
    expect(report.status).toBe(200);
    const rows = report.body.items as {
      prefix: string;
      buy: { rate: string };
      pricedBy: { cardId: string };
      sellsBelowBuyRate: boolean;
    }[];
    expect(
      rows.map((row) => [row.prefix, row.buy.rate, row.pricedBy.cardId, row.sellsBelowBuyRate]),
    ).toEqual([
      ['33', '0.0300', card.B, true],
      ['44', '0.0200', card.A, true],
      ['441', '0.0400', card.A, true],
      ['4420', '0.0200', card.A, true],
    ]);
  });

  it('follows a parent’s scheduled revision: the derived card gets one at the same instant', async () => {
    const sell = await derive('lowest');
    const liveAt = inHours(2);
    const put = await admin.put(`/cards/${card.B}/rates`, {
      rates: B.map((row) => (row.prefix === '33' ? { ...row, rate: '0.0050' } : row)),
      liveAt,
    });
    expect(put.status).toBe(200);
    const revisions = (await admin.get(`/cards/${sell.id}/revisions`)).body.items as {
      number: number;
      state: string;
      liveAt: string;
    }[];
    expect(revisions[0]).toMatchObject({ number: 2, state: 'scheduled', liveAt });
    // Live now: A still prices France; at the date B does, cheaper.
    expect((await traced(sell.id, ['33']))['33']).toEqual(['0.0110', 'A']);
    const later = new Date(Date.parse(liveAt) + 60_000).toISOString();
    expect((await traced(sell.id, ['33'], later))['33']).toEqual(['0.0055', 'B']);
    // The other parent's rows are in the scheduled revision as they are.
    expect((await traced(sell.id, ['44'], later))['44']).toEqual(['0.0165', 'B']);
    expect((await admin.del(`/cards/${card.B}/revisions/2`)).status).toBe(204);
  });

  it('follows two parents’ revisions scheduled apart, together, or out of order', async () => {
    const parent = async (name: string, rates: { prefix: string; rate: string }[]) => {
      const id = (await admin.post('/cards', { name, currency: 'EUR', kind: 'provider' })).body
        .id as string;
      const rows = rates.map((row) => ({ ...row, destination: row.prefix }));
      expect((await admin.put(`/cards/${id}/rates`, { rates: rows })).status).toBe(200);
      return { id, rows };
    };
    const pa = await parent('PA', [
      { prefix: '44', rate: '0.0200' },
      { prefix: '33', rate: '0.0100' },
    ]);
    const pb = await parent('PB', [
      { prefix: '44', rate: '0.0150' },
      { prefix: '33', rate: '0.0300' },
    ]);
    const names = { [pa.id]: 'A', [pb.id]: 'B' };
    const derived = await admin.post(`/cards/${pa.id}/derive`, {
      name: 'Sell AB',
      markupPercent: '10',
      moreParents: [pb.id],
      compaction: 'lowest',
    });
    expect(derived.status).toBe(201);
    const sell = derived.body.id as string;
    /** A's France down to 0.0050, B's UK down to 0.0100: each a scheduled revision. */
    const schedule = async (which: 'A' | 'B', liveAt: string) => {
      const { id, rows } = which === 'A' ? pa : pb;
      const cheaper = rows.map((row) =>
        row.prefix === (which === 'A' ? '33' : '44') ? { ...row, rate: '0.0050' } : row,
      );
      const put = await admin.put(`/cards/${id}/rates`, { rates: cheaper, liveAt });
      expect(put.status, `${which} at ${liveAt}: ${JSON.stringify(put.body)}`).toBe(200);
    };
    const cancel = async (which: 'A' | 'B') => {
      const id = which === 'A' ? pa.id : pb.id;
      const items = (await admin.get(`/cards/${id}/revisions`)).body.items as {
        number: number;
      }[];
      expect((await admin.del(`/cards/${id}/revisions/${items[0]!.number}`)).status).toBe(204);
    };
    const pending = async () =>
      (
        (await admin.get(`/cards/${sell}/revisions`)).body.items as {
          state: string;
          liveAt: string;
        }[]
      )
        .filter((item) => item.state === 'scheduled')
        .map((item) => item.liveAt)
        .sort();
    const at = (iso: string) => new Date(Date.parse(iso) + 60_000).toISOString();
    const prices = (when?: string) => traced(sell, ['33', '44'], when, names);
    const now = { '33': ['0.0110', 'A'], '44': ['0.0165', 'B'] };
    const aOnly = { '33': ['0.0055', 'A'], '44': ['0.0165', 'B'] };
    const bOnly = { '33': ['0.0110', 'A'], '44': ['0.0055', 'B'] };
    const both = { '33': ['0.0055', 'A'], '44': ['0.0055', 'B'] };

    // A first, B later.
    const [t1, t2] = [inHours(2), inHours(4)];
    await schedule('A', t1);
    await schedule('B', t2);
    expect(await pending()).toEqual([t1, t2]);
    expect(await prices()).toEqual(now);
    expect(await prices(at(t1))).toEqual(aOnly);
    expect(await prices(at(t2))).toEqual(both);
    await cancel('B');
    await cancel('A');
    expect(await pending()).toEqual([]);

    // Both at the same instant.
    const t = inHours(3);
    await schedule('A', t);
    await schedule('B', t);
    expect(await prices(at(t))).toEqual(both);
    expect(await prices()).toEqual(now);
    await cancel('B');
    await cancel('A');
    expect(await pending()).toEqual([]);

    // B's before A's, scheduled after it.
    const [late, early] = [inHours(5), inHours(3)];
    await schedule('A', late);
    await schedule('B', early);
    expect(await pending()).toEqual([early, late]);
    expect(await prices()).toEqual(now);
    expect(await prices(at(early))).toEqual(bOnly);
    expect(await prices(at(late))).toEqual(both);
    await cancel('A');
    expect(await pending()).toEqual([early]);
    expect(await prices(at(late))).toEqual(bOnly);
    await cancel('B');
    expect(await pending()).toEqual([]);
    expect(await prices(at(late))).toEqual(now);

    // The same, B's cancelled first: A's derived revision is computed again without it.
    await schedule('A', late);
    await schedule('B', early);
    await cancel('B');
    expect(await pending()).toEqual([late]);
    expect(await prices(at(early))).toEqual(now);
    expect(await prices(at(late))).toEqual(aOnly);
    await cancel('A');
    expect(await pending()).toEqual([]);

    // B's live now, A's scheduled: the derived card's scheduled revision takes B's too.
    await schedule('A', late);
    const cheaperUk = pb.rows.map((row) =>
      row.prefix === '44' ? { ...row, rate: '0.0050' } : row,
    );
    expect((await admin.put(`/cards/${pb.id}/rates`, { rates: cheaperUk })).status).toBe(200);
    expect(await pending()).toEqual([late]);
    expect(await prices()).toEqual(bOnly);
    expect(await prices(at(late))).toEqual(both);
    expect((await admin.put(`/cards/${pb.id}/rates`, { rates: pb.rows })).status).toBe(200);
    expect(await prices()).toEqual(now);
    expect(await prices(at(late))).toEqual(aOnly);
    await cancel('A');
    expect(await pending()).toEqual([]);
  });

  it('prices a longer prefix again when a shorter one of another parent changes later', async () => {
    // X: UK 0.1000 now and 0.3000 from 2030; Y: only 441, 0.0500. The card's 441 follows X
    // (first); from 2030 X prices 441 by its new 44 row.
    const provider = async (name: string, rates: Record<string, unknown>[]) => {
      const made = await admin.post('/cards', { name, currency: 'EUR', kind: 'provider' });
      expect(made.status).toBe(201);
      expect((await admin.put(`/cards/${made.body.id}/rates`, { rates })).status).toBe(200);
      return made.body.id as string;
    };
    const later = '2030-01-01T00:00:00.000Z';
    const x = await provider('X dated', [
      { prefix: '44', destination: 'UK', rate: '0.1000' },
      { prefix: '44', destination: 'UK', rate: '0.3000', effectiveFrom: later },
    ]);
    const y = await provider('Y longer', [
      { prefix: '441', destination: 'UK Guernsey', rate: '0.0500' },
    ]);
    const derived = await admin.post(`/cards/${x}/derive`, {
      name: 'Sell XY',
      markupPercent: '10',
      moreParents: [y],
      compaction: 'first',
    });
    expect(derived.status).toBe(201);
    const names = { [x]: 'X', [y]: 'Y' };
    expect(await traced(derived.body.id, ['4415'], undefined, names)).toEqual({
      '4415': ['0.1100', 'X'],
    });
    // In 2030 it sells at X's new price, not at 0.1100 against X's 0.3000.
    expect(await traced(derived.body.id, ['4415'], '2030-06-01T00:00:00.000Z', names)).toEqual({
      '4415': ['0.3300', 'X'],
    });
    expect(derived.body.losingRates).toBe(0);

    // A parent whose own longer row prices the prefix is not changed by its shorter one's
    // date: the card repeats no row for it.
    const z = await provider('Z own longer', [
      { prefix: '33', destination: 'France', rate: '0.0200' },
      { prefix: '331', destination: 'Paris', rate: '0.0100' },
      { prefix: '33', destination: 'France', rate: '0.0400', effectiveFrom: later },
    ]);
    const both = await admin.post(`/cards/${z}/derive`, {
      name: 'Sell ZX',
      markupPercent: '10',
      moreParents: [x],
      compaction: 'first',
    });
    expect(both.status).toBe(201);
    const rows = (await admin.get(`/cards/${both.body.id}/rates?limit=500`)).body.items as {
      prefix: string;
      effectiveFrom: string | null;
    }[];
    expect(rows.filter((row) => row.prefix === '331').map((row) => row.effectiveFrom)).toEqual([
      null,
    ]);
  });

  it('refuses bad lists naming the field; a parent the caller cannot see is a 404', async () => {
    const bad = async (body: Record<string, unknown>) =>
      admin.post(`/cards/${card.A}/derive`, { name: 'Bad', ...body });
    const currency = await bad({ moreParents: [card.USD] });
    expect(currency.status).toBe(400);
    expect(currency.body.error.fields['moreParents.0']).toBe('is in USD, not EUR');
    const self = await bad({ moreParents: [card.A] });
    expect(self.status).toBe(400);
    expect(self.body.error.fields).toHaveProperty(['moreParents']);
    const twice = await bad({ moreParents: [card.B, card.B] });
    expect(twice.status).toBe(400);
    expect(twice.body.error.fields).toHaveProperty(['moreParents']);
    const notId = await bad({ moreParents: ['nope'] });
    expect(notId.status).toBe(400);
    expect(notId.body.error.fields).toHaveProperty(['moreParents.0']);
    const compaction = await bad({ moreParents: [card.B], compaction: 'cheapest' });
    expect(compaction.status).toBe(400);
    expect(compaction.body.error.fields).toHaveProperty(['compaction']);

    const own = await outsider.post('/cards', { name: 'Own', currency: 'EUR', kind: 'provider' });
    expect(own.status).toBe(201);
    const hidden = await outsider.post(`/cards/${own.body.id}/derive`, {
      name: 'Sell',
      moreParents: [card.B],
    });
    expect(hidden.status).toBe(404);
  });

  it('keeps every parent’s assignment while a card derived from it stands', async () => {
    const resellerId = (await outsider.get('/me')).body.account.id as string;
    // Wholesale cards over A and B (provider cards are never assigned), both held by R.
    const [first, second] = await Promise.all(
      [card.A, card.B].map(
        async (id) => (await admin.post(`/cards/${id}/derive`, { name: `W ${id}` })).body.id,
      ),
    );
    const assigned: Record<string, string> = {};
    for (const id of [first, second]) {
      const made = await admin.post('/assignments', { cardId: id, accountId: resellerId });
      expect(made.status).toBe(201);
      assigned[id] = made.body.id;
    }
    const sell = await outsider.post(`/cards/${first}/derive`, {
      name: 'R sell',
      markupPercent: '10',
      moreParents: [second],
      compaction: 'lowest',
    });
    expect(sell.status).toBe(201);
    // The second parent as much as the first: removing either would orphan the card.
    for (const id of [second, first]) {
      const removed = await admin.del(`/assignments/${assigned[id]}`);
      expect(removed.status).toBe(409);
      expect(removed.body.error.dependants).toEqual([
        { resource: 'cards', id: sell.body.id, name: 'R sell' },
      ]);
    }
    expect((await outsider.del(`/cards/${sell.body.id}`)).status).toBe(204);
    for (const id of [second, first]) {
      expect((await admin.del(`/assignments/${assigned[id]}`)).status).toBe(204);
    }
  });

  it('changes a card’s parents after it was made, by the rules of deriving', async () => {
    const made = await admin.post(`/cards/${card.A}/derive`, {
      name: 'Repointed',
      markupPercent: '10',
    });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    const revisions = async () =>
      ((await admin.get(`/cards/${id}/revisions`)).body.items as { number: number }[]).length;
    const before = await revisions();
    let version = made.body.version as number;
    const patch = async (body: Record<string, unknown>) => {
      const answer = await admin.patch(`/cards/${id}`, { version, ...body });
      if (answer.status === 200) version = answer.body.version;
      return answer;
    };

    const both = await patch({ parents: [card.A, card.B], compaction: 'lowest' });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ parentIds: [card.A, card.B], compaction: 'lowest' });
    expect(await revisions()).toBe(before + 1);
    expect(await traced(id, PREFIXES)).toEqual({
      '44': ['0.0165', 'B'],
      '441': ['0.0165', 'B'],
      '4420': ['0.0110', 'B'],
      '33': ['0.0110', 'A'],
      '49': ['0.0330', 'B'],
    });
    const highest = await patch({ compaction: 'highest' });
    expect(highest.status).toBe(200);
    expect((await traced(id, ['33']))['33']).toEqual(['0.0330', 'B']);

    const onlyB = await patch({ parents: [card.B] });
    expect(onlyB.status).toBe(200);
    expect(onlyB.body).toMatchObject({ parentId: card.B, parentIds: [card.B], compaction: null });
    expect(
      Object.fromEntries(
        Object.entries(await traced(id, ['44', '33', '49'])).map(([prefix, [rate]]) => [
          prefix,
          rate,
        ]),
      ),
    ).toEqual({ '44': '0.0165', '33': '0.0330', '49': '0.0330' });

    const child = (await admin.post(`/cards/${id}/derive`, { name: 'Below it' })).body.id;
    const refused = async (body: Record<string, unknown>, field: string, status = 400) => {
      const answer = await patch(body);
      expect(answer.status).toBe(status);
      if (status === 400) expect(answer.body.error.fields).toHaveProperty([field]);
    };
    await refused({ parents: [card.USD] }, 'parents.0');
    await refused({ parents: [card.A, id] }, 'parents.1');
    await refused({ parents: [child] }, 'parents.0');
    await refused({ parents: [card.A, card.A] }, 'parents');
    await refused({ parents: [] }, 'parents');
    await refused({ parents: Array.from({ length: 11 }, () => crypto.randomUUID()) }, 'parents');
    await refused({ compaction: 'lowest' }, 'compaction');
    await refused({ parents: [crypto.randomUUID()] }, '', 404);
    const own = (await admin.post('/cards', { name: 'Hand', currency: 'EUR', kind: 'customer' }))
      .body;
    const onHand = await admin.patch(`/cards/${own.id}`, {
      version: own.version,
      parents: [card.A],
    });
    expect(onHand.status).toBe(400);
    expect(onHand.body.error.fields).toHaveProperty(['parents']);
    expect((await admin.get(`/cards/${id}`)).body.parentIds).toEqual([card.B]);
  });

  it.skipIf(embedded)('never lets two changes of parents at once make a cycle', async () => {
    const derive = async (name: string) =>
      (await admin.post(`/cards/${card.A}/derive`, { name, markupPercent: '10' })).body as {
        id: string;
        version: number;
      };
    const [x, y] = [await derive('Cycle X'), await derive('Cycle Y')];
    // Another writer is making Y follow X: Y's row held, its parents rewritten, not yet
    // committed — as a PATCH of Y holds them until it commits.
    const other = new pg.Client({ connectionString: suite.db.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select 1 from card where id = $1 for update', [y.id]);
      await other.query('delete from card_parent where card_id = $1', [y.id]);
      await other.query(
        'insert into card_parent (card_id, parent_id, position) values ($1, $2, 0)',
        [y.id, x.id],
      );
      // X to follow Y meanwhile: it waits for that writer (whose new row holds X's key
      // against X's update) instead of reading past it…
      const patched = admin.patch(`/cards/${x.id}`, { version: x.version, parents: [y.id] });
      await waitForLockWaiters(suite.orm, 1);
      await other.query('commit');
      // …and so finds Y derived from X.
      const answer = await patched;
      expect(answer.status).toBe(400);
      expect(answer.body.error.fields).toEqual({ 'parents.0': 'is derived from this card' });
    } finally {
      await other.end();
    }
    const followed = await suite.orm.em
      .fork()
      .execute<{ parent_id: string }[]>('select parent_id from card_parent where card_id = ?', [
        x.id,
      ]);
    expect(followed.map((row) => row.parent_id)).toEqual([card.A]);
  });

  it('never makes a card its own parent, whatever the case of its id', async () => {
    const own = (await admin.post(`/cards/${card.A}/derive`, { name: 'Self', markupPercent: '10' }))
      .body as { id: string; version: number };
    const shouting = own.id.toUpperCase();
    const patched = await admin.patch(`/cards/${own.id}`, {
      version: own.version,
      parents: [shouting],
    });
    expect(patched.status).toBe(400);
    expect(patched.body.error.fields).toEqual({ 'parents.0': 'is this card' });
    const derived = await admin.post(`/cards/${card.A}/derive`, {
      name: 'Self again',
      markupPercent: '10',
      moreParents: [card.A.toUpperCase()],
    });
    expect(derived.status).toBe(400);
    expect(derived.body.error.fields).toEqual({ moreParents: 'names the card derived from' });
    // And the database refuses it whoever writes.
    await expect(
      suite.orm.em
        .fork()
        .execute('update card_parent set parent_id = card_id where card_id = ?', [own.id]),
    ).rejects.toThrow(/card_parent_not_self/);
    const followed = await suite.orm.em
      .fork()
      .execute<{ parent_id: string }[]>('select parent_id from card_parent where card_id = ?', [
        own.id,
      ]);
    expect(followed.map((row) => row.parent_id)).toEqual([card.A]);
  });

  it('keeps the single-parent card as it was: a list of one', async () => {
    const single = await admin.post(`/cards/${card.A}/derive`, {
      name: 'One',
      markupPercent: '10',
    });
    expect(single.status).toBe(201);
    expect(single.body.parentIds).toEqual([card.A]);
    expect(single.body.compaction).toBeNull();
    expect(await traced(single.body.id, ['44', '4420'])).toEqual({
      '44': ['0.0220', null],
      '4420': ['0.0220', null],
    });
  });
});

describe('a minimum duration on a derived card', () => {
  it('bills a short call as the minimum, is inherited, and the margin check counts it', async () => {
    const buy = (
      await admin.post('/cards', { name: 'Per second', currency: 'EUR', kind: 'provider' })
    ).body.id as string;
    const rates = [
      {
        prefix: '44',
        destination: 'UK',
        rate: '0.0200',
        initialIncrement: 1,
        increment: 1,
      },
    ];
    expect((await admin.put(`/cards/${buy}/rates`, { rates })).status).toBe(200);
    const min = await admin.post(`/cards/${buy}/derive`, { name: 'Min 60', minimumSeconds: 60 });
    expect(min.status).toBe(201);
    expect(min.body.markup.minimumSeconds).toBe(60);
    const call = await admin.get(
      `/rates/lookup?accountId=${carrierId}&cardId=${min.body.id}&number=4420&seconds=10`,
    );
    expect(call.status).toBe(200);
    const [top, mine] = call.body.levels;
    expect([top.billedSeconds, top.amount]).toEqual([10, '0.0033']);
    expect([mine.minimumSeconds, mine.billedSeconds, mine.amount]).toEqual([60, 60, '0.0200']);

    // Sold on with the minimum inherited: no call loses.
    const inherits = await admin.post(`/cards/${min.body.id}/derive`, {
      name: 'Inherits',
      markupPercent: '10',
    });
    expect(inherits.body.losingRates).toBe(0);
    // Sold on without it (its own 0): a 10 s call sells for 10 s, bought for 60 s.
    const drops = await admin.post(`/cards/${min.body.id}/derive`, {
      name: 'Drops it',
      markupPercent: '10',
      minimumSeconds: 0,
    });
    expect(drops.body.losingRates).toBe(1);
    const report = await admin.get(`/cards/${drops.body.id}/margin`);
    expect(report.body.items[0]).toMatchObject({
      prefix: '44',
      buy: { minimumSeconds: 60 },
      sell: { minimumSeconds: 0 },
      firstLosingSeconds: 1,
      sellsBelowBuyRate: false,
    });
  });
});

describe('a minimum duration on a provider row', () => {
  it('is taken by PUT and CSV import, validated, billed, exported and imported back', async () => {
    const buy = (
      await admin.post('/cards', { name: 'Minimums', currency: 'EUR', kind: 'provider' })
    ).body.id as string;
    const perSecond = { initialIncrement: 1, increment: 1 };
    const put = await admin.put(`/cards/${buy}/rates`, {
      rates: [
        { prefix: '44', destination: 'UK', rate: '0.0600', ...perSecond, minimumSeconds: 30 },
        { prefix: '33', destination: 'France', rate: '0.0600', ...perSecond },
      ],
    });
    expect(put.status).toBe(200);
    const billed = async (number: string) => {
      const call = await admin.get(
        `/rates/lookup?accountId=${carrierId}&cardId=${buy}&number=${number}&seconds=10`,
      );
      expect(call.status).toBe(200);
      const level = call.body.levels.at(-1);
      return [level.minimumSeconds, level.billedSeconds, level.amount];
    };
    expect(await billed('4420')).toEqual([30, 30, '0.0300']);
    expect(await billed('331')).toEqual([0, 10, '0.0100']);

    for (const [value, index] of [
      [3601, 0],
      [1.5, 1],
      [-1, 0],
    ] as const) {
      const rates = [
        { prefix: '44', destination: 'UK', rate: '0.0600' },
        { prefix: '33', destination: 'France', rate: '0.0600' },
      ];
      rates[index] = { ...rates[index]!, minimumSeconds: value } as (typeof rates)[number];
      const bad = await admin.put(`/cards/${buy}/rates`, { rates });
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields).toHaveProperty([`rates.${index}.minimumSeconds`]);
    }

    const badCsv = await admin.raw(
      'POST',
      `/cards/${buy}/rates/import`,
      'prefix,destination,rate,minimumSeconds\n44,UK,0.0600,60\n33,France,0.0600,4000\n',
      'text/csv',
    );
    expect(badCsv.status).toBe(400);
    expect(JSON.parse(badCsv.text).error.lines).toEqual([
      { line: 3, reason: expect.stringMatching(/^minimumSeconds must be 0 to 3600/) },
    ]);

    const csv = await admin.raw(
      'POST',
      `/cards/${buy}/rates/import`,
      'prefix,destination,rate,initialIncrement,increment,minimumSeconds\n44,UK,0.0600,1,1,45\n33,France,0.0600,1,1,\n',
      'text/csv',
    );
    expect(csv.status).toBe(200);
    expect(await billed('4420')).toEqual([45, 45, '0.0450']);
    expect(await billed('331')).toEqual([0, 10, '0.0100']);

    const exported = await admin.raw('GET', `/cards/${buy}/rates/export`);
    const lines = exported.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'prefix,destination,rate,connectionFee,initialIncrement,increment,graceSeconds,effectiveFrom,blocked,minimumSeconds',
    );
    expect(lines.slice(1)).toEqual([
      '33,France,0.0600,0.0000,1,1,0,,false,',
      '44,UK,0.0600,0.0000,1,1,0,,false,45',
    ]);
    // Imported back as it was: the same revision rows, nothing changed.
    const again = await admin.raw('POST', `/cards/${buy}/rates/import`, exported.text, 'text/csv');
    expect(again.status).toBe(200);
    const revisions = (await admin.get(`/cards/${buy}/revisions`)).body.items as {
      counts: { unchanged: number; changed: number };
    }[];
    expect(revisions[0]!.counts).toMatchObject({ unchanged: 2, changed: 0 });
    expect(await billed('4420')).toEqual([45, 45, '0.0450']);
  });
});

describe('profit assurance for a customer card built by hand', () => {
  it('lists the rows selling below the cheapest matching provider rate on some call', async () => {
    const made = await admin.post('/cards', { name: 'Retail', currency: 'EUR', kind: 'customer' });
    expect(made.status).toBe(201);
    const retail = made.body.id as string;
    const rows = [
      // Above B's 0.0150, the cheapest UK rate: fine.
      { prefix: '44', destination: 'UK', rate: '0.0160' },
      // Below A's 0.0100 (B's 0.0300 is dearer): loses per minute.
      { prefix: '33', destination: 'France', rate: '0.0090' },
      // Above B's 0.0100 on its longer prefix (A's 44 at 0.0200 is not the cheapest).
      { prefix: '4420', destination: 'London', rate: '0.0105' },
      // B's rate, but per second against B's 60/60: a 1 s call sells for 1 s, bought for 60.
      { prefix: '49', destination: 'Germany', rate: '0.0300', initialIncrement: 1, increment: 1 },
    ];
    expect((await admin.put(`/cards/${retail}/rates`, { rates: rows })).status).toBe(200);
    const before = await admin.get(`/cards/${retail}/margin`);
    expect(before.body.total).toBe(0);

    const patched = await admin.patch(`/cards/${retail}`, {
      version: (await admin.get(`/cards/${retail}`)).body.version,
      compareWith: [card.A, card.B],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.compareWith).toEqual([card.A, card.B]);
    const report = await admin.get(`/cards/${retail}/margin`);
    expect(report.status).toBe(200);
    expect(report.body.total).toBe(2);
    const items = report.body.items as {
      prefix: string;
      pricedBy: { cardId: string };
      buy: { rate: string };
      firstLosingSeconds: number | null;
      sellsBelowBuyRate: boolean;
    }[];
    expect(
      items.map((row) => [
        row.prefix,
        row.pricedBy.cardId,
        row.buy.rate,
        row.sellsBelowBuyRate,
        row.firstLosingSeconds,
      ]),
    ).toEqual([
      ['33', card.A, '0.0100', true, 1],
      ['49', card.B, '0.0300', false, 1],
    ]);

    const usd = await admin.patch(`/cards/${retail}`, {
      version: patched.body.version,
      compareWith: [card.USD],
    });
    expect(usd.status).toBe(400);
    expect(usd.body.error.fields['compareWith.0']).toBe('is in USD, not EUR');
    const derived = (await admin.post(`/cards/${card.A}/derive`, { name: 'Derived' })).body;
    const onDerived = await admin.patch(`/cards/${derived.id}`, {
      version: derived.version,
      compareWith: [card.B],
    });
    expect(onDerived.status).toBe(400);
    expect(onDerived.body.error.fields).toHaveProperty(['compareWith']);

    const own = await outsider.post('/cards', { name: 'Mine', currency: 'EUR', kind: 'customer' });
    const hidden = await outsider.patch(`/cards/${own.body.id}`, {
      version: own.body.version,
      compareWith: [card.A],
    });
    expect(hidden.status).toBe(404);
  });

  it('checks every number a row sells: a dearer longer provider prefix under it loses', async () => {
    const retail = (
      await admin.post('/cards', { name: 'Under', currency: 'EUR', kind: 'customer' })
    ).body.id as string;
    // 44 sells above A's 44 (0.0200) but below A's 441 (0.0400), which prices the 441…
    // numbers this row sells; France sells above A's 0.0100.
    const rows = [
      { prefix: '44', destination: 'UK', rate: '0.0300' },
      { prefix: '33', destination: 'France', rate: '0.0200' },
    ];
    expect((await admin.put(`/cards/${retail}/rates`, { rates: rows })).status).toBe(200);
    const compare = async (providers: string[]) =>
      expect(
        (
          await admin.patch(`/cards/${retail}`, {
            version: (await admin.get(`/cards/${retail}`)).body.version,
            compareWith: providers,
          })
        ).status,
      ).toBe(200);
    const losing = async () => {
      const report = await admin.get(`/cards/${retail}/margin`);
      expect(report.status).toBe(200);
      const items = report.body.items as {
        prefix: string;
        pricedBy: { cardId: string; prefix: string };
        buy: { rate: string };
        sellsBelowBuyRate: boolean;
      }[];
      expect(report.body.total).toBe(items.length);
      return items.map((row) => [
        row.prefix,
        row.pricedBy.cardId,
        row.pricedBy.prefix,
        row.buy.rate,
        row.sellsBelowBuyRate,
      ]);
    };
    await compare([card.A]);
    expect(await losing()).toEqual([['44', card.A, '441', '0.0400', true]]);
    // The alert names the row too, as soon as the card is compared.
    const alerted = await suite.orm.em
      .fork()
      .getConnection()
      .execute<{ summary: { prefixes: string[] } }[]>(
        `select summary from change_log
          where entity_id = ? and summary->>'event' = 'margin_alert' order by seq`,
        [retail],
      );
    expect(alerted.map((row) => row.summary.prefixes)).toEqual([['44']]);

    // Compared with B as well, the 441… numbers cost B's 44 (0.0150), the cheapest there,
    // and 4420… B's 4420 (0.0100): nothing the row sells loses.
    await compare([card.A, card.B]);
    expect(await losing()).toEqual([]);

    // Against A alone again, a longer row of the card's own sells the 441… numbers: the
    // 44 row no longer does, and the longer row sells above A's 441.
    await compare([card.A]);
    const own = [...rows, { prefix: '441', destination: 'UK geographic', rate: '0.0450' }];
    expect((await admin.put(`/cards/${retail}/rates`, { rates: own })).status).toBe(200);
    expect(await losing()).toEqual([]);
    // Below it, it is that row that loses, against the same provider row.
    own[2]!.rate = '0.0350';
    expect((await admin.put(`/cards/${retail}/rates`, { rates: own })).status).toBe(200);
    expect(await losing()).toEqual([['441', card.A, '441', '0.0400', true]]);
  });

  it('raises cards.margin_alert for rows that start losing, however they came to', async () => {
    /** The card's margin events so far, oldest first. */
    const events = async (cardId: string) =>
      (
        await suite.orm.em
          .fork()
          .getConnection()
          .execute<{ summary: { count: number; prefixes: string[]; cured?: number } }[]>(
            `select summary from change_log
              where entity_id = ? and summary->>'event' = 'margin_alert' order by seq`,
            [cardId],
          )
      ).map((row) => row.summary);
    /** Its alerts of rows newly losing, oldest first: [count, prefixes]. */
    const alerts = async (cardId: string) =>
      (await events(cardId))
        .filter((summary) => summary.count > 0)
        .map((summary) => [summary.count, summary.prefixes]);
    const retail = (
      await admin.post('/cards', { name: 'Assured', currency: 'EUR', kind: 'customer' })
    ).body.id as string;
    const rows = [
      { prefix: '44', destination: 'UK', rate: '0.0160' },
      { prefix: '33', destination: 'France', rate: '0.0090' },
      { prefix: '49', destination: 'Germany', rate: '0.0300', initialIncrement: 1, increment: 1 },
    ];
    expect((await admin.put(`/cards/${retail}/rates`, { rates: rows })).status).toBe(200);
    expect(await alerts(retail)).toEqual([]);

    // Compared: the two rows that lose are told, once.
    const patched = await admin.patch(`/cards/${retail}`, {
      version: (await admin.get(`/cards/${retail}`)).body.version,
      compareWith: [card.A, card.B],
    });
    expect(patched.status).toBe(200);
    expect(await alerts(retail)).toEqual([[2, ['33', '49']]]);

    // Its own rates change: only the row that starts losing (below B's 4420) is new.
    const more = [...rows, { prefix: '4420', destination: 'London', rate: '0.0090' }];
    expect((await admin.put(`/cards/${retail}/rates`, { rates: more })).status).toBe(200);
    expect(await alerts(retail)).toEqual([
      [2, ['33', '49']],
      [1, ['4420']],
    ]);

    // A provider schedules a dearer UK rate: told before it goes live.
    const dearer = B.map((row) => (row.prefix === '44' ? { ...row, rate: '0.0170' } : row));
    const scheduled = await admin.put(`/cards/${card.B}/rates`, {
      rates: dearer,
      liveAt: inHours(3),
    });
    expect(scheduled.status).toBe(200);
    expect((await alerts(retail)).at(-1)).toEqual([1, ['44']]);
    expect((await alerts(retail)).length).toBe(3);

    // Withdrawn: UK no longer loses, so the same rate live later is new again.
    const revisions = (await admin.get(`/cards/${card.B}/revisions`)).body.items as {
      number: number;
      state: string;
    }[];
    expect(revisions[0]!.state).toBe('scheduled');
    expect((await admin.del(`/cards/${card.B}/revisions/${revisions[0]!.number}`)).status).toBe(
      204,
    );
    expect((await alerts(retail)).length).toBe(3);
    // Not an alert, but the same event with no new rows: an open margin report follows
    // the row that stopped losing (nothing else about the card changed).
    expect((await events(retail)).at(-1)).toMatchObject({ count: 0, cured: 1 });
    expect((await admin.put(`/cards/${card.B}/rates`, { rates: dearer })).status).toBe(200);
    expect((await alerts(retail)).at(-1)).toEqual([1, ['44']]);
    expect((await alerts(retail)).length).toBe(4);
    const report = await admin.get(`/cards/${retail}/margin`);
    expect(report.body.items.map((row: { prefix: string }) => row.prefix)).toEqual([
      '33',
      '44',
      '4420',
      '49',
    ]);

    // B as it was: nothing new loses, no alert; UK stopped losing, which the report hears.
    expect((await admin.put(`/cards/${card.B}/rates`, { rates: B })).status).toBe(200);
    expect((await alerts(retail)).length).toBe(4);
    expect((await events(retail)).at(-1)).toMatchObject({ count: 0, cured: 1 });
  });
});

describe('Migration20261208130500', () => {
  it('lists the one parent of a derived card written without its card_parent row', async () => {
    // As the demo seed wrote its derived cards: `parent_id` only, so the trace stopped.
    const one = (await admin.post(`/cards/${card.A}/derive`, { name: 'Seeded' })).body.id;
    const em = suite.orm.em.fork();
    await em.execute('delete from card_parent where card_id = ?', [one]);
    const levels = async () =>
      (
        await admin.get(`/rates/lookup?accountId=${carrierId}&cardId=${one}&number=4420&seconds=60`)
      ).body.levels.map((level: { cardId: string }) => level.cardId);
    expect(await levels()).toEqual([one]);
    const migration = new Migration20261208130500(
      suite.orm.em.getDriver() as unknown as ConstructorParameters<
        typeof Migration20261208130500
      >[0],
      suite.orm.config,
    );
    await migration.up();
    await em.transactional(async (tx) => {
      for (const query of migration.getQueries()) await tx.execute(query as string);
    });
    expect(await levels()).toEqual([card.A, one]);
    const rows = await em.execute<{ parent_id: string; position: number }[]>(
      'select parent_id, position from card_parent where card_id = ?',
      [one],
    );
    expect(rows).toEqual([{ parent_id: card.A, position: 0 }]);
  });
});

describe('a chain of derived cards', () => {
  /** `rate` of each row of a card, by prefix, as the owner reads them. */
  async function ratesOf(cardId: string) {
    const page = await admin.get(`/cards/${cardId}/rates?limit=500`);
    expect(page.status).toBe(200);
    return Object.fromEntries(
      (page.body.items as { prefix: string; rate: string }[]).map((row) => [row.prefix, row.rate]),
    );
  }

  /** A provider card and five derived below it at 1000 %: the longest chain there may be. */
  async function chainOfSix(topName: string, levelName: string) {
    const top = (await admin.post('/cards', { name: topName, currency: 'EUR', kind: 'provider' }))
      .body.id as string;
    const rates = [
      { prefix: '33', destination: 'France', rate: '1' },
      { prefix: '44', destination: 'UK', rate: '999999' },
    ];
    expect((await admin.put(`/cards/${top}/rates`, { rates })).status).toBe(200);
    const chain = [top];
    for (let level = 2; level <= 6; level++) {
      const made = await admin.post(`/cards/${chain.at(-1)}/derive`, {
        name: `${levelName} ${level}`,
        markupPercent: '1000',
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      chain.push(made.body.id);
    }
    return { top, chain, rates };
  }

  it('holds at most 6 cards: a derive or a change of parents past it is 409 naming the parent', async () => {
    // At the largest price and markup the schema takes, the 6th card still fits numeric(18,6).
    const { top, chain, rates } = await chainOfSix('Top', 'Level');
    expect((await ratesOf(chain[5]!))['44']).toBe('161050838949.0000');
    expect((await admin.put(`/cards/${top}/rates`, { rates })).status).toBe(200);

    const seventh = await admin.post(`/cards/${chain[5]}/derive`, { name: 'Level 7' });
    expect(seventh.status).toBe(409);
    expect(seventh.body.error).toMatchObject({ code: 'chain_too_deep', maxLevels: 6 });
    expect(Object.keys(seventh.body.error.fields)).toEqual(['parentId']);
    expect(seventh.body.error.message).toContain('Level 6');
    const second = await admin.post(`/cards/${card.A}/derive`, {
      name: 'Level 7 too',
      moreParents: [chain[5]],
    });
    expect(second.status).toBe(409);
    expect(Object.keys(second.body.error.fields)).toEqual(['moreParents.0']);

    // A card moves with the cards derived from it: two levels under the 5th make 7.
    const moved = (await admin.post(`/cards/${card.A}/derive`, { name: 'Moved' })).body;
    await admin.post(`/cards/${moved.id}/derive`, { name: 'Below moved' });
    const tooDeep = await admin.patch(`/cards/${moved.id}`, {
      version: moved.version,
      parents: [card.A, chain[4]],
    });
    expect(tooDeep.status).toBe(409);
    expect(tooDeep.body.error.code).toBe('chain_too_deep');
    expect(Object.keys(tooDeep.body.error.fields)).toEqual(['parents.1']);
    expect((await admin.get(`/cards/${moved.id}`)).body.parentIds).toEqual([card.A]);
    const fits = await admin.patch(`/cards/${moved.id}`, {
      version: moved.version,
      parents: [chain[3]],
    });
    expect(fits.status, JSON.stringify(fits.body)).toBe(200);

    // A holder of the 6th card learns it cannot derive, not how many cards sit above it.
    const resellerId = (await outsider.get('/me')).body.account.id as string;
    const assigned = await admin.post('/assignments', { cardId: chain[5], accountId: resellerId });
    expect(assigned.status).toBe(201);
    const held = await outsider.post(`/cards/${chain[5]}/derive`, { name: 'Too deep for R' });
    expect(held.status).toBe(409);
    expect(held.body.error).toMatchObject({
      code: 'chain_too_deep',
      fields: { parentId: 'is too deep to follow: the chain would hold more than 6 cards' },
    });
    expect(held.body.error.message).toMatch(/would make a longer one\.$/);
    expect((await admin.del(`/assignments/${assigned.body.id}`)).status).toBe(204);
  });

  it('refuses a write whose recompute would overflow a card below, naming the row and the card', async () => {
    const { top, chain, rates } = await chainOfSix('Old top', 'Old level');
    // A 7th card, as a chain made before the limit has one: derived from the 5th, then
    // moved under the 6th behind the API's back (`card_parent` is what the recompute follows).
    const deep = (
      await admin.post(`/cards/${chain[4]}/derive`, { name: 'Old level 7', markupPercent: '1000' })
    ).body.id as string;
    await suite.orm.em
      .fork()
      .execute('update card_parent set parent_id = ? where card_id = ?', [chain[5], deep]);
    const before = { top: await ratesOf(top), deep: await ratesOf(deep) };

    const put = await admin.put(`/cards/${top}/rates`, {
      rates: [{ ...rates[0]!, rate: '2' }, rates[1]],
    });
    expect(put.status).toBe(400);
    expect(put.body.error.card).toEqual({ id: deep, name: 'Old level 7' });
    expect(put.body.error.prefix).toBe('44');
    expect(Object.keys(put.body.error.fields)).toEqual(['rates.1.rate']);
    expect(put.body.error.fields['rates.1.rate']).toMatch(
      /"Old level 7" 1771559228439\.0000, above/,
    );

    const csv = ['prefix,destination,rate', '33,France,2', '', '44,UK,999999'].join('\n');
    const imported = await admin.raw('POST', `/cards/${top}/rates/import`, csv, 'text/csv');
    expect(imported.status).toBe(400);
    const lines = JSON.parse(imported.text).error.lines as { line: number; reason: string }[];
    expect(lines).toEqual([{ line: 4, reason: expect.stringMatching(/^rate .*Old level 7/) }]);

    const second = (await admin.get(`/cards/${chain[1]}`)).body;
    const markup = await admin.patch(`/cards/${chain[1]}`, {
      version: second.version,
      markupPercent: '999',
    });
    expect(markup.status).toBe(400);
    expect(Object.keys(markup.body.error.fields)).toEqual(['markupPercent']);
    expect(markup.body.error.card.id).toBe(deep);

    // Nothing written anywhere along the chain.
    expect({ top: await ratesOf(top), deep: await ratesOf(deep) }).toEqual(before);
    expect((await admin.get(`/cards/${chain[1]}`)).body.version).toBe(second.version);
  });
});
