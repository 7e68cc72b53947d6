import { beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { listenAs } from '../fixtures/cookie-listener';

/**
 * A few rates changed by hand (`PATCH /cards/{id}/rates`) over the real API and
 * PostgreSQL: rows added, replaced and removed as one revision with the rest of the set
 * kept, derived cards recomputed with it, live to a holder; every bad row refused by name
 * with nothing written; only the owner's side of a card that is not derived.
 */
const ADMIN = { email: 'admin@patch.test', password: 'patch-admin-pass-1' };
const PASSWORD = 'patch-user-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let outsider: TApiClient;
let carrierId: string;
const card = {} as Record<'P' | 'D', string>;

const FIRST = [
  { prefix: '44', destination: 'UK', rate: '0.0200' },
  { prefix: '441', destination: 'UK geographic', rate: '0.0400' },
  { prefix: '33', destination: 'France', rate: '0.0123' },
  { prefix: '49', destination: 'Germany', rate: '0.0300', effectiveFrom: '2031-01-01T00:00:00Z' },
];

async function rates(cardId: string): Promise<Record<string, string>> {
  const page = await admin.get(`/cards/${cardId}/rates?limit=500`);
  expect(page.status).toBe(200);
  return Object.fromEntries(
    (page.body.items as { prefix: string; rate: string; effectiveFrom: string | null }[]).map(
      (row) => [
        row.effectiveFrom ? `${row.prefix}@${row.effectiveFrom.slice(0, 4)}` : row.prefix,
        row.rate,
      ],
    ),
  );
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  carrierId = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  const reseller = (await admin.post('/resellers', { name: 'R', email: 'r@patch.test' })).body.id;
  expect(
    (
      await admin.post('/users', {
        email: 'ops@r.patch.test',
        password: PASSWORD,
        accountId: reseller,
        groupId: group.id,
      })
    ).status,
  ).toBe(201);
  outsider = await apiClient(suite.server.url, 'ops@r.patch.test', PASSWORD);
  card.P = (await admin.post('/cards', { name: 'Buy', currency: 'EUR', kind: 'provider' })).body.id;
  expect((await admin.put(`/cards/${card.P}/rates`, { rates: FIRST })).status).toBe(200);
  const derived = await admin.post(`/cards/${card.P}/derive`, {
    name: 'Sell',
    markupPercent: '50',
  });
  expect(derived.status).toBe(201);
  card.D = derived.body.id;
  expect((await admin.post('/assignments', { cardId: card.D, accountId: reseller })).status).toBe(
    201,
  );
});

describe('rates changed by hand', () => {
  it('adds, replaces and removes rows as one revision, the rest kept, derived cards in step', async () => {
    const holder = await listenAs(suite.server.url, outsider);
    try {
      const patched = await admin.patch(`/cards/${card.P}/rates`, {
        upsert: [
          { prefix: '44', destination: 'UK', rate: '0.0250' },
          { prefix: '1', destination: 'NANP', rate: '0.0050' },
        ],
        remove: [{ prefix: '441' }],
      });
      expect(patched.status).toBe(200);
      expect(patched.body.rows).toBe(4);
      expect(await rates(card.P)).toEqual({
        '1': '0.0050',
        '33': '0.0123',
        '44': '0.0250',
        '49@2031': '0.0300',
      });
      // The card sold from it follows in the same transaction (+50 %).
      expect(await rates(card.D)).toEqual({
        '1': '0.0075',
        '33': '0.0185',
        '44': '0.0375',
        '49@2031': '0.0450',
      });
      const revisions = (await admin.get(`/cards/${card.P}/revisions`)).body.items;
      expect(revisions[0]).toMatchObject({ number: patched.body.revision.number, state: 'live' });
      // The derived card's holder hears of it, as of any write to the set.
      const deadline = Date.now() + 10_000;
      while (!holder.received.some((e) => e.type === 'cards.rates_changed' && e.id === card.D)) {
        expect(Date.now(), 'the derived card’s rates changed, live').toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // With the rows added, changed and removed (DESIGN §2: a bulk change's summary),
      // as the revision counted them — its own card's in the log, the holder's too.
      const told = holder.received.find(
        (e) => e.type === 'cards.rates_changed' && e.id === card.D,
      )!;
      expect(told.summary).toMatchObject({
        event: 'rates_changed',
        counts: { added: 1, removed: 1, increased: 1 },
      });
      const log = await admin.get(`/events?since=${holder.hello.seq}&limit=1000`);
      const own = log.body.items.find(
        (e: { type: string; id: string }) => e.type === 'cards.rates_changed' && e.id === card.P,
      );
      expect(own.summary.counts).toEqual(patched.body.revision.counts);
    } finally {
      holder.socket.close();
    }
  });

  it('removes a dated row by its time, and schedules a change for later', async () => {
    const dated = await admin.patch(`/cards/${card.P}/rates`, {
      remove: [{ prefix: '49', effectiveFrom: '2031-01-01T00:00:00.000Z' }],
    });
    expect(dated.status).toBe(200);
    expect(Object.keys(await rates(card.P))).not.toContain('49@2031');
    const later = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const scheduled = await admin.patch(`/cards/${card.P}/rates`, {
      upsert: [{ prefix: '33', destination: 'France', rate: '0.0110' }],
      liveAt: later,
    });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.revision.state).toBe('scheduled');
    // Live now: as it was until then.
    expect((await rates(card.P))['33']).toBe('0.0123');
    // A change going live before it is refused for that, whatever its rows say.
    const before = await admin.patch(`/cards/${card.P}/rates`, { remove: [{ prefix: '7' }] });
    expect(before.status).toBe(409);
    expect(before.body.error.code).toBe('revision_scheduled');
    expect(
      (await admin.del(`/cards/${card.P}/revisions/${scheduled.body.revision.number}`)).status,
    ).toBe(204);
  });

  it('changes terms in force by a row dated "now", over every row dated before it', async () => {
    // 48: always 0.0100, from t1 0.0200, from t2 0.0300 — both dates passed.
    const t1 = new Date(Date.now() + 1_000).toISOString();
    const t2 = new Date(Date.now() + 1_500).toISOString();
    const dated = await admin.patch(`/cards/${card.P}/rates`, {
      upsert: [
        { prefix: '48', destination: 'Poland', rate: '0.0100' },
        { prefix: '48', destination: 'Poland', rate: '0.0200', effectiveFrom: t1 },
        { prefix: '48', destination: 'Poland', rate: '0.0300', effectiveFrom: t2 },
      ],
    });
    expect(dated.status).toBe(200);
    while (Date.now() <= Date.parse(t2) + 50) await new Promise((r) => setTimeout(r, 100));
    const price = async () =>
      (await admin.get(`/rates/lookup?accountId=${carrierId}&cardId=${card.P}&number=48123`)).body
        .levels[0].rate as string;
    expect(await price()).toBe('0.0300');
    // At its own date a row in force cannot change: that would rewrite what applied since.
    const retro = await admin.patch(`/cards/${card.P}/rates`, {
      upsert: [{ prefix: '48', destination: 'Poland', rate: '0.0400', effectiveFrom: t2 }],
    });
    expect(retro.status).toBe(400);
    // Undated, it would not apply at all: the dated rows are later.
    const changed = await admin.patch(`/cards/${card.P}/rates`, {
      upsert: [{ prefix: '48', destination: 'Poland', rate: '0.0400', effectiveFrom: 'now' }],
    });
    expect(changed.status).toBe(200);
    expect(await price()).toBe('0.0400');
    // What applied before stays as it was.
    const earlier = await admin.get(
      `/rates/lookup?accountId=${carrierId}&cardId=${card.P}&number=48123&at=${encodeURIComponent(new Date(Date.parse(t2) + 10).toISOString())}`,
    );
    expect(earlier.body.levels[0].rate).toBe('0.0300');
    const rows = (await admin.get(`/cards/${card.P}/rates?prefix=48`)).body.items;
    expect(rows.map((row: { rate: string }) => row.rate)).toEqual([
      '0.0100',
      '0.0200',
      '0.0300',
      '0.0400',
    ]);
  });

  it('refuses each bad row by name and writes nothing', async () => {
    const before = await rates(card.P);
    const version = (await admin.get(`/cards/${card.P}`)).body.version as number;
    const refused = async (body: unknown, fields: string[]) => {
      const answer = await admin.patch(`/cards/${card.P}/rates`, body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(Object.keys(answer.body.error.fields).sort()).toEqual(fields.sort());
    };
    await refused({ remove: [{ prefix: '7' }] }, ['remove.0.prefix']);
    await refused(
      {
        upsert: [
          { prefix: '33', destination: 'France', rate: '0.0100' },
          { prefix: '33', destination: 'France', rate: '0.0200' },
        ],
      },
      ['upsert.1.prefix'],
    );
    await refused(
      {
        upsert: [{ prefix: '44', destination: 'UK', rate: '0.0300' }],
        remove: [{ prefix: '44' }, { prefix: '33' }, { prefix: '33' }],
      },
      ['remove.0.prefix', 'remove.2.prefix'],
    );
    await refused({ upsert: [{ prefix: '44', destination: 'UK', rate: '0.00001' }] }, [
      'upsert.0.rate',
    ]);
    await refused({}, ['upsert']);
    await refused({ upsert: [{ prefix: '4x', destination: 'UK', rate: '1' }] }, [
      'upsert.0.prefix',
    ]);
    expect(await rates(card.P)).toEqual(before);
    expect((await admin.get(`/cards/${card.P}`)).body.version).toBe(version);
  });

  it('is the owner’s, on a card that is not derived, at the version it was made from', async () => {
    const one = { upsert: [{ prefix: '33', destination: 'France', rate: '0.0100' }] };
    const derived = await admin.patch(`/cards/${card.D}/rates`, one);
    expect(derived.status).toBe(409);
    expect(derived.body.error.code).toBe('derived_card');
    // The holder of the derived card may read it, not write its parent's rates.
    expect((await outsider.patch(`/cards/${card.P}/rates`, one)).status).toBe(404);
    const version = (await admin.get(`/cards/${card.P}`)).body.version as number;
    const stale = await admin.patch(`/cards/${card.P}/rates`, { ...one, version: version - 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.current.version).toBe(version);
    expect((await admin.patch(`/cards/${card.P}/rates`, { ...one, version })).status).toBe(200);
  });
});
