import { describe, expect, it } from 'vitest';
import { ZRateInput } from '@/lib/shared/schemas/rates';
import { fastRateInput } from '@/lib/server/services/rates/rate-row-fast';

/**
 * The import's fast reading of a rate row against the schema it stands in for: over
 * random rows built from good, edge and bad cells, whatever it reads is exactly what
 * `ZRateInput` answers (the same keys, in the same order, the same values), and it reads
 * nothing the schema refuses.
 */
const SECONDS = ['0', '1', '60', '0060', '3600', '3601', '600', '601', '-1', '1.5', '1e2', ' 6'];
const POOLS: Record<string, unknown[]> = {
  prefix: ['1', '44', '0044', '12345678901234567890', '123456789012345678901', '4a', '٤٤', ''],
  destination: [
    'UK',
    'United Kingdom',
    "Côte d'Ivoire",
    'a'.repeat(120),
    'a'.repeat(121),
    `A${' '.repeat(118)}B`,
    ' x',
    'x ',
    '\u200b',
    'A\u200bB',
    '-France',
    'x\ty',
    '\ud800',
    'Zürich',
    '~',
  ],
  rate: ['0', '0.1', '123456.123456', '1234567', '0.1234567', '.5', '5.', '-1', '1e3', ' 1'],
  connectionFee: ['0', '0.05', '999999.999999', '1,5', 'free'],
  initialIncrement: SECONDS,
  increment: SECONDS,
  graceSeconds: SECONDS,
  minimumSeconds: SECONDS,
  blocked: [true, false, 'maybe'],
  effectiveFrom: ['2026-01-01T00:00:00Z', 'soon'],
};
// How often a column is left out (its default applies, or it is missing).
const ABSENT: Record<string, number> = { prefix: 0.05, destination: 0.05, rate: 0.05 };

function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the fast reading of a rate row', () => {
  it('reads exactly what the schema reads, and nothing it refuses', () => {
    const next = random(7);
    let read = 0;
    let refusedBySchema = 0;
    for (let n = 0; n < 20_000; n++) {
      const record: Record<string, unknown> = {};
      for (const [column, pool] of Object.entries(POOLS)) {
        if (next() < (ABSENT[column] ?? 0.6)) continue;
        // Good values are listed first: favour them so that whole rows are often good.
        const index = next() < 0.7 ? Math.floor(next() * 2) : Math.floor(next() * pool.length);
        record[column] = pool[index];
      }
      const schema = ZRateInput.safeParse(record);
      const fast = fastRateInput(record);
      if (!schema.success) refusedBySchema++;
      if (fast === null) continue;
      read++;
      expect(schema.success, JSON.stringify(record)).toBe(true);
      expect(fast).toStrictEqual(schema.data);
      expect(Object.keys(fast)).toEqual(Object.keys(schema.data!));
    }
    // Both sides were exercised: many rows read fast, many refused by the schema.
    expect(read).toBeGreaterThan(2_000);
    expect(refusedBySchema).toBeGreaterThan(2_000);
  });

  it('leaves to the schema a key it does not know, and one given as undefined', () => {
    const row = { prefix: '44', destination: 'UK', rate: '1' };
    for (const odd of [
      { ...row, extra: 'y' },
      JSON.parse('{"prefix":"44","destination":"UK","rate":"1","__proto__":{}}'),
      { ...row, minimumSeconds: undefined },
    ]) {
      expect(fastRateInput(odd)).toBeNull();
    }
    expect(fastRateInput(row)).not.toBeNull();
  });

  it('reads a deck’s usual rows, and leaves a dated one to the schema', () => {
    expect(fastRateInput({ prefix: '44', destination: 'United Kingdom', rate: '0.0123' })).toEqual({
      prefix: '44',
      destination: 'United Kingdom',
      rate: '0.0123',
      connectionFee: '0',
      initialIncrement: 60,
      increment: 60,
      graceSeconds: 0,
      blocked: false,
    });
    expect(
      fastRateInput({
        prefix: '44',
        destination: 'UK',
        rate: '1',
        effectiveFrom: '2026-01-01T00:00:00Z',
      }),
    ).toBeNull();
  });
});
