import { beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';

/**
 * Which unrated calls a re-rate of everything takes: at most USAGE_MAX_RECORDS, those
 * tried fewest times first. Oldest first alone took the same ones every time: once that
 * many calls no fix can charge were unrated, a call a payment made chargeable was never
 * reached, however often the button was pressed.
 * Carrier ─┬─ KA (S1, no limit)
 *          └─ KC (S1, limit 0: blocked for credit from the start)
 * P (provider) → S1 (carrier, +20 %): UK 44 at 0.10/min 60/60 on P, 0.12 on S1.
 */
const ADMIN = { email: 'admin@rerate-order.test', password: 'rerate-order-admin-pass' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
const ids = {} as Record<'KA' | 'KC' | 'P' | 'S1', string>;

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
  for (const id of [ids.KA, ids.KC]) {
    await ok(admin.post('/assignments', { cardId: ids.S1, accountId: id }));
  }
});

describe('a re-rate of every unrated call', () => {
  it('reaches a call a payment made chargeable behind 10,000 older ones no fix charges', async () => {
    const base = Date.now() - 60_000;
    // 10,000 calls to numbers no card routes: unrated `no_route`.
    const noRoute = Array.from({ length: 10_000 }, (_, index) => ({
      id: `nr-${index}`,
      accountId: ids.KA,
      number: `5550${index}`,
      startedAt: new Date(base + index).toISOString(),
      seconds: 30,
    }));
    expect((await ok(admin.post('/usage', { records: noRoute }), 200)).unratedByReason).toEqual({
      no_route: 10_000,
    });
    // A later call of a customer out of credit: a payment makes it chargeable.
    const blocked = await ok(
      admin.post('/usage', {
        records: [
          {
            id: 'kc-1',
            accountId: ids.KC,
            number: '4420123456',
            startedAt: new Date().toISOString(),
            seconds: 60,
          },
        ],
      }),
      200,
    );
    expect(blocked.records[0]).toMatchObject({ outcome: 'unrated', reason: 'credit_blocked' });
    await ok(
      admin.post(`/accounts/${ids.KC}/payments`, { amount: '5', idempotencyKey: 'order-pay-1' }),
    );
    // The first press takes the oldest 10,000 (none chargeable); the second, told to
    // "re-rate again for the rest", goes on to the call not tried yet and charges it.
    const first = await ok(
      admin.post('/usage/rerate', { all: true, idempotencyKey: 'order-rerate-1' }),
      200,
    );
    expect([first.rated, first.unrated]).toEqual([0, 10_000]);
    const second = await ok(
      admin.post('/usage/rerate', { all: true, idempotencyKey: 'order-rerate-2' }),
      200,
    );
    expect(second.rated).toBe(1);
    expect(second.records).toContainEqual(
      expect.objectContaining({ id: 'kc-1', outcome: 'rated', reason: null }),
    );
    const kc = (await ok(admin.get(`/usage?accountId=${ids.KC}`), 200)).items[0];
    expect({ cdrId: kc.cdrId, status: kc.status, reason: kc.reason }).toEqual({
      cdrId: 'kc-1',
      status: 'rated',
      reason: null,
    });
  });
});
