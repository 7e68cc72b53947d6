import { beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';
import type { TUsageRecordDto } from '@/lib/shared/schemas/usage';

/**
 * A re-rate after the card is fixed (issue 18: "can be re-rated after the card is
 * fixed"). A revision is never dated in the past, so a route added after a call is not
 * in the cards of its start: a call those cannot price for a card's trouble is priced by
 * the cards as they stand at the re-rate, and says so (`pricedAt`). Any other call —
 * one blocked for credit, or one the cards of its start can price — is charged at the
 * prices of its start.
 * Carrier ─┬─ KA (S1)
 *          ├─ KC (S1, limit 0: blocked for credit)
 *          └─ KN (no card until the test gives it S1)
 * P (provider, UK 44 at 0.10/min 60/60; no 33 until the test adds it) → S1 (+20 %).
 */
const ADMIN = { email: 'admin@rerate-fixed.test', password: 'rerate-fixed-admin-pass' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
const ids = {} as Record<'KA' | 'KC' | 'KN' | 'P' | 'S1', string>;
/** Every call starts here (ms), before any fix. */
let base: number;

const call = (id: string, accountId: string, number: string, offset: number) => ({
  id,
  accountId,
  number,
  startedAt: new Date(base + offset).toISOString(),
  seconds: 60,
});

async function stored(cdrId: string): Promise<TUsageRecordDto> {
  const items = (await ok(admin.get('/usage?limit=100'), 200)).items as TUsageRecordDto[];
  return items.find((item) => item.cdrId === cdrId)!;
}

const amounts = (record: TUsageRecordDto) =>
  record.levels.map((level) => [level.level, level.cardId, level.amount]);

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.P = (await ok(admin.post('/cards', { name: 'P', currency: 'EUR', kind: 'provider' }))).id;
  await ok(
    admin.put(`/cards/${ids.P}/rates`, {
      rates: [
        { prefix: '44', destination: 'UK', rate: '0.10', initialIncrement: 60, increment: 60 },
      ],
    }),
    200,
  );
  ids.S1 = (await ok(admin.post(`/cards/${ids.P}/derive`, { name: 'S1', markupPercent: '20' }))).id;
  ids.KA = (await ok(admin.post('/customers', { name: 'KA' }))).id;
  ids.KC = (await ok(admin.post('/customers', { name: 'KC', creditLimit: '0' }))).id;
  ids.KN = (await ok(admin.post('/customers', { name: 'KN' }))).id;
  for (const id of [ids.KA, ids.KC]) {
    await ok(admin.post('/assignments', { cardId: ids.S1, accountId: id }));
  }
  // The calls start after the cards are made and given (so the cards of their start are
  // these) and before any fix.
  await new Promise((resolve) => setTimeout(resolve, 5));
  base = Date.now() - 4;
  const posted = await ok(
    admin.post('/usage', {
      records: [
        call('route-later', ids.KA, '3312345678', 0),
        call('routed', ids.KA, '4420123456', 1),
        call('no-credit', ids.KC, '4420123456', 2),
        call('no-card', ids.KN, '4420123456', 3),
      ],
    }),
    200,
  );
  expect(
    posted.records.map((r: { id: string; outcome: string; reason: string | null }) => [
      r.id,
      r.reason,
    ]),
  ).toEqual([
    ['route-later', 'no_route'],
    ['routed', null],
    ['no-credit', 'credit_blocked'],
    ['no-card', 'no_card'],
  ]);
});

describe('a re-rate after a fix', () => {
  it('charges a call its route was added for at the prices of the re-rate, and says when', async () => {
    // The route added on the provider card; S1 follows it (+20 %).
    await ok(
      admin.patch(`/cards/${ids.P}/rates`, {
        upsert: [{ prefix: '33', destination: 'France', rate: '0.05' }],
        remove: [],
      }),
      200,
    );
    const before = Date.now();
    const { id } = await stored('route-later');
    const rerated = await ok(
      admin.post('/usage/rerate', { ids: [id], idempotencyKey: 'fixed-route-0001' }),
      200,
    );
    expect(rerated.records).toEqual([
      expect.objectContaining({ id: 'route-later', outcome: 'rated', reason: null }),
    ]);
    const record = await stored('route-later');
    expect(record.status).toBe('rated');
    // The customer pays S1's new 0.06 for the minute; the carrier's cost is P's 0.05.
    expect(amounts(record)).toEqual([
      [0, ids.S1, '0.060000'],
      [1, ids.P, '0.050000'],
    ]);
    // Priced at the re-rate (the database's clock), not at its start.
    expect(record.pricedAt).not.toBeNull();
    expect(Date.parse(record.pricedAt!)).toBeGreaterThan(Date.parse(record.startedAt));
    expect(Math.abs(Date.parse(record.pricedAt!) - before)).toBeLessThan(60_000);
    // A call priced when it came says nothing of the kind.
    expect((await stored('routed')).pricedAt).toBeNull();
    // The export says it too, in its last column.
    const lines = (await admin.raw('GET', '/usage/export')).text.trim().split('\r\n');
    expect(lines[0]!.split(',').at(-1)).toBe('pricedAt');
    const row = lines.find((line) => line.includes(',route-later,'))!;
    expect(row.split(',').at(-1)).toBe(record.pricedAt);
  });

  it('charges a call blocked for credit at the prices of its start', async () => {
    // UK raised to 0.20 on P (0.24 on S1) after the call; then the customer pays.
    await ok(
      admin.patch(`/cards/${ids.P}/rates`, {
        upsert: [{ prefix: '44', destination: 'UK', rate: '0.20' }],
        remove: [],
      }),
      200,
    );
    await ok(
      admin.post(`/accounts/${ids.KC}/payments`, { amount: '5', idempotencyKey: 'fixed-pay-1' }),
    );
    const { id } = await stored('no-credit');
    await ok(admin.post('/usage/rerate', { ids: [id], idempotencyKey: 'fixed-credit-0001' }), 200);
    const record = await stored('no-credit');
    expect(amounts(record)).toEqual([
      [0, ids.S1, '0.120000'],
      [1, ids.P, '0.100000'],
    ]);
    expect(record.pricedAt).toBeNull();
  });

  it('charges a call of no card on the card given since at the prices of its start, which could price it', async () => {
    await ok(admin.post('/assignments', { cardId: ids.S1, accountId: ids.KN }));
    const { id } = await stored('no-card');
    await ok(admin.post('/usage/rerate', { ids: [id], idempotencyKey: 'fixed-card-0001' }), 200);
    const record = await stored('no-card');
    // S1 priced UK at 0.12 when the call started (before the raise to 0.24).
    expect(amounts(record)).toEqual([
      [0, ids.S1, '0.120000'],
      [1, ids.P, '0.100000'],
    ]);
    expect(record.pricedAt).toBeNull();
  });
});
