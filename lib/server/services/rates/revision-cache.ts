import { sharedInFlight } from '@/lib/server/db/in-flight';
import type { EntityManager } from '@mikro-orm/postgresql';
import { directQuery } from '@/lib/server/db/direct-query';
import { toMicro, type TRateTermsMicro } from '@/lib/shared/pricing/billing';

/** One rate row of a revision, ready to price (money in millionths). */
export interface TRevisionRow extends TRateTermsMicro {
  prefix: string;
  destination: string;
  blocked: boolean;
  /** When the row takes effect inside its revision (ms since the epoch); null: from its start. */
  effectiveFrom: number | null;
  /**
   * The parent card whose row priced it (issue 16; null on a card derived from nothing):
   * the level above it on a call's chain, when the card follows several parents.
   */
  pricedBy: string | null;
}

/**
 * A card's revision in memory: its rows by prefix (latest effective time first), kept by
 * the prefix's length and digits as a number (`byLength[n]`, up to `NUMERIC_DIGITS`
 * digits: a map keyed by a number hashes far faster than one keyed by a fresh substring)
 * or, longer, by the prefix itself.
 */
export interface TRevisionRates {
  byLength: (Map<number, TRevisionRow[]> | undefined)[];
  long: Map<string, TRevisionRow[]>;
  /** The longest prefix it holds: no longer one is worth looking up. */
  longest: number;
  rows: number;
}

/** Digits a prefix may have to be kept as a number (exact below 2^53). */
const NUMERIC_DIGITS = 15;

/**
 * A dialled number's leading digits as numbers (`[n]`: the first n digits), computed once
 * for all the levels a call is matched at.
 */
export function leadingValues(number: string): number[] {
  const values = [0];
  let value = 0;
  for (let index = 0; index < Math.min(number.length, NUMERIC_DIGITS); index++) {
    value = value * 10 + (number.charCodeAt(index) - 48);
    values.push(value);
  }
  return values;
}

/**
 * The longest prefix of `number` in effect at `at` (ms): the lookup's rule (MATCHES_AT in
 * lookup-rates.ts) — the longest prefix first, and of its rows the one that took effect
 * last by then — on a revision's rows in memory. `leading` is `leadingValues(number)`.
 */
export function longestMatch(
  rates: TRevisionRates,
  number: string,
  leading: readonly number[],
  at: number,
): TRevisionRow | null {
  for (let length = Math.min(number.length, rates.longest); length > 0; length--) {
    const rows =
      length <= NUMERIC_DIGITS
        ? rates.byLength[length]?.get(leading[length]!)
        : rates.long.get(number.slice(0, length));
    if (!rows) continue;
    for (const row of rows) {
      if (row.effectiveFrom === null || row.effectiveFrom <= at) return row;
    }
  }
  return null;
}

/**
 * Card revisions in memory, for rating (issue 18): longest-prefix matches of thousands of
 * calls a batch against 100k-prefix cards cost a hash of every row per card in SQL, each
 * batch again; here a revision is read once per process and matched with a few map
 * lookups per call. Correct because a revision's rows never change once it exists
 * (revisions.ts: a new revision closes rows at its own number, a withdrawn one only ever
 * was scheduled — and a withdrawn revision is never asked for again, since callers pick
 * revisions among those not cancelled). Bounded by rows, least recently used first out;
 * a load in flight is shared by whoever asks for the same revision meanwhile.
 */
export class RevisionCache {
  private readonly sets = new Map<string, TRevisionRates>();
  private readonly loading = sharedInFlight<TRevisionRates>();
  private held = 0;

  constructor(
    private readonly maxRows: number,
    private readonly load: typeof loadRevision = loadRevision,
  ) {}

  /** Revision `number` of the card, read through `em` (any transaction or none) if missing. */
  async get(em: EntityManager, cardId: string, number: number): Promise<TRevisionRates> {
    const key = `${cardId}:${number}`;
    const found = this.sets.get(key);
    if (found) {
      this.sets.delete(key);
      this.sets.set(key, found);
      return found;
    }
    return this.loading(key, () =>
      this.load(em, cardId, number).then((rates) => {
        this.keep(key, rates);
        return rates;
      }),
    );
  }

  /** Whether the revision is in memory now. */
  has(cardId: string, number: number): boolean {
    return this.sets.has(`${cardId}:${number}`);
  }

  get rows(): number {
    return this.held;
  }

  private keep(key: string, rates: TRevisionRates): void {
    this.sets.set(key, rates);
    this.held += rates.rows;
    for (const [oldest, set] of this.sets) {
      if (this.held <= this.maxRows || oldest === key) break;
      this.sets.delete(oldest);
      this.held -= set.rows;
    }
  }
}

/** A `rate_history` row as the cache reads it (money as text, `effective_from` in ms). */
export interface THistoryRow {
  prefix: string;
  destination: string;
  rate: string;
  connection_fee: string;
  initial_increment: number;
  increment: number;
  grace_seconds: number;
  /** Absent from rows read before minimum durations existed (issue 16): none. */
  minimum_seconds?: number | null;
  blocked: boolean;
  effective_from: string | number | null;
  /** Absent from rows read before several parents existed (issue 16): none. */
  priced_by?: string | null;
}

async function loadRevision(
  em: EntityManager,
  cardId: string,
  number: number,
): Promise<TRevisionRates> {
  const rows = await directQuery<THistoryRow>(
    em,
    `select prefix, destination, rate::text as rate, connection_fee::text as connection_fee,
            initial_increment, increment, grace_seconds, minimum_seconds, blocked,
            priced_by::text as priced_by,
            -- Rounded up to the millisecond: in effect at a millisecond exactly when
            -- PostgreSQL (microseconds) says so.
            ceil(extract(epoch from effective_from) * 1000)::bigint as effective_from
       from rate_history
      where card_id = ? and from_rev <= ? and (to_rev is null or to_rev > ?)`,
    [cardId, number, number],
  );
  return revisionRates(rows);
}

/** A revision's rows (as `rate_history` holds them) ready to match and price. */
export function revisionRates(rows: readonly THistoryRow[]): TRevisionRates {
  const byLength: (Map<number, TRevisionRow[]> | undefined)[] = [];
  const long = new Map<string, TRevisionRow[]>();
  let longest = 0;
  for (const row of rows) {
    const entry: TRevisionRow = {
      prefix: row.prefix,
      destination: row.destination,
      rate: toMicro(row.rate),
      connectionFee: toMicro(row.connection_fee),
      initialIncrement: row.initial_increment,
      increment: row.increment,
      graceSeconds: row.grace_seconds,
      minimumSeconds: row.minimum_seconds ?? 0,
      blocked: row.blocked,
      effectiveFrom: row.effective_from === null ? null : Number(row.effective_from),
      pricedBy: row.priced_by ?? null,
    };
    const length = row.prefix.length;
    let same: TRevisionRow[] | undefined;
    if (length <= NUMERIC_DIGITS) {
      const key = leadingValues(row.prefix)[length]!;
      const map = (byLength[length] ??= new Map());
      same = map.get(key);
      if (!same) map.set(key, (same = []));
    } else {
      same = long.get(row.prefix);
      if (!same) long.set(row.prefix, (same = []));
    }
    same.push(entry);
    longest = Math.max(longest, length);
  }
  // Latest effective time first, rows in effect from the start last (nulls last).
  for (const map of [...byLength, long]) {
    for (const same of map?.values() ?? []) {
      if (same.length > 1) {
        same.sort((a, b) => (b.effectiveFrom ?? -Infinity) - (a.effectiveFrom ?? -Infinity));
      }
    }
  }
  return { byLength, long, longest, rows: rows.length };
}

/** Rows one process keeps at most: twenty 100k-prefix revisions. */
const MAX_ROWS = 2_000_000;
const CACHE_KEY = Symbol.for('reseller-panel.revision-cache');
type TGlobalWithCache = typeof globalThis & { [CACHE_KEY]?: RevisionCache };

/** The process's cache, shared by its module graphs (the server's and Next's bundle). */
export function revisionCache(): RevisionCache {
  const global = globalThis as TGlobalWithCache;
  return (global[CACHE_KEY] ??= new RevisionCache(MAX_ROWS));
}
