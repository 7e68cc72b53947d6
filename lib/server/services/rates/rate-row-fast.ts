import { RATE_CSV_COLUMNS, type TRateInput } from '@/lib/shared/schemas/rates';

/**
 * `ZRateInput.parse` for the rows a rate deck is made of, without zod: a 100k-row import
 * spent about a fifth of its parse in the schema's checks and the objects they make
 * (issue 14, docs/bench.md). Only a row every one of whose cells is plainly good is
 * read here — digits, a price, printable ASCII, defaults — and answered exactly as the
 * schema would (tests/unit/rate-row-fast.test.ts holds the two equal over random rows);
 * anything else (a date, a non-ASCII name, a bad cell) is null, and the caller asks the
 * schema, which says what is wrong. Cells come trimmed, as the CSV reader passes them.
 */
export function fastRateInput(record: Record<string, unknown>): TRateInput | null {
  // The schema is strict (an unknown key is refused) and keeps a key given as undefined:
  // such records are its to read, wherever this is called from.
  for (const key in record) {
    if (!COLUMNS.has(key) || record[key] === undefined) return null;
  }
  const { prefix, destination, rate, connectionFee, blocked, effectiveFrom } = record;
  if (effectiveFrom !== undefined) return null;
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) return null;
  if (typeof destination !== 'string' || !NAME.test(destination)) return null;
  if (typeof rate !== 'string' || !PRICE.test(rate)) return null;
  if (
    connectionFee !== undefined &&
    (typeof connectionFee !== 'string' || !PRICE.test(connectionFee))
  )
    return null;
  if (blocked !== undefined && typeof blocked !== 'boolean') return null;
  const initialIncrement = seconds(record.initialIncrement, 1, 3600, 60);
  const increment = seconds(record.increment, 1, 3600, 60);
  const graceSeconds = seconds(record.graceSeconds, 0, 600, 0);
  const minimumSeconds = seconds(record.minimumSeconds, 0, 3600, undefined);
  if (initialIncrement === null || increment === null || graceSeconds === null) return null;
  if (minimumSeconds === null) return null;
  // The schema's key order, with an absent optional left out as it leaves it.
  return {
    prefix,
    destination,
    rate,
    connectionFee: connectionFee ?? '0',
    initialIncrement,
    increment,
    graceSeconds,
    ...(minimumSeconds === undefined ? {} : { minimumSeconds }),
    blocked: blocked ?? false,
  };
}

const COLUMNS = new Set<string>(RATE_CSV_COLUMNS);

/** ZRowPrefix: digits, never starting "00". */
const PREFIX = /^(?!00)\d{1,20}$/;
/** ZPrice. */
const PRICE = /^\d{1,6}(\.\d{1,6})?$/;
/**
 * A destination ZNameText(120) takes: printable ASCII (no control character, no half of
 * a UTF-16 pair, nothing invisible) starting and ending with a visible character — as
 * trimmed — and at most 120 long. A name in any other script goes to the schema.
 */
const NAME = /^[\x21-\x7e](?:[\x20-\x7e]{0,118}[\x21-\x7e])?$/;

/**
 * A whole number of seconds in [min, max] given as up to four digits, or the default
 * when absent; null for anything else (a sign, a point, an exponent: the schema's).
 */
function seconds<T extends number | undefined>(
  cell: unknown,
  min: number,
  max: number,
  fallback: T,
): number | T | null {
  if (cell === undefined) return fallback;
  if (typeof cell !== 'string' || !/^\d{1,4}$/.test(cell)) return null;
  const value = Number(cell);
  return value >= min && value <= max ? value : null;
}
