import { beforeAll, describe, expect, it } from 'vitest';
import type { TLookup } from '@/lib/shared/schemas/rates';
import type { TUsageRecordDto } from '@/lib/shared/schemas/usage';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';

/**
 * A card's precision and rounding belong to its revisions (Migration20261220200000):
 * after either changes, a call from before the change is still priced as it was billed
 * — by the trace at its instant, by `POST /authorize` at it, and by rating a record of
 * it that arrives late — while calls from now on take the new terms.
 *
 * Carrier C, provider card P (44 at 0.0100 a minute, billed by the second), S derived
 * from it (+20 %), held by the carrier's customer K. A 62 s call costs 0.0100 × 62/60 =
 * 0.010333… on P: 0.0103 rounded half up, 0.0104 up, 0.010333 at 6 decimals.
 */
const ADMIN = { email: 'admin@rounding.test', password: 'rounding-admin-pass' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
let admin: TApiClient;
const ids = {} as Record<'P' | 'S' | 'K', string>;

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.P = (await ok(admin.post('/cards', { name: 'P', currency: 'EUR', kind: 'provider' }))).id;
  await ok(
    admin.put(`/cards/${ids.P}/rates`, {
      rates: [
        { prefix: '44', destination: 'UK', rate: '0.0100', initialIncrement: 1, increment: 1 },
      ],
    }),
    200,
  );
  ids.S = (await ok(admin.post(`/cards/${ids.P}/derive`, { name: 'S', markupPercent: '20' }))).id;
  ids.K = (await ok(admin.post('/customers', { name: 'K', creditLimit: '100' }))).id;
  await ok(admin.post('/assignments', { cardId: ids.S, accountId: ids.K }));
});

/** The amount at each card of K's chain for a 62 s call to 44…, at `at` (now: none). */
async function traced(at?: string): Promise<Record<string, string | null>> {
  const answer = (
    await admin.get(
      `/rates/lookup?accountId=${ids.K}&number=4420123&seconds=62${at ? `&at=${encodeURIComponent(at)}` : ''}`,
    )
  ).body as TLookup;
  return Object.fromEntries(answer.levels.map((level) => [level.cardId, level.amount]));
}

async function rated(cdr: string, startedAt: string): Promise<Record<string, string>> {
  const posted = await admin.post('/usage', {
    records: [{ id: cdr, accountId: ids.K, number: '4420123', startedAt, seconds: 62 }],
  });
  expect(posted.status).toBe(200);
  const items = (await admin.get('/usage?limit=100')).body.items as TUsageRecordDto[];
  const record = items.find((item) => item.cdrId === cdr)!;
  expect([record.status, record.reason]).toEqual(['rated', null]);
  return Object.fromEntries(record.levels.map((level) => [level.cardId, level.amount]));
}

describe('a change of rounding or precision', () => {
  it('leaves the calls before it at the price they were billed', async () => {
    // Now: after the card was assigned (a call before it has no card).
    const before = new Date().toISOString();
    const billed = await rated('before-change', before);
    expect(billed[ids.P]).toBe('0.010300');
    expect(await traced(before)).toEqual({ [ids.S]: '0.0124', [ids.P]: '0.0103' });

    // P rounds up from now on (its rows stay as they are); S keeps 6 decimals.
    const p = (await admin.get(`/cards/${ids.P}`)).body;
    await ok(admin.patch(`/cards/${ids.P}`, { version: p.version, rounding: 'up' }), 200);
    const s = (await admin.get(`/cards/${ids.S}`)).body;
    await ok(admin.patch(`/cards/${ids.S}`, { version: s.version, decimals: 6 }), 200);

    expect(await traced()).toEqual({ [ids.S]: '0.012400', [ids.P]: '0.0104' });
    expect(await traced(before)).toEqual({ [ids.S]: '0.0124', [ids.P]: '0.0103' });
    // A record of a call from before the change, arriving after it.
    expect(await rated('late-record', before)).toEqual(billed);
    const decided = await admin.post('/authorize', {
      accountId: ids.K,
      number: '4420123',
      at: before,
    });
    expect(decided.status).toBe(200);
    expect(decided.body.rate).toBe('0.0120');
    // And a call from now on at the new terms.
    const after = await rated('after-change', new Date().toISOString());
    expect(after[ids.P]).toBe('0.010400');
  });
});
