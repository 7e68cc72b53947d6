import {
  MAX_DECIMALS,
  MIN_DECIMALS,
  ROUNDING_MODES,
  type TCardRounding,
} from '@/lib/shared/pricing/money';

/**
 * The pricing core (lib/shared/pricing) as SQL expressions, for the set-based derive and
 * margin check. Generated per statement with the card's precision and rounding mode
 * written in (the expression may appear more than once: pass a column, never a
 * placeholder), so PostgreSQL evaluates plain numeric expressions — no function call per
 * row (a SQL function that cannot be inlined costs ~100 µs a call: minutes for 100k
 * rows × 5 sample calls). Only validated numbers and known modes are ever written in.
 * A property test holds these to the TypeScript core row by row.
 */
export function roundSql(expression: string, card: TCardRounding): string {
  const { decimals, rounding } = card;
  const x = `(${expression})`;
  const scale = unitScale(card);
  switch (rounding) {
    case 'half_up':
      return `round(${x}, ${decimals})`;
    case 'down':
      return `trunc(${x}, ${decimals})`;
    case 'up':
      // Away from zero; prices are never negative.
      return `round(ceil(${x} * ${scale}) / ${scale}, ${decimals})`;
    case 'half_even':
      // A tie goes to the even neighbour; anything else rounds to the nearest.
      return `(case when ${x} * ${scale} - floor(${x} * ${scale}) = 0.5
                then round((floor(${x} * ${scale}) + mod(floor(${x} * ${scale}), 2)) / ${scale}, ${decimals})
                else round(${x}, ${decimals}) end)`;
  }
}

/** Billed seconds (lib/shared/pricing/billing.ts): m if d <= m, else m + ceil((d − m) / i) · i. */
export function billedSecondsSql(seconds: string, initial: string, increment: string): string {
  return `(case when ${seconds} <= ${initial} then ${initial}
            else ${initial} + ceil((${seconds} - ${initial})::numeric / ${increment}) * ${increment} end)`;
}

/**
 * `expression` rounded the way each row's own card rounds (`decimals`, `rounding`: SQL
 * naming the card's columns), for a statement over rows of many cards (rating): one
 * branch per precision and mode a card may have, each `roundSql`'s plain expression, so
 * the row is priced by the same arithmetic as a card-at-a-time statement.
 */
export function roundByCardSql(expression: string, decimals: string, rounding: string): string {
  const precisions = Array.from(
    { length: MAX_DECIMALS - MIN_DECIMALS + 1 },
    (_, index) => MIN_DECIMALS + index,
  );
  const branches = precisions.flatMap((places) =>
    ROUNDING_MODES.map(
      (mode) =>
        `when ${decimals} = ${places} and ${rounding} = '${mode}' then ${roundSql(expression, { decimals: places, rounding: mode })}`,
    ),
  );
  return `(case ${branches.join('\n      ')} end)`;
}

/**
 * `total / count` in units of the card's last decimal as an exact integer quotient and
 * remainder (`<name>_q`, `<name>_r`): `div` and `mod` on numeric are exact, where `/` (and
 * `avg`) cut a quotient that does not terminate at about 20 digits. For `roundedOverSql`.
 */
export function unitsSql(total: string, count: string, card: TCardRounding, name: string): string {
  const scaled = `(${total}) * ${unitScale(card)}`;
  return `div(${scaled}, ${count}) as ${name}_q, mod(${scaled}, ${count}) as ${name}_r`;
}

/**
 * `unitsSql`'s quotient q and remainder r over `count` rounded the card's way, at its
 * precision: the integer rounding of `atCardPrecisionOver` and `callPriceMicro`
 * (lib/shared/pricing), so several parents' mean marked up rounds as its exact value.
 * Prices are never negative.
 */
export function roundedOverSql(q: string, r: string, count: string, card: TCardRounding): string {
  const bump = {
    down: '0',
    up: `case when ${r} > 0 then 1 else 0 end`,
    half_up: `case when 2 * ${r} >= ${count} then 1 else 0 end`,
    half_even: `case when 2 * ${r} > ${count} or (2 * ${r} = ${count} and mod(${q}, 2) = 1)
                     then 1 else 0 end`,
  }[card.rounding];
  return `round((${q} + ${bump}) / ${unitScale(card)}, ${card.decimals})`;
}

/**
 * The card bills its own structure (marginCheck with two structures): the loss only
 * changes where either level's billed seconds do — a call of 1 s, one past either grace,
 * one past each billed length of either level — so those call lengths are priced, below
 * `start + period` (past both initial increments and graces, one common period:
 * lcm(both increments, 60), doubled with half-even rounding). With a sell rate above the
 * buy rate, a call from `start` on bills at least its length on the sell side and less
 * than its length plus the buy increment on the buy side, so from
 * (60 · (slack − fee difference) + buy rate · buy increment) / Δ seconds on nothing can
 * lose: the enumeration stops there too.
 *
 * Reads, by alias: `s` (the sell row's `rate` and `fee`), `t` (its structure:
 * `initial_increment`, `increment`, `grace_seconds`, `minimum_seconds`), `p` (the
 * buy row) and `g` (each level's first billed length out of grace: `first`, `sell_first`).
 */
export function mixedLosingSql(
  slack: string,
  periods: number,
  parent: TCardRounding,
  child: TCardRounding,
): string {
  const sellBilled = billedSecondsSql(
    'greatest(c.d, t.minimum_seconds)',
    't.initial_increment',
    't.increment',
  );
  const buyBilled = billedSecondsSql(
    'greatest(c.d, p.minimum_seconds)',
    'p.initial_increment',
    'p.increment',
  );
  return `exists (
              select 1 from (
                select greatest(p.initial_increment, t.initial_increment, p.grace_seconds,
                                t.grace_seconds, p.minimum_seconds, t.minimum_seconds) + 1 as start
                offset 0) st
               cross join lateral (
                 select least(st.start + ${periods} * lcm(lcm(p.increment, t.increment), 60),
                   case when s.rate > p.rate
                        then greatest(st.start, ceil((60 * (${slack}::numeric - (s.fee - p.connection_fee))
                                                      + p.rate * p.increment) / (s.rate - p.rate)))
                        else st.start + ${periods} * lcm(lcm(p.increment, t.increment), 60) end) as bound
                 offset 0) lim
               cross join lateral (
                 select 1 as d
                 union select p.grace_seconds + 1
                 union select t.grace_seconds + 1
                 union select g.first + k * p.increment + 1
                         from generate_series(0, ceil(lim.bound / p.increment)::int) k
                 union select g.sell_first + k * t.increment + 1
                         from generate_series(0, ceil(lim.bound / t.increment)::int) k) c
               cross join lateral (
                 select case when c.d <= t.grace_seconds then 0
                             else s.fee + s.rate * ${sellBilled} / 60 end as sell,
                        case when c.d <= p.grace_seconds then 0
                             else p.connection_fee + p.rate * ${buyBilled} / 60 end as buy
                 offset 0) x
               where c.d < lim.bound and ${roundSql('x.sell', child)} < ${roundSql('x.buy', parent)})`;
}

/**
 * What `mixedLosingSql` (and the derive's `sameLosingSql`) read as `g`: each level's first
 * billed length out of grace and past its minimum — `first` the buy row's (`p`),
 * `sell_first` the sell terms' (`t`). A select list for a lateral `g`.
 */
export function firstBilledSql(): string {
  const first = (row: string) =>
    billedSecondsSql(
      `greatest(${row}.grace_seconds + 1, ${row}.minimum_seconds)`,
      `${row}.initial_increment`,
      `${row}.increment`,
    );
  return `select ${first('p')} as first, ${first('t')} as sell_first`;
}

/**
 * 10^decimals as a SQL literal: the card's smallest unit. Only a validated precision and a
 * known mode are ever written into SQL.
 */
function unitScale(card: TCardRounding): string {
  const { decimals, rounding } = card;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new RangeError(`decimals must be 0 to ${MAX_DECIMALS}`);
  }
  if (!ROUNDING_MODES.includes(rounding)) throw new RangeError(`unknown rounding ${rounding}`);
  return `1${'0'.repeat(decimals)}`;
}
