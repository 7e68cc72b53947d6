import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@/lib/server/errors/domain-error';

/**
 * The least value `numeric(18,6)` (`rate`, `rate_history`) cannot hold: it keeps 12
 * integer digits, and rounds to 6 places first, so 999999999999.9999995 already overflows.
 */
const STORED_OVERFLOW = '999999999999.9999995';

/** A derived row that would not fit, as the recompute found it. */
export interface TOutOfRangeRow {
  prefix: string;
  /** ISO time, null for a row in effect from the start. */
  effectiveFrom: string | null;
  column: 'rate' | 'connectionFee';
  value: string;
}

/**
 * A recompute of a derived card would store a price above what `numeric(18,6)` holds (a
 * chain deeper than MAX_CHAIN_LEVELS, made before that limit, or marked up past it). Found
 * before the card's revision is recorded, so nothing is written and the database's own
 * overflow (a 400 naming nothing) never happens. A 400 naming the card, the prefix and a
 * field: the writer that knows which of its request's fields led there says which
 * (`naming`); otherwise `rates`.
 */
export class DerivedRateOutOfRange extends DomainError {
  /** Why, as a field's message: "would make the rate of prefix 44 on derived card …". */
  readonly reason: string;

  constructor(
    readonly card: { id: string; name: string },
    readonly row: TOutOfRangeRow,
    field = 'rates',
  ) {
    const what = row.column === 'rate' ? 'rate' : 'connection fee';
    const reason = `would make the ${what} of prefix ${row.prefix} on derived card "${card.name}" ${row.value}, above the most the panel stores (999999999999.999999)`;
    super(
      'invalid_input',
      'invalid_input',
      `Invalid input: ${field} ${reason}; nothing was written.`,
      { fields: { [field]: reason }, card, prefix: row.prefix },
    );
    this.reason = reason;
  }

  /** The same refusal naming the request's field that led to it. */
  naming(field: string): DerivedRateOutOfRange {
    return new DerivedRateOutOfRange(this.card, this.row, field);
  }
}

/**
 * Throws DerivedRateOutOfRange for the first row of `card`'s recomputed set in `rev_set`
 * (unbounded numeric) that `rate` could not hold. Plain comparisons, no rounding per row:
 * the set is scanned once more, whatever its size.
 */
export async function assertDerivedInRange(
  tx: EntityManager,
  card: { id: string; name: string },
): Promise<void> {
  const [over] = await tx.execute<
    { prefix: string; effective_from: string | Date | null; column: string; value: string }[]
  >(
    `select prefix, effective_from,
            case when rate >= ?::numeric then 'rate' else 'connectionFee' end as column,
            (case when rate >= ?::numeric then rate else connection_fee end)::text as value
       from rev_set
      where card_id = ? and (rate >= ?::numeric or connection_fee >= ?::numeric)
      order by prefix, effective_from nulls first
      limit 1`,
    [STORED_OVERFLOW, STORED_OVERFLOW, card.id, STORED_OVERFLOW, STORED_OVERFLOW],
  );
  if (!over) return;
  throw new DerivedRateOutOfRange(
    { id: card.id, name: card.name },
    {
      prefix: over.prefix,
      effectiveFrom: over.effective_from ? new Date(over.effective_from).toISOString() : null,
      column: over.column === 'rate' ? 'rate' : 'connectionFee',
      value: over.value,
    },
  );
}

/**
 * The input row that priced an out-of-range derived row: the longest prefix it starts
 * with (a derived card has a row for every prefix of its parents, priced by the longest
 * covering one), in effect at the row's time — the same effective time, else the latest
 * before it. Undefined when none of `rows` covers it.
 */
export function inputRowOf(
  rows: readonly { prefix: string; effectiveFrom?: string | undefined }[],
  row: TOutOfRangeRow,
): number | undefined {
  const at = row.effectiveFrom ? Date.parse(row.effectiveFrom) : -Infinity;
  let best: { index: number; length: number; from: number } | undefined;
  rows.forEach((input, index) => {
    if (!row.prefix.startsWith(input.prefix)) return;
    const from = input.effectiveFrom ? Date.parse(input.effectiveFrom) : -Infinity;
    if (from > at) return;
    if (
      !best ||
      input.prefix.length > best.length ||
      (input.prefix.length === best.length && from > best.from)
    ) {
      best = { index, length: input.prefix.length, from };
    }
  });
  return best?.index;
}
