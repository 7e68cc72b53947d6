import { describe, expect, it } from 'vitest';
import {
  leadingValues,
  longestMatch,
  RevisionCache,
  revisionRates,
  type THistoryRow,
} from '@/lib/server/services/rates/revision-cache';

/**
 * The rating's rate rows in memory (issue 18): the longest prefix in effect at an instant,
 * as the lookup's SQL picks it — including the parts the integration property test's
 * random decks do not reach: prefixes longer than the digits kept as numbers, leading
 * zeros, several rows of one prefix at different effective times.
 */
const row = (prefix: string, over: Partial<THistoryRow> = {}): THistoryRow => ({
  prefix,
  destination: `Dest ${prefix}`,
  rate: '0.0100',
  connection_fee: '0',
  initial_increment: 60,
  increment: 60,
  grace_seconds: 0,
  blocked: false,
  effective_from: null,
  ...over,
});

const match = (rows: THistoryRow[], number: string, at = 0) =>
  longestMatch(revisionRates(rows), number, leadingValues(number), at)?.destination ?? null;

describe('longest prefix in memory', () => {
  it('takes the longest prefix of the number, and nothing that is not one', () => {
    const rows = [row('4'), row('44'), row('447'), row('4471'), row('45')];
    expect(match(rows, '447912345')).toBe('Dest 447');
    expect(match(rows, '447112345')).toBe('Dest 4471');
    expect(match(rows, '4412')).toBe('Dest 44');
    expect(match(rows, '4')).toBe('Dest 4');
    expect(match(rows, '3')).toBeNull();
  });

  it('keeps leading zeros apart and matches prefixes longer than 15 digits', () => {
    const rows = [
      row('12'),
      row('012'),
      row('0012'),
      row('1234567890123456'),
      row('12345678901234567890'),
    ];
    expect(match(rows, '0012999')).toBe('Dest 0012');
    expect(match(rows, '012999')).toBe('Dest 012');
    expect(match(rows, '12999')).toBe('Dest 12');
    expect(match(rows, '123456789012345699')).toBe('Dest 1234567890123456');
    expect(match(rows, '12345678901234567890123')).toBe('Dest 12345678901234567890');
    expect(match(rows, '123456789012345')).toBe('Dest 12');
  });

  it('takes the row in effect at the instant: the latest effective time by then', () => {
    const rows = [
      row('44', { destination: 'from the start' }),
      row('44', { destination: 'from 1000', effective_from: 1000 }),
      row('44', { destination: 'from 2000', effective_from: '2000' }),
      row('447', { destination: 'mobile from 5000', effective_from: 5000 }),
    ];
    expect(match(rows, '4471', 999)).toBe('from the start');
    expect(match(rows, '4471', 1000)).toBe('from 1000');
    expect(match(rows, '4471', 4999)).toBe('from 2000');
    expect(match(rows, '4471', 5000)).toBe('mobile from 5000');
  });

  it('reads money exactly, in millionths', () => {
    const rates = revisionRates([row('1', { rate: '0.123456', connection_fee: '12.5' })]);
    const found = longestMatch(rates, '1', leadingValues('1'), 0)!;
    expect([found.rate, found.connectionFee]).toEqual([123_456n, 12_500_000n]);
  });
});

describe('the cache', () => {
  it('reads a revision once, shares a read in flight, and keeps at most its rows', async () => {
    const reads: string[] = [];
    const cache = new RevisionCache(5, async (_em, cardId, number) => {
      reads.push(`${cardId}:${number}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return revisionRates([row('1'), row('2')]);
    });
    const em = {} as never;
    const [a1, a2] = await Promise.all([cache.get(em, 'a', 1), cache.get(em, 'a', 1)]);
    expect(a1).toBe(a2);
    await cache.get(em, 'b', 1);
    await cache.get(em, 'a', 1); // a is now the most recently used
    expect(reads).toEqual(['a:1', 'b:1']);
    await cache.get(em, 'c', 1); // 6 rows > 5: the least recently used (b) leaves
    expect(cache.rows).toBe(4);
    expect([cache.has('a', 1), cache.has('b', 1), cache.has('c', 1)]).toEqual([true, false, true]);
    await cache.get(em, 'b', 1);
    expect(reads).toEqual(['a:1', 'b:1', 'c:1', 'b:1']);
  });
});
