import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  billedSeconds,
  billedUnder,
  callPrice,
  callPriceMicro,
  exactCallPrice,
  fromMicro,
  longestAffordableCall,
  toMicro,
  type TRateTerms,
} from '@/lib/shared/pricing/billing';
import {
  compact,
  COMPACTIONS,
  deriveTerms,
  marginCheck,
  ruleFor,
  type TCompaction,
} from '@/lib/shared/pricing/markup';
import {
  atCardPrecision,
  atCardPrecisionOver,
  money,
  ROUNDING_MODES,
  type TRoundingMode,
} from '@/lib/shared/pricing/money';

const terms = (rate: string, over: Partial<TRateTerms> = {}): TRateTerms => ({
  rate,
  connectionFee: '0',
  initialIncrement: 60,
  increment: 60,
  graceSeconds: 0,
  ...over,
});
const card4 = { decimals: 4, rounding: 'half_up' as const };

describe('billed seconds', () => {
  it('bills the initial interval, then whole increments (30/6: 31 s → 36 s, 37 s → 42 s)', () => {
    expect([1, 30, 31, 36, 37, 42, 43].map((d) => billedSeconds(d, 30, 6))).toEqual([
      30, 30, 36, 36, 42, 42, 48,
    ]);
    expect([1, 59, 60, 61, 121].map((d) => billedSeconds(d, 60, 60))).toEqual([
      60, 60, 60, 120, 180,
    ]);
    expect([1, 2, 61].map((d) => billedSeconds(d, 1, 1))).toEqual([1, 2, 61]);
    expect(billedSeconds(0, 30, 6)).toBe(0);
  });

  it('refuses nonsense instead of guessing', () => {
    expect(() => billedSeconds(-1, 60, 60)).toThrow(RangeError);
    expect(() => billedSeconds(1.5, 60, 60)).toThrow(RangeError);
    expect(() => billedSeconds(10, 0, 60)).toThrow(RangeError);
  });

  it('never bills less than the call, nor a whole increment more than needed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 120 }),
        (seconds, initial, increment) => {
          const billed = billedSeconds(seconds, initial, increment);
          expect(billed).toBeGreaterThanOrEqual(seconds);
          if (seconds <= initial) expect(billed).toBe(initial);
          else {
            expect((billed - initial) % increment).toBe(0);
            expect(billed - seconds).toBeLessThan(increment);
          }
        },
      ),
    );
  });
});

describe('minimum duration', () => {
  it('bills a short call as the minimum, then in increments; grace still frees a call', () => {
    const row = terms('0.6000', {
      initialIncrement: 1,
      increment: 1,
      graceSeconds: 6,
      minimumSeconds: 60,
    });
    expect(callPrice(row, 5, card4)).toBe('0.0000');
    expect(billedUnder(row, 7)).toBe(60);
    expect(callPrice(row, 7, card4)).toBe('0.6000');
    expect(billedUnder(row, 61)).toBe(61);
    // 30/6 with a 45 s minimum: 45 s rounds up to 48 s (the minimum, then increments).
    const sixes = terms('0.6000', { initialIncrement: 30, increment: 6, minimumSeconds: 45 });
    expect(billedUnder(sixes, 1)).toBe(48);
    expect(billedUnder(sixes, 49)).toBe(54);
    // Absent: as before (h-rating's callers pass no minimum).
    expect(callPrice(terms('0.6000', { initialIncrement: 1, increment: 1 }), 7, card4)).toBe(
      '0.0700',
    );
  });

  it('agrees with a brute-force price of every call of 1-3600 s', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.constantFrom(1, 6, 30, 60),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 300 }),
        (initialIncrement, increment, graceSeconds, minimumSeconds) => {
          const row = terms('1.0000', {
            initialIncrement,
            increment,
            graceSeconds,
            minimumSeconds,
          });
          const wrong: number[] = [];
          for (let d = 1; d <= 3600; d++) {
            // The oracle: the smallest billable length (m, m + i, …) at least max(d, minimum).
            let billed = initialIncrement;
            while (billed < Math.max(d, minimumSeconds)) billed += increment;
            if (billedUnder(row, d) !== (d <= graceSeconds ? 0 : billed)) wrong.push(d);
          }
          expect(wrong).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('a 60 s minimum sold over a 1/1 buy with none: the check finds the losing short calls', () => {
    const buy = {
      terms: terms('0.0100', { initialIncrement: 60, increment: 60, connectionFee: '0.0050' }),
      card: card4,
    };
    // Sells cheaper per minute but bills every call a minute: still below on no call...
    const sell = {
      terms: terms('0.0090', { initialIncrement: 1, increment: 1, minimumSeconds: 60 }),
      card: card4,
    };
    const check = marginCheck(buy, sell, { maxCallSeconds: 3600 });
    expect(check).toMatchObject({ losing: true, firstLosingSeconds: 1, sellsBelowBuyRate: true });
  });
});

describe('call price', () => {
  it('charges the connection fee once and the rate per billed minute, exactly', () => {
    // 0.0123/min on 30/6 with a 0.05 fee: 37 s bills 42 s → 0.05 + 0.0123 · 42/60.
    const row = terms('0.0123', { initialIncrement: 30, increment: 6, connectionFee: '0.05' });
    expect(callPrice(row, 37, { decimals: 6, rounding: 'half_up' })).toBe('0.058610');
    expect(callPrice(row, 37, card4)).toBe('0.0586');
    // No float drift: 0.1 + 0.2 per minute over a minute is 0.3 exactly.
    expect(callPrice(terms('0.3', { connectionFee: '0' }), 60, card4)).toBe('0.3000');
  });

  it('bills nothing within the grace seconds, fee included', () => {
    const row = terms('0.02', { connectionFee: '0.10', graceSeconds: 3 });
    expect(callPrice(row, 3, card4)).toBe('0.0000');
    expect(callPrice(row, 4, card4)).toBe('0.1200');
  });

  it('rounds the card’s way: half up, half even, up, down', () => {
    const value = money('0.012345');
    expect(atCardPrecision(value, { decimals: 5, rounding: 'half_up' })).toBe('0.01235');
    expect(atCardPrecision(value, { decimals: 5, rounding: 'half_even' })).toBe('0.01234');
    expect(atCardPrecision(money('0.0123451'), { decimals: 4, rounding: 'up' })).toBe('0.0124');
    expect(atCardPrecision(money('0.0123999'), { decimals: 4, rounding: 'down' })).toBe('0.0123');
    expect(() => atCardPrecision(value, { decimals: 7, rounding: 'up' })).toThrow(RangeError);
  });
});

describe('call price in millionths (rating in bulk)', () => {
  const micros = (max: number) =>
    fc.bigInt({ min: 0n, max: BigInt(max) }).map((value) => fromMicro(value));

  it('is callPrice exactly, for any terms, duration, precision and rounding', () => {
    fc.assert(
      fc.property(
        fc.record({
          rate: fc.oneof(micros(1_000_000), micros(999_999_999_999)),
          connectionFee: fc.oneof(fc.constant('0.000000'), micros(1_000_000)),
          initialIncrement: fc.integer({ min: 1, max: 3600 }),
          increment: fc.integer({ min: 1, max: 3600 }),
          graceSeconds: fc.integer({ min: 0, max: 600 }),
        }),
        fc.oneof(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 86_400 })),
        fc.integer({ min: 4, max: 6 }),
        fc.constantFrom(...ROUNDING_MODES),
        (terms, seconds, decimals, rounding) => {
          const card = { decimals, rounding };
          const micro = callPriceMicro(
            { ...terms, rate: toMicro(terms.rate), connectionFee: toMicro(terms.connectionFee) },
            seconds,
            card,
          );
          expect(money(fromMicro(micro)).eq(callPrice(terms, seconds, card))).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('rounds ties as each mode says', () => {
    // 0.003 a minute on 1/1: a 1 s call costs 0.00005, a tie at 4 decimals.
    const tie = {
      rate: 3_000n,
      connectionFee: 0n,
      initialIncrement: 1,
      increment: 1,
      graceSeconds: 0,
    };
    const at = (rounding: TRoundingMode) =>
      fromMicro(callPriceMicro(tie, 1, { decimals: 4, rounding }));
    expect(ROUNDING_MODES.map(at)).toEqual(['0.000100', '0.000000', '0.000100', '0.000000']);
  });

  it('reads and writes millionths exactly', () => {
    expect(toMicro('0.0123')).toBe(12_300n);
    expect(toMicro('12')).toBe(12_000_000n);
    expect(toMicro('-1.5')).toBe(-1_500_000n);
    expect(fromMicro(12_300n)).toBe('0.012300');
    expect(fromMicro(-1_500_000n)).toBe('-1.500000');
    expect(() => toMicro('0.1234567')).toThrow(RangeError);
  });
});

describe('markup and margin', () => {
  it('follows a chain of three derived cards, each rounding its own way', () => {
    const carrierBuy = terms('0.0100', { connectionFee: '0.0100' });
    const carrierSell = deriveTerms(carrierBuy, { markupPercent: '20' }, card4);
    const resellerSell = deriveTerms(
      carrierSell,
      { markupPercent: '10', markupFixed: '0.0005' },
      card4,
    );
    const subSell = deriveTerms(
      resellerSell,
      { markupPercent: '5' },
      { decimals: 6, rounding: 'down' },
    );
    expect([carrierSell.rate, resellerSell.rate, subSell.rate]).toEqual([
      '0.0120',
      '0.0137',
      '0.014385',
    ]);
    // The billing structure travels down unchanged.
    expect(subSell).toMatchObject({
      initialIncrement: 60,
      increment: 60,
      connectionFee: '0.010000',
    });
    expect(deriveTerms(carrierBuy, { markupPercent: '20' }, card4, '0.0090').rate).toBe('0.0090');
  });

  it('flags a sell row that loses money on some call length, not only per minute', () => {
    // Selling 1/1 on a 60/60 buy at a higher per-minute rate still loses on short calls.
    const check = marginCheck(
      { terms: terms('0.0100'), card: card4 },
      { terms: terms('0.0150', { initialIncrement: 1, increment: 1 }), card: card4 },
    );
    expect(check).toMatchObject({ losing: true, firstLosingSeconds: 1, sellsBelowBuyRate: false });
    // The worst call is the shortest: 1 s sells 0.0003 against a whole minute's 0.0100.
    expect(check).toMatchObject({ worstLoss: '0.0097', worstLossSeconds: 1 });
    expect(check.samples.find((sample) => sample.seconds === 60)).toMatchObject({
      buy: '0.0100',
      sell: '0.0150',
      margin: '0.005',
    });
  });

  it('never loses money with a non-negative markup rounded up', () => {
    const decimalString = fc
      .integer({ min: 0, max: 99_999_999 })
      .map((n) => (n / 1_000_000).toFixed(6));
    fc.assert(
      fc.property(
        decimalString,
        decimalString,
        fc.integer({ min: 0, max: 500 }).map(String),
        fc.integer({ min: 4, max: 6 }),
        (rate, fee, percent, decimals) => {
          const buy = {
            terms: terms(rate, { connectionFee: fee, initialIncrement: 30, increment: 6 }),
            card: { decimals: 6, rounding: 'half_up' as const },
          };
          const sellCard = { decimals, rounding: 'up' as const };
          const sell = {
            terms: deriveTerms(buy.terms, { markupPercent: percent }, sellCard),
            card: sellCard,
          };
          expect(marginCheck(buy, sell).losing).toBe(false);
        },
      ),
    );
  });
});

/**
 * The margin check against its oracle: every call length priced at both levels, one by
 * one. Found by such a scan, three derived rows lost money that sampling at 1, 6, 30, 60
 * and 180 s called safe (issue 16).
 */
describe('exact margin check', () => {
  type TSide = { terms: TRateTerms; card: { decimals: number; rounding: TRoundingMode } };
  /** Every call of 1..seconds: the losing ones, the first, and the worst (shortest on a tie). */
  function scan(buy: TSide, sell: TSide, seconds: number) {
    const losing: number[] = [];
    let worst: { loss: string; seconds: number } | null = null;
    for (let d = 1; d <= seconds; d++) {
      const loss = money(callPrice(buy.terms, d, buy.card)).minus(
        money(callPrice(sell.terms, d, sell.card)),
      );
      if (!loss.greaterThan(0)) continue;
      losing.push(d);
      if (!worst || loss.greaterThan(worst.loss)) worst = { loss: loss.toFixed(), seconds: d };
    }
    return { losing, worst };
  }
  const side = (
    rate: string,
    decimals: number,
    rounding: TRoundingMode,
    over: Partial<TRateTerms> = {},
  ): TSide => ({ terms: terms(rate, over), card: { decimals, rounding } });

  it('a 30/6 row bought 0.0013 up and sold 0.0014 down loses on every call of 37-42 s', () => {
    const structure = { initialIncrement: 30, increment: 6 };
    const buy = side('0.0013', 4, 'up', structure);
    const sell = side('0.0014', 4, 'down', structure);
    const check = marginCheck(buy, sell);
    expect(check).toMatchObject({
      losing: true,
      firstLosingSeconds: 37,
      worstLoss: '0.0001',
      worstLossSeconds: 37,
      sellsBelowBuyRate: false,
    });
    expect(scan(buy, sell, 3600).losing).toEqual([37, 38, 39, 40, 41, 42]);
    // Sampling missed it: no sample length loses.
    expect(check.samples.filter((sample) => money(sample.margin).isNegative())).toEqual([]);
  });

  it('a 1/1 row with 6 s grace bought 0.0100 up, sold 0.0101 down loses on 16 lengths, 7-38 s', () => {
    const structure = { initialIncrement: 1, increment: 1, graceSeconds: 6 };
    const buy = side('0.0100', 4, 'up', structure);
    const sell = side('0.0101', 4, 'down', structure);
    const { losing } = scan(buy, sell, 3600);
    expect(losing).toHaveLength(16);
    expect([losing[0], losing.at(-1)]).toEqual([7, 38]);
    expect(marginCheck(buy, sell)).toMatchObject({ losing: true, firstLosingSeconds: 7 });
  });

  it('a half-even 4 dp card over a 6 dp parent at 0.021 loses on 3, 7, 11, 15 … s', () => {
    const structure = { initialIncrement: 1, increment: 1 };
    const buy = side('0.021000', 6, 'half_up', structure);
    const sell = side('0.0210', 4, 'half_even', structure);
    const { losing } = scan(buy, sell, 3600);
    expect(losing.slice(0, 4)).toEqual([3, 7, 11, 15]);
    expect(losing).toHaveLength(900);
    expect(marginCheck(buy, sell)).toMatchObject({
      losing: true,
      firstLosingSeconds: 3,
      sellsBelowBuyRate: false,
    });
  });

  it('agrees with a scan of every call of 1-3600 s, same or mixed structures', () => {
    const increments = fc.constantFrom(1, 2, 3, 5, 6, 7, 10, 12, 15, 20, 30, 60);
    const sideOf = fc
      .record({
        units: fc.integer({ min: 0, max: 40_000 }),
        feeUnits: fc.integer({ min: 0, max: 300 }),
        decimals: fc.integer({ min: 2, max: 6 }),
        rounding: fc.constantFrom(...ROUNDING_MODES),
        initialIncrement: fc.integer({ min: 1, max: 90 }),
        increment: increments,
        graceSeconds: fc.integer({ min: 0, max: 20 }),
        minimumSeconds: fc.constantFrom(0, 0, 0, 10, 30, 60, 90, 120),
      })
      .map(({ units, feeUnits, decimals, rounding, ...structure }) =>
        side(
          money(String(units)).dividedBy(money('10').pow(decimals)).toFixed(decimals),
          decimals,
          rounding,
          {
            ...structure,
            connectionFee: money(String(feeUnits))
              .dividedBy(money('10').pow(decimals))
              .toFixed(decimals),
          },
        ),
      );
    fc.assert(
      fc.property(sideOf, sideOf, fc.boolean(), (buy, other, sameStructure) => {
        // Half the cases sell the buy's own structure, as a derived card does.
        const sell = sameStructure
          ? {
              ...other,
              terms: {
                ...buy.terms,
                rate: other.terms.rate,
                connectionFee: other.terms.connectionFee,
              },
            }
          : other;
        const check = marginCheck(buy, sell, { maxCallSeconds: 3600 });
        const { losing, worst } = scan(buy, sell, 3600);
        expect({
          first: check.firstLosingSeconds,
          worst:
            check.worstLoss === null
              ? null
              : { loss: check.worstLoss, seconds: check.worstLossSeconds },
          losing: check.losing,
        }).toEqual({
          first: losing[0] ?? null,
          worst: worst ? { loss: money(worst.loss).toFixed(), seconds: worst.seconds } : null,
          losing: losing.length > 0 || check.sellsBelowBuyRate,
        });
      }),
      // Each case prices 7,200 calls: 80 cases keep the file to a few seconds.
      { numRuns: 80 },
    );
  }, 120_000);
});

describe('sell cards as carriers build them (issue 16 §3)', () => {
  const buy = terms('0.0100', { connectionFee: '0.0100', initialIncrement: 1, increment: 1 });

  it('bills the card its own structure where it sets one, the parent its elsewhere', () => {
    const sell = deriveTerms(buy, { markupPercent: '5', structure: { increment: 60 } }, card4);
    expect(sell).toEqual({
      rate: '0.0105',
      connectionFee: '0.0100',
      initialIncrement: 1,
      increment: 60,
      graceSeconds: 0,
    });
    // Sell 1/1 with grace on a 60/60 buy: free short calls lose though the rate is higher.
    const coarseBuy = terms('0.0100');
    const fine = deriveTerms(
      coarseBuy,
      { markupPercent: '5', structure: { initialIncrement: 1, increment: 1, graceSeconds: 3 } },
      card4,
    );
    const check = marginCheck({ terms: coarseBuy, card: card4 }, { terms: fine, card: card4 });
    expect(check).toMatchObject({ losing: true, firstLosingSeconds: 1, sellsBelowBuyRate: false });
  });

  it('marks up the connection fee only when the card says so, fixed once per call', () => {
    const markup = { markupPercent: '20', markupFixed: '0.0010' };
    expect(deriveTerms(buy, markup, card4).connectionFee).toBe('0.0100');
    expect(deriveTerms(buy, { ...markup, markupFee: true }, card4).connectionFee).toBe('0.0130');
  });

  it('prices by the longest covering rule; an override comes first', () => {
    const rules = [
      { prefix: '4', mode: 'percent' as const, value: '50' },
      { prefix: '441', mode: 'fixed' as const, value: '0.0050' },
      { prefix: '44', mode: 'absolute' as const, value: '0.0300' },
    ];
    expect(ruleFor('441481', rules)?.prefix).toBe('441');
    expect(ruleFor('442', rules)?.prefix).toBe('44');
    expect(ruleFor('49', rules)?.prefix).toBe('4');
    expect(ruleFor('33', rules)).toBeUndefined();
    const markup = { markupPercent: '10' };
    const at = (prefix: string, override?: string) =>
      deriveTerms(buy, markup, card4, override, ruleFor(prefix, rules)).rate;
    expect([at('441481'), at('442'), at('49'), at('33'), at('441', '0.0222')]).toEqual([
      '0.0150',
      '0.0300',
      '0.0150',
      '0.0110',
      '0.0222',
    ]);
  });
});

describe('the longest affordable call (issue 18)', () => {
  /** Second by second: the last length whose billed price still fits. */
  const bruteForce = (
    rate: TRateTerms,
    card: { decimals: number; rounding: TRoundingMode },
    available: string,
    cap: number,
  ) => {
    let longest = 0;
    for (let seconds = 0; seconds <= cap; seconds++) {
      if (money(callPrice(rate, seconds, card)).gt(available)) break;
      longest = seconds;
    }
    // Nothing at all when not even a free call fits (available below zero).
    return money(available).isNegative() ? 0 : longest;
  };
  const decimal = (max: number, places: number) =>
    fc.integer({ min: 0, max: max * 10 ** places }).map((n) => (n / 10 ** places).toFixed(places));

  it('is the last length a second-by-second check finds, for any structure and rounding', () => {
    fc.assert(
      fc.property(
        fc.record({
          // Tiny rates put unrounded prices on rounding edges (half a unit) often.
          rate: fc.oneof(decimal(2, 6), decimal(0.01, 6), decimal(0.0002, 6), fc.constant('0')),
          connectionFee: fc.oneof(decimal(0.2, 6), fc.constant('0')),
          initialIncrement: fc.integer({ min: 1, max: 90 }),
          increment: fc.integer({ min: 1, max: 60 }),
          graceSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
          minimumSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120 })),
        }),
        fc.integer({ min: 4, max: 6 }),
        fc.constantFrom(...ROUNDING_MODES),
        fc.oneof(
          decimal(3, 6),
          decimal(0.05, 6),
          // Funds at a card's precision: a price may equal them exactly.
          decimal(0.002, 4),
          decimal(0.01, 4).map((v) => `-${v}`),
        ),
        fc.integer({ min: 1, max: 900 }),
        (rate, decimals, rounding, available, cap) => {
          const card = { decimals, rounding };
          expect(longestAffordableCall(rate, card, available, cap)).toBe(
            bruteForce(rate, card, available, cap),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('agrees on rounding edges: a price exactly at, or half a unit past, the funds', () => {
    // Per-minute prices of k/2 units at the card's precision and funds a unit either side
    // of n minutes' price: the unrounded price lands exactly on each mode's threshold.
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: -1, max: 1 }),
        fc.constantFrom(...ROUNDING_MODES),
        fc.constantFrom(1, 6, 60),
        (decimals, halves, minutes, nudge, rounding, increment) => {
          const unit = money(`1e-${decimals}`);
          const rate = unit.times(halves).dividedBy(2).toFixed();
          const available = money(money(rate).times(minutes).toFixed(decimals, 1))
            .plus(unit.times(nudge))
            .toFixed();
          const structure = terms(rate, { initialIncrement: increment, increment });
          const card = { decimals, rounding };
          expect(longestAffordableCall(structure, card, available, 2400)).toBe(
            bruteForce(structure, card, available, 2400),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('meets each rounding mode at its edge: a price exactly at the funds fits', () => {
    // 0.6/min 60/60: a minute costs exactly 0.6000; 1.2 affords two, 1.1999 one.
    const perMinute = terms('0.6');
    expect(longestAffordableCall(perMinute, card4, '1.2', 3600)).toBe(120);
    expect(longestAffordableCall(perMinute, card4, '1.1999', 3600)).toBe(60);
    // 1/1 at 0.0001/min: 3 s cost 0.000005, half up → 0.0000; 6 s 0.00001 → 0.0000 (half
    // up rounds 0.00005 up only from 30 s): funds of 0 still afford the calls rounding to 0.
    const tiny = terms('0.0001', { initialIncrement: 1, increment: 1 });
    expect(longestAffordableCall(tiny, card4, '0', 3600)).toBe(29);
    expect(longestAffordableCall(tiny, { decimals: 4, rounding: 'half_even' }, '0', 3600)).toBe(30);
    expect(longestAffordableCall(tiny, { decimals: 4, rounding: 'up' }, '0', 3600)).toBe(0);
    expect(longestAffordableCall(tiny, { decimals: 4, rounding: 'down' }, '0', 3600)).toBe(59);
  });

  it('gives the grace whatever the price, the cap when nothing is charged per second', () => {
    const graced = terms('5', { connectionFee: '1', graceSeconds: 8 });
    expect(longestAffordableCall(graced, card4, '0.5', 3600)).toBe(8);
    expect(longestAffordableCall(graced, card4, '-0.01', 3600)).toBe(0);
    expect(longestAffordableCall(terms('0', { connectionFee: '0.1' }), card4, '0.1', 14_400)).toBe(
      14_400,
    );
    expect(longestAffordableCall(terms('0', { connectionFee: '0.1' }), card4, '0.09', 14_400)).toBe(
      0,
    );
  });
});

describe('several parents compacted (issue 16 §3)', () => {
  /** Candidates for one prefix: 2-4 parents billing one structure, some blocked. */
  const candidatesOf = fc
    .record({
      rates: fc.array(
        fc.record({ units: fc.integer({ min: 1, max: 600 }), blocked: fc.boolean() }),
        { minLength: 2, maxLength: 4 },
      ),
      feeUnits: fc.integer({ min: 0, max: 50 }),
      initialIncrement: fc.constantFrom(1, 6, 30, 60),
      increment: fc.constantFrom(1, 6, 60),
      graceSeconds: fc.integer({ min: 0, max: 10 }),
    })
    .map(({ rates, feeUnits, ...structure }) =>
      rates.map(({ units, blocked }, position) => ({
        position,
        blocked,
        terms: terms(money(String(units)).dividedBy(10_000).toFixed(4), {
          ...structure,
          connectionFee: money(String(feeUnits)).dividedBy(10_000).toFixed(4),
        }),
      })),
    );
  /** Every call of 1-3600 s priced at each candidate (the oracle's table). */
  const pricesOf = (candidate: { terms: TRateTerms }) =>
    Array.from({ length: 3600 }, (_, index) => money(callPrice(candidate.terms, index + 1, card4)));

  it('lowest, highest, first and average agree with a scan of every call of 1-3600 s', () => {
    fc.assert(
      fc.property(
        candidatesOf,
        fc.constantFrom(...COMPACTIONS),
        (candidates, compaction: TCompaction) => {
          const result = compact(candidates, compaction)!;
          const open = candidates.filter((row) => !row.blocked);
          if (!open.length) {
            // Every parent blocks it: the first stands, blocked.
            expect(result.priced).toMatchObject({ position: 0, blocked: true });
            return;
          }
          const prices = new Map(open.map((row) => [row.position, pricesOf(row)]));
          // The first open candidate whose every call is at most (or at least) every other's.
          const extreme = (sign: 1 | -1) =>
            open.find((row) =>
              open.every((other) =>
                prices
                  .get(row.position)!
                  .every(
                    (price, index) =>
                      price.comparedTo(prices.get(other.position)![index]!) * sign <= 0,
                  ),
              ),
            )!;
          const expected =
            compaction === 'first' ? open[0]! : compaction === 'lowest' ? extreme(1) : extreme(-1);
          expect(result.priced.position).toBe(expected.position);
          expect(result.priced.blocked).toBe(false);
          if (compaction === 'average') {
            // The mean's exact price lies between the cheapest and the dearest call: the
            // totals priced are `count` times the mean's price, exactly.
            expect(result.base.count).toBe(open.length);
            const totals = {
              ...result.priced.terms,
              rate: result.base.rateSum.toFixed(),
              connectionFee: result.base.feeSum.toFixed(),
            };
            for (const seconds of [1, 7, 59, 61, 600, 3599]) {
              const at = exactCallPrice(totals, seconds);
              const all = open.map((row) =>
                exactCallPrice(row.terms, seconds).times(result.base.count),
              );
              expect(all.some((price) => price.lessThanOrEqualTo(at))).toBe(true);
              expect(all.some((price) => price.greaterThanOrEqualTo(at))).toBe(true);
            }
          } else {
            expect(result.base.count).toBe(1);
            expect(result.base.rateSum.equals(money(result.priced.terms.rate))).toBe(true);
            expect(result.base.feeSum.equals(money(result.priced.terms.connectionFee))).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('an average of several parents, marked up (the exact mean, divided last)', () => {
  /** Three open parents on one structure, compacted by `average`, the card-wide markup. */
  const averaged = (
    rates: string[],
    markup: { markupPercent?: string; markupFixed?: string; markupFee?: boolean },
    card: { decimals: number; rounding: TRoundingMode },
  ) => {
    const result = compact(
      rates.map((rate, position) => ({
        position,
        blocked: false,
        terms: terms(rate, { connectionFee: rate }),
      })),
      'average',
    )!;
    return deriveTerms(result.priced.terms, markup, card, undefined, undefined, result.base);
  };

  it('lands on the grid: 0.0100 / 0.0100 / 0.0200 +50 % (or +200 %) rounded down', () => {
    const down = { decimals: 4, rounding: 'down' as const };
    const rates = ['0.0100', '0.0100', '0.0200'];
    expect(averaged(rates, { markupPercent: '50' }, down).rate).toBe('0.0200');
    expect(averaged(rates, { markupPercent: '200' }, down).rate).toBe('0.0400');
    expect(averaged(rates, { markupPercent: '50', markupFee: true }, down).connectionFee).toBe(
      '0.0200',
    );
    // No markup on the fee: the mean itself, 0.01333…, rounded down.
    expect(averaged(rates, { markupPercent: '50' }, down).connectionFee).toBe('0.0133');
    expect(averaged(rates, { markupPercent: '20' }, { decimals: 6, rounding: 'down' }).rate).toBe(
      '0.016000',
    );
  });

  it('rounds a half-unit tie the card’s way: 0.0100 / 0.0100 / 0.0203 +50 % = 0.02015', () => {
    const rates = ['0.0100', '0.0100', '0.0203'];
    const at = (rounding: TRoundingMode) =>
      averaged(rates, { markupPercent: '50' }, { decimals: 4, rounding }).rate;
    expect(at('half_up')).toBe('0.0202');
    expect(at('half_even')).toBe('0.0202');
    expect(at('down')).toBe('0.0201');
    expect(at('up')).toBe('0.0202');
    // 0.0100 / 0.0100 / 0.0201: 0.02005, a tie whose even neighbour is below.
    expect(
      averaged(
        ['0.0100', '0.0100', '0.0201'],
        { markupPercent: '50' },
        { decimals: 4, rounding: 'half_even' },
      ).rate,
    ).toBe('0.0200');
  });

  it('atCardPrecisionOver rounds numerator / count as the exact rational does', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 14n }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(...ROUNDING_MODES),
        (digits, places, count, decimals, rounding) => {
          const numerator = money(digits.toString()).dividedBy(money(`1e${places}`));
          const found = money(atCardPrecisionOver(numerator, count, { decimals, rounding }));
          expect(found.decimalPlaces()).toBeLessThanOrEqual(decimals);
          // Compared in products only: numerator against found · count, exactly.
          const unit = money(`1e-${decimals}`).times(count);
          const at = found.times(count);
          const below = numerator.minus(at); // how far the exact value is above `found`, × count
          switch (rounding) {
            case 'down':
              expect(below.greaterThanOrEqualTo(0) && below.lessThan(unit)).toBe(true);
              break;
            case 'up':
              expect(below.lessThanOrEqualTo(0) && below.negated().lessThan(unit)).toBe(true);
              break;
            case 'half_up':
              expect(below.times(2).greaterThanOrEqualTo(unit.negated())).toBe(true);
              expect(below.times(2).lessThan(unit)).toBe(true);
              break;
            case 'half_even': {
              const twice = below.times(2).abs();
              expect(twice.lessThanOrEqualTo(unit)).toBe(true);
              if (twice.equals(unit)) {
                expect(
                  found
                    .times(money(`1e${decimals}`))
                    .modulo(2)
                    .isZero(),
                ).toBe(true);
              }
              break;
            }
          }
          if (count === 1)
            expect(found.equals(money(atCardPrecision(numerator, { decimals, rounding })))).toBe(
              true,
            );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
