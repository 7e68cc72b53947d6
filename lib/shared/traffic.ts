import { Money } from '@/lib/shared/pricing/money';
import {
  USAGE_MAX_RECORDS,
  type TUsageLevelDto,
  type TUsagePosted,
  type TUsageRecordDto,
  type TUsageSummaryRow,
} from '@/lib/shared/schemas/usage';

/**
 * The traffic dashboard's arithmetic (issue 18), exact: totals are summed from the
 * summary's decimal strings per currency (amounts in two currencies are never added),
 * and the charts' time axis gets a bar for every day, traffic or not.
 */
export interface TTrafficTotals {
  /** The revenue's currency (null: rows with nothing rated). */
  currency: string | null;
  calls: number;
  seconds: number;
  revenue: string;
  cost: string;
  /** Null when a row's margin is (its cost in another currency). */
  margin: string | null;
  unrated: number;
}

/**
 * The rows' totals, one per revenue currency, the one with the most calls first; rows
 * with nothing rated count in the first (a block of their own only when no row is priced).
 */
export function totalsByCurrency(rows: readonly TUsageSummaryRow[]): TTrafficTotals[] {
  const byCurrency = new Map<string | null, TTrafficTotals>();
  for (const row of rows) {
    const held = byCurrency.get(row.currency) ?? {
      currency: row.currency,
      calls: 0,
      seconds: 0,
      revenue: '0',
      cost: '0',
      margin: '0',
      unrated: 0,
    };
    byCurrency.set(row.currency, {
      currency: row.currency,
      calls: held.calls + row.calls,
      seconds: held.seconds + row.seconds,
      revenue: new Money(held.revenue).plus(row.revenue).toFixed(6),
      cost: new Money(held.cost).plus(row.cost).toFixed(6),
      margin:
        held.margin === null || row.margin === null
          ? null
          : new Money(held.margin).plus(row.margin).toFixed(6),
      unrated: held.unrated + row.unrated,
    });
  }
  const sorted = [...byCurrency.values()].sort(
    (a, b) => b.calls - a.calls || b.unrated - a.unrated,
  );
  // Rows with nothing rated have no currency but may hold unrated calls (a customer with
  // no card yet): counted in the first block, whose figures the headline shows, rather
  // than in a block of their own the headline leaves out. Money is untouched: they have
  // none.
  const unpriced = byCurrency.get(null);
  const first = sorted.find((totals) => totals.currency !== null);
  if (!unpriced || !first) return sorted;
  first.calls += unpriced.calls;
  first.seconds += unpriced.seconds;
  first.unrated += unpriced.unrated;
  return sorted.filter((totals) => totals !== unpriced);
}

/** Minutes from seconds, to one decimal, in the viewer's locale ("90" → "1.5", de: "1,5"). */
export function minutesOf(seconds: number, locale?: string): string {
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(Math.round(seconds / 6) / 10);
}

/** A count in the viewer's locale, grouped ("12345" → "12,345", de: "12.345"). */
export function countOf(count: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(count);
}

/** The start of the UTC day `daysBack` days before `now`. */
export function utcDayStart(now: number, daysBack = 0): Date {
  const day = new Date(now);
  day.setUTCHours(0, 0, 0, 0);
  day.setUTCDate(day.getUTCDate() - daysBack);
  return day;
}

/**
 * When a traffic summary's window has moved enough to read it again (ms from `now`): the
 * last hour each minute, the days at the next UTC midnight (a second past it). Calls
 * refetch it as they come; this moves it when none come — the switch down is when an
 * operator looks, and the last hour before the outage stayed on screen for good.
 */
export function trafficRefreshMs(period: 'hour' | 'days', now: number): number {
  if (period === 'hour') return 60_000;
  return utcDayStart(now, -1).getTime() - now + 1_000;
}

/**
 * A `by=day` summary's rows spread over `days` days ending today (UTC): a day without
 * calls is there with zeros, so the chart's axis does not skip it. Rows of `currency`
 * only (a chart shows one).
 */
export function dailySeries(
  rows: readonly TUsageSummaryRow[],
  now: number,
  days: number,
  currency: string | null,
): { day: string; revenue: string; cost: string; margin: string | null; calls: number }[] {
  const byDay = new Map(
    rows
      .filter((row) => row.currency === currency || row.currency === null)
      .map((row) => [row.key.slice(0, 10), row]),
  );
  return Array.from({ length: days }, (_, index) => {
    const day = utcDayStart(now, days - 1 - index)
      .toISOString()
      .slice(0, 10);
    const row = byDay.get(day);
    return {
      day,
      revenue: row?.revenue ?? '0.000000',
      cost: row?.cost ?? '0.000000',
      margin: row ? row.margin : '0.000000',
      calls: row?.calls ?? 0,
    };
  });
}

/** Why a call is unrated, as the panel says it. */
export const UNRATED_REASON_TEXT: Record<string, string> = {
  unknown_account: 'unknown account',
  account_suspended: 'account suspended at its start',
  credit_blocked: 'blocked for credit',
  no_card: 'no card',
  no_route: 'no route',
  blocked_prefix: 'blocked prefix',
  currency_mismatch: 'currency mismatch',
  moved: 'before a transfer',
};

/** What a re-rate did: "Rated 12 calls; 3 still unrated (no route 2, blocked for credit 1)." */
export function rerateSentence(
  result: Pick<TUsagePosted, 'rated' | 'unrated' | 'unratedByReason'>,
): string {
  if (!result.rated && !result.unrated) return 'There were no unrated calls to rate.';
  const rated = `Rated ${result.rated} ${result.rated === 1 ? 'call' : 'calls'}`;
  // One re-rate takes USAGE_MAX_RECORDS, those tried least first: a full one may have left
  // more behind, which the next one takes.
  const more =
    result.rated + result.unrated >= USAGE_MAX_RECORDS
      ? ` Only ${USAGE_MAX_RECORDS.toLocaleString('en')} were tried: re-rate again for the rest.`
      : '';
  if (!result.unrated) return `${rated}; none of those is left unrated.${more}`;
  const reasons = Object.entries(result.unratedByReason)
    .filter(([, count]) => count)
    .map(([reason, count]) => `${UNRATED_REASON_TEXT[reason] ?? reason} ${count}`)
    .join(', ');
  return `${rated}; ${result.unrated} still unrated (${reasons}).${more}`;
}

/** One call's money as one viewer reads it (`callMoney`). */
export interface TCallMoney {
  /** What the calling customer paid (the level it pays). */
  price: TUsageLevelDto | null;
  /** What was paid to the viewer for the call (the level whose counterparty it is). */
  revenue: TUsageLevelDto | null;
  /** What the viewer paid for it: its buy price, or a carrier's provider cost. */
  cost: TUsageLevelDto | null;
  /** Revenue less cost, exact; null when either is missing or they are in two currencies. */
  margin: string | null;
}

/**
 * A call's levels read from one account's seat, for the calls list and its export: a
 * reseller's revenue is what the account below it paid it (its customer's price only
 * when the customer is its own), its cost what it paid its parent. The customer's own
 * people see only their price: the call is theirs, nothing was paid to them.
 */
export function callMoney(
  call: Pick<TUsageRecordDto, 'accountId' | 'levels'>,
  viewerAccountId: string,
): TCallMoney {
  const price = call.levels.find((level) => level.payerId === call.accountId) ?? null;
  const own = call.accountId === viewerAccountId;
  const revenue = own
    ? null
    : (call.levels.find((level) => level.counterpartyId === viewerAccountId) ?? null);
  const cost = own
    ? null
    : (call.levels.find((level) => level.payerId === viewerAccountId) ?? null);
  const margin =
    revenue && cost && revenue.currency === cost.currency
      ? new Money(revenue.amount)
          .minus(cost.amount)
          .toFixed(Math.max(scaleOf(revenue.amount), scaleOf(cost.amount)))
      : null;
  return { price, revenue, cost, margin };
}

function scaleOf(amount: string): number {
  return amount.split('.')[1]?.length ?? 0;
}
