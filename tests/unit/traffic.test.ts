import { describe, expect, it } from 'vitest';
import type { TUsageLevelDto, TUsageSummaryRow } from '@/lib/shared/schemas/usage';
import {
  callMoney,
  dailySeries,
  countOf,
  minutesOf,
  rerateSentence,
  totalsByCurrency,
  trafficRefreshMs,
  utcDayStart,
} from '@/lib/shared/traffic';

const row = (over: Partial<TUsageSummaryRow>): TUsageSummaryRow => ({
  key: 'k',
  name: 'K',
  kind: 'customer',
  calls: 1,
  seconds: 60,
  revenue: '0.100000',
  cost: '0.050000',
  margin: '0.050000',
  unrated: 0,
  currency: 'EUR',
  costCurrency: 'EUR',
  ...over,
});

describe('traffic totals', () => {
  it('add exactly, per currency, the busiest currency first', () => {
    const totals = totalsByCurrency([
      row({ key: 'a', revenue: '0.100000', cost: '0.070000', margin: '0.030000' }),
      row({ key: 'b', revenue: '0.200000', cost: '0.100000', margin: '0.100000', unrated: 2 }),
      row({ key: 'u', currency: 'USD', costCurrency: 'EUR', revenue: '9.5', margin: null }),
    ]);
    // 0.1 + 0.2 is 0.3 here, not 0.30000000000000004.
    expect(totals[0]).toEqual({
      currency: 'EUR',
      calls: 2,
      seconds: 120,
      revenue: '0.300000',
      cost: '0.170000',
      margin: '0.130000',
      unrated: 2,
    });
    expect(totals[1]).toMatchObject({ currency: 'USD', revenue: '9.500000', margin: null });
  });

  it('count the unrated calls of rows with nothing rated in the first block', () => {
    // A customer with no card: every call unrated, no currency. The headline (the first
    // block) must count them, not a block of their own it never shows.
    const totals = totalsByCurrency([
      row({ key: 'a', unrated: 1 }),
      row({
        key: 'n',
        currency: null,
        costCurrency: null,
        calls: 0,
        seconds: 0,
        revenue: '0',
        cost: '0',
        margin: '0',
        unrated: 5,
      }),
    ]);
    expect(totals).toEqual([expect.objectContaining({ currency: 'EUR', calls: 1, unrated: 6 })]);
    // With nothing priced at all, the block of no currency stands alone.
    const only = totalsByCurrency([
      row({ currency: null, costCurrency: null, calls: 0, revenue: '0', unrated: 3 }),
    ]);
    expect(only).toEqual([expect.objectContaining({ currency: null, unrated: 3 })]);
  });

  it('show minutes to a tenth', () => {
    expect(minutesOf(90)).toBe('1.5');
    expect(minutesOf(0)).toBe('0.0');
    expect(minutesOf(3_601)).toBe('60.0');
    // In the viewer's locale, beside amounts formatted the same way.
    expect(minutesOf(16_236, 'de-DE')).toBe('270,6');
    expect(minutesOf(60_000_000, 'en-US')).toBe('1,000,000.0');
    expect(countOf(12_345, 'de-DE')).toBe('12.345');
  });
});

describe('the daily series', () => {
  it('has every day up to today (UTC), zeros where there were no calls', () => {
    const now = Date.parse('2026-12-07T15:00:00Z');
    expect(utcDayStart(now, 2).toISOString()).toBe('2026-12-05T00:00:00.000Z');
    const series = dailySeries(
      [
        row({ key: '2026-12-05T00:00:00Z', revenue: '1.000000', calls: 3 }),
        row({ key: '2026-12-07T00:00:00Z', revenue: '2.000000', currency: 'USD' }),
      ],
      now,
      3,
      'EUR',
    );
    expect(series.map((day) => [day.day, day.revenue, day.calls])).toEqual([
      ['2026-12-05', '1.000000', 3],
      ['2026-12-06', '0.000000', 0],
      ['2026-12-07', '0.000000', 0],
    ]);
  });
});

describe('rerateSentence', () => {
  it('says what was rated and why the rest stays unrated', () => {
    expect(rerateSentence({ rated: 0, unrated: 0, unratedByReason: {} })).toBe(
      'There were no unrated calls to rate.',
    );
    expect(rerateSentence({ rated: 1, unrated: 0, unratedByReason: {} })).toBe(
      'Rated 1 call; none of those is left unrated.',
    );
    expect(
      rerateSentence({
        rated: 12,
        unrated: 3,
        unratedByReason: { no_route: 2, credit_blocked: 1, no_card: 0 },
      }),
    ).toBe('Rated 12 calls; 3 still unrated (no route 2, blocked for credit 1).');
    // A full re-rate (its oldest 10,000) may have left more behind: said so.
    expect(rerateSentence({ rated: 9_990, unrated: 10, unratedByReason: { no_route: 10 } })).toBe(
      'Rated 9990 calls; 10 still unrated (no route 10). Only 10,000 were tried: re-rate again for the rest.',
    );
  });
});

describe('a call’s money from one seat', () => {
  const level = (
    payerId: string,
    counterpartyId: string | null,
    amount: string,
    currency = 'EUR',
  ): TUsageLevelDto => ({
    level: 0,
    payerId,
    counterpartyId,
    cardId: 'card',
    prefix: '44',
    destination: 'UK',
    billedSeconds: 60,
    amount,
    currency,
  });
  // Customer K of reseller R2 under R1 under carrier C.
  const call = {
    accountId: 'K',
    levels: [
      level('K', 'R2', '0.300000'),
      level('R2', 'R1', '0.200000'),
      level('R1', 'C', '0.125000'),
      level('C', null, '0.100000'),
    ],
  };

  it('is what was paid to the viewer less what it paid, with the customer’s price beside it', () => {
    const r1 = callMoney(call, 'R1');
    expect([r1.price?.amount, r1.revenue?.amount, r1.cost?.amount, r1.margin]).toEqual([
      '0.300000',
      '0.200000',
      '0.125000',
      '0.075000',
    ]);
    const carrier = callMoney(call, 'C');
    expect([carrier.revenue?.amount, carrier.cost?.amount, carrier.margin]).toEqual([
      '0.125000',
      '0.100000',
      '0.025000',
    ]);
  });

  it('gives the customer its price only, and no margin across currencies or when unrated', () => {
    expect(callMoney(call, 'K')).toEqual({
      price: call.levels[0],
      revenue: null,
      cost: null,
      margin: null,
    });
    const usd = {
      ...call,
      levels: [call.levels[0]!, level('R2', 'R1', '0.2'), level('R1', 'C', '0.1', 'USD')],
    };
    expect(callMoney(usd, 'R1').margin).toBeNull();
    expect(callMoney({ accountId: 'K', levels: [] }, 'R1')).toEqual({
      price: null,
      revenue: null,
      cost: null,
      margin: null,
    });
  });
});

describe('trafficRefreshMs', () => {
  it('reads the last hour again each minute, the days just past the next UTC midnight', () => {
    const now = Date.parse('2026-12-07T21:59:30.000Z');
    expect(trafficRefreshMs('hour', now)).toBe(60_000);
    expect(now + trafficRefreshMs('days', now)).toBe(Date.parse('2026-12-08T00:00:01.000Z'));
    // At midnight itself: the next one, not now.
    const midnight = Date.parse('2026-12-31T00:00:00.000Z');
    expect(midnight + trafficRefreshMs('days', midnight)).toBe(
      Date.parse('2027-01-01T00:00:01.000Z'),
    );
  });
});
