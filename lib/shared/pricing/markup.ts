import { atCardPrecisionOver, money, type TCardRounding, type TMoney } from './money';
import { billedUnder, callPrice, type TRateTerms } from './billing';

/** A derived card's own billing structure: any field left out is the parent's, per row. */
export interface TBillingStructure {
  initialIncrement?: number | null;
  increment?: number | null;
  graceSeconds?: number | null;
  minimumSeconds?: number | null;
}

/**
 * How a card following several parents makes one row of their rows for a prefix
 * (issue 16 §3): the least cost, the dearest, the mean, or the first in priority order.
 */
export const COMPACTIONS = ['lowest', 'highest', 'average', 'first'] as const;
export type TCompaction = (typeof COMPACTIONS)[number];

/** One parent's row for a prefix (its longest match), as a compaction sees it. */
export interface TCandidate<T extends TRateTerms = TRateTerms> {
  /** The parent's position in the card's list (0 first). */
  position: number;
  terms: T;
  blocked: boolean;
}

/**
 * What a compacted row's markup applies to, exactly: `rateSum / count` per minute and
 * `feeSum / count` per call — the pricing row's own rate and fee (count 1), or for
 * `average` the open rows' totals and their number. The mean is never divided out before
 * the markup: a mean that does not terminate (a third) would be cut short, and a marked-up
 * value on the card's grid or on a half-unit tie would round one unit off (`deriveTerms`
 * divides last, as the SQL in rate-sets.ts does).
 */
export interface TCompactedBase {
  rateSum: TMoney;
  feeSum: TMoney;
  count: number;
}

/**
 * The parents' rows for one prefix compacted (the SQL in rate-sets.ts is its twin):
 * `priced` is the row the derived row is checked against and names as its pricing
 * parent — the cheapest (`lowest`), the dearest (`highest`, and `average`, whose mean
 * must not lose on a route through the dearest either), or the first in priority order
 * (`first`); ties go to priority. Blocked rows take part only when every parent blocks
 * the prefix (the first of them then stands, blocked). `base` is what the markup
 * applies to (pass it to `deriveTerms`): the priced row's rate and fee, or for `average`
 * the open rows' exact mean, as totals over their count.
 */
export function compact<T extends TRateTerms>(
  candidates: readonly TCandidate<T>[],
  compaction: TCompaction,
): { priced: TCandidate<T>; base: TCompactedBase } | undefined {
  const open = candidates.filter((row) => !row.blocked);
  const pool = (open.length ? open : candidates).slice().sort((a, b) => a.position - b.position);
  if (!pool.length) return undefined;
  const byRate = (sign: 1 | -1) =>
    pool.reduce((best, row) =>
      money(row.terms.rate).comparedTo(money(best.terms.rate)) * sign < 0 ? row : best,
    );
  const priced =
    !open.length || compaction === 'first'
      ? pool[0]!
      : compaction === 'lowest'
        ? byRate(1)
        : byRate(-1);
  const base: TCompactedBase =
    compaction === 'average' && open.length
      ? {
          rateSum: open.reduce((sum, row) => sum.plus(money(row.terms.rate)), money('0')),
          feeSum: open.reduce((sum, row) => sum.plus(money(row.terms.connectionFee)), money('0')),
          count: open.length,
        }
      : {
          rateSum: money(priced.terms.rate),
          feeSum: money(priced.terms.connectionFee),
          count: 1,
        };
  return { priced, base };
}

/** How a markup rule prices the rows under its prefix. */
export const RULE_MODES = ['percent', 'fixed', 'absolute'] as const;
export type TRuleMode = (typeof RULE_MODES)[number];

/**
 * A markup rule by prefix (issue 16 §3): `percent` on the parent's rate, `fixed` added per
 * minute, or an `absolute` rate per minute, for the prefix and every longer one under it.
 */
export interface TMarkupRule {
  prefix: string;
  mode: TRuleMode;
  value: string;
}

/**
 * The rule that prices `prefix`: the longest rule prefix it starts with (the most
 * specific wins), or undefined for the card-wide markup.
 */
export function ruleFor(
  prefix: string,
  rules: readonly TMarkupRule[] | null | undefined,
): TMarkupRule | undefined {
  let best: TMarkupRule | undefined;
  for (const rule of rules ?? []) {
    if (prefix.startsWith(rule.prefix) && (!best || rule.prefix.length > best.prefix.length)) {
      best = rule;
    }
  }
  return best;
}

/** How a derived card follows its parent: percent and/or fixed per minute on top. */
export interface TMarkup {
  /** "20" adds 20 %. */
  markupPercent?: string;
  /** Added per minute after the percent. */
  markupFixed?: string;
  /** The percent and fixed markup apply to the connection fee too (fixed once per call). */
  markupFee?: boolean;
  /** The card's own billing structure (issue 16 §3). */
  structure?: TBillingStructure;
}

/** A total over `count` rows marked up: the markup of their mean, times `count`. */
function markedUp(total: TMoney, count: number, markup: TMarkup): TMoney {
  return total
    .times(money('1').plus(money(markup.markupPercent ?? '0').dividedBy(100)))
    .plus(money(markup.markupFixed ?? '0').times(count));
}

function byRule(total: TMoney, count: number, rule: TMarkupRule): TMoney {
  switch (rule.mode) {
    case 'percent':
      return total.times(money('1').plus(money(rule.value).dividedBy(100)));
    case 'fixed':
      return total.plus(money(rule.value).times(count));
    case 'absolute':
      return money(rule.value).times(count);
  }
}

/**
 * A derived rate row from its parent's: the per-minute rate marked up and rounded the
 * child card's way; the connection fee rounded the child's way, marked up like the rate
 * when the card says so (`markupFee`); increments and grace the card's own where it sets
 * them, else the parent's (the margin check compares the two structures call by call).
 * The rate: a per-prefix override (exact prefix) first, else the row's markup rule
 * (`ruleFor`), else the card-wide markup; every row is checked for margin alike. The
 * fee follows the card-wide markup whatever priced the rate. With several parents the
 * markup applies to `base` (`compact`'s, the structure still the priced row's): for
 * `average` the exact mean, marked up as totals and divided by the count last, in the
 * rounding itself.
 */
export function deriveTerms(
  parent: TRateTerms,
  markup: TMarkup,
  card: TCardRounding,
  override?: string,
  rule?: TMarkupRule,
  base?: TCompactedBase,
): TRateTerms {
  const structure = markup.structure ?? {};
  const minimumSeconds = structure.minimumSeconds ?? parent.minimumSeconds ?? 0;
  const { rateSum, feeSum, count } = base ?? {
    rateSum: money(parent.rate),
    feeSum: money(parent.connectionFee),
    count: 1,
  };
  return {
    rate: atCardPrecisionOver(
      override !== undefined
        ? money(override).times(count)
        : rule
          ? byRule(rateSum, count, rule)
          : markedUp(rateSum, count, markup),
      count,
      card,
    ),
    connectionFee: atCardPrecisionOver(
      markup.markupFee ? markedUp(feeSum, count, markup) : feeSum,
      count,
      card,
    ),
    initialIncrement: structure.initialIncrement ?? parent.initialIncrement,
    increment: structure.increment ?? parent.increment,
    graceSeconds: structure.graceSeconds ?? parent.graceSeconds,
    // Only when there is one: the terms read as before for every card without it.
    ...(minimumSeconds ? { minimumSeconds } : {}),
  };
}

/** Typical call lengths the margin report shows priced at both levels, for reading. */
export const SAMPLE_SECONDS = [1, 6, 30, 60, 180] as const;

/**
 * When a sell rate per minute is below its buy rate, every long enough call loses and
 * the loss grows with the length: its first losing call and worst loss are given for
 * calls up to a day (switches cut calls well before; a longer one is not one call).
 */
export const MAX_CALL_SECONDS = 86_400;

export interface TMarginSample {
  seconds: number;
  buy: string;
  sell: string;
  margin: string;
}

/** What the exact margin check finds for one row. */
export interface TMarginVerdict {
  /** Some call length sells below its buy price (or the sell rate is below the buy rate). */
  losing: boolean;
  /** The shortest call that loses money, in seconds; null when none does. */
  firstLosingSeconds: number | null;
  /** The largest loss on one call (buy price − sell price); null when none loses. */
  worstLoss: string | null;
  /** The shortest call with that loss. */
  worstLossSeconds: number | null;
  /** The sell rate per minute is below the buy rate: longer calls lose more. */
  sellsBelowBuyRate: boolean;
}

/**
 * How far below its exact value a card's rounding can bill (`down` up to one unit of its
 * last decimal, the half modes half a unit, `up` never), and how far above.
 */
function roundingSlack(card: TCardRounding): { below: TMoney; above: TMoney } {
  const unit = money(`1e-${card.decimals}`);
  const half = unit.dividedBy(2);
  switch (card.rounding) {
    case 'down':
      return { below: unit, above: money('0') };
    case 'up':
      return { below: money('0'), above: unit };
    default:
      return { below: half, above: half };
  }
}

/**
 * What the margin check has to enumerate, shared by the TypeScript check and its SQL
 * twin (lib/server/services/rates/rate-sets.ts), which a property test holds to it:
 * - `slack`: the sell price can lose at most `slack` to rounding against the buy price
 *   (the sell's rounding down plus the buy's rounding up). A call whose exact sell price
 *   is at least `slack` above its exact buy price cannot lose.
 */
export function marginSlack(buy: TCardRounding, sell: TCardRounding): TMoney {
  return roundingSlack(sell).below.plus(roundingSlack(buy).above);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

const lcm = (a: number, b: number) => (a / gcd(a, b)) * b;

/**
 * Whether any call loses money on a row, exactly — not at sample lengths (issue 16: a
 * 30/6 row lost on every call of 37–42 s that no sample hit). The two levels may bill
 * different structures.
 *
 * From `start` on (past both initial increments, graces and minimum durations) each level bills
 * m + k·i seconds, so a call L = lcm(60, both increments) seconds longer bills exactly L
 * more at both; rates are at their cards' precision, so L/60 whole minutes add a whole
 * number of units to each price and leave its rounding as it was (an even number of
 * units under half-even rounding, so L doubles there): the loss at d + L is
 * the loss at d minus Δ·L/60 (Δ: sell rate − buy rate per minute). Hence the calls
 * shorter than `start + L` decide everything: with Δ ≥ 0 no longer call loses first or
 * more; with Δ < 0 each call's loss grows by |Δ|·L/60 a period, which gives its first
 * losing length and its worst within MAX_CALL_SECONDS in closed form. Only call lengths
 * where a level's billed seconds change are priced: 2 to 61 prices on common structures.
 */
export function marginCheck(
  buy: { terms: TRateTerms; card: TCardRounding },
  sell: { terms: TRateTerms; card: TCardRounding },
  options: {
    samples?: readonly number[];
    /** The longest call considered when the sell rate is below the buy rate. */
    maxCallSeconds?: number;
  } = {},
): TMarginVerdict & { samples: TMarginSample[] } {
  const { samples = SAMPLE_SECONDS, maxCallSeconds = MAX_CALL_SECONDS } = options;
  for (const [level, side] of [
    ['buy', buy],
    ['sell', sell],
  ] as const) {
    for (const value of [side.terms.rate, side.terms.connectionFee]) {
      if (money(value).decimalPlaces() > side.card.decimals) {
        // The period argument needs it: a finer rate would shift its rounding.
        throw new RangeError(`the ${level} terms are finer than their card's precision`);
      }
    }
  }
  const billedAt = billedUnder;
  const lossAt = (seconds: number) =>
    money(callPrice(buy.terms, seconds, buy.card)).minus(
      money(callPrice(sell.terms, seconds, sell.card)),
    );
  const start =
    Math.max(
      buy.terms.initialIncrement,
      sell.terms.initialIncrement,
      buy.terms.graceSeconds,
      sell.terms.graceSeconds,
      buy.terms.minimumSeconds ?? 0,
      sell.terms.minimumSeconds ?? 0,
    ) + 1;
  // Half-even rounding breaks a tie toward the even neighbour: a shift by an odd number
  // of units flips that, an even one does not — so with it, two minutes' worth.
  const evenTies = buy.card.rounding === 'half_even' || sell.card.rounding === 'half_even';
  const period = lcm(lcm(buy.terms.increment, sell.terms.increment), 60) * (evenTies ? 2 : 1);
  const delta = money(sell.terms.rate).minus(money(buy.terms.rate));
  // How much more a call loses per period (negative: less).
  const growth = delta.negated().times(period).dividedBy(60);

  let firstLosing: number | null = null;
  let worst: { loss: TMoney; seconds: number } | null = null;
  const consider = (loss: TMoney, seconds: number) => {
    if (!loss.greaterThan(0)) return;
    if (firstLosing === null || seconds < firstLosing) firstLosing = seconds;
    if (
      !worst ||
      loss.greaterThan(worst.loss) ||
      (loss.equals(worst.loss) && seconds < worst.seconds)
    ) {
      worst = { loss, seconds };
    }
  };
  let previous = '';
  for (let seconds = 1; seconds < start + period; seconds++) {
    // The shortest call of each run billed alike at both levels stands for the run.
    const billed = `${billedAt(buy.terms, seconds)}/${billedAt(sell.terms, seconds)}`;
    if (billed === previous) continue;
    previous = billed;
    const loss = lossAt(seconds);
    if (seconds < start || !delta.isNegative()) {
      consider(loss, seconds);
      continue;
    }
    if (seconds > maxCallSeconds) continue;
    // This call length first loses after enough periods, and loses most at the last one.
    const periods = loss.greaterThan(0)
      ? 0
      : loss.negated().dividedToIntegerBy(growth).toNumber() + 1;
    const losingAt = seconds + periods * period;
    if (losingAt <= maxCallSeconds) consider(loss.plus(growth.times(periods)), losingAt);
    const last = Math.floor((maxCallSeconds - seconds) / period);
    consider(loss.plus(growth.times(last)), seconds + last * period);
  }
  const priced = samples.map((seconds) => {
    const buyPrice = callPrice(buy.terms, seconds, buy.card);
    const sellPrice = callPrice(sell.terms, seconds, sell.card);
    return {
      seconds,
      buy: buyPrice,
      sell: sellPrice,
      margin: money(sellPrice).minus(money(buyPrice)).toFixed(),
    };
  });
  const found = worst as { loss: TMoney; seconds: number } | null;
  return {
    losing: delta.isNegative() || firstLosing !== null,
    firstLosingSeconds: firstLosing,
    worstLoss: found ? found.loss.toFixed() : null,
    worstLossSeconds: found ? found.seconds : null,
    sellsBelowBuyRate: delta.isNegative(),
    samples: priced,
  };
}
