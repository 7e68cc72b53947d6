/**
 * Money and time as a person reads them. The API and CSV keep exact decimal strings;
 * only the UI formats, and it formats from the string: `Intl.NumberFormat` takes a
 * decimal string as an exact value (a float would turn 12345678901234567.891 into
 * 12345678901234568), so no digit the data carries is rounded away.
 */

import { Money, money } from '@/lib/shared/pricing/money';

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;
/** Intl (V8) takes at most 20 fraction digits; the API's money has at most 6. */
const MAX_FRACTION_DIGITS = 20;

export interface TMoneyOptions {
  /** ISO 4217 code (the card's); without one the amount is shown without a symbol. */
  currency?: string | null;
  /** The viewer's locale (navigator.language); undefined lets Intl choose. */
  locale?: string;
  /**
   * At least this many decimals (a card's precision: a 4-decimal card shows 0.0120).
   * Defaults to the currency's own minor unit, 2 without a currency.
   */
  minDecimals?: number;
  /**
   * Show every decimal the string has, trailing zeros included: a rate or an amount the
   * server wrote at the card's precision ("0.0600" stays 0.0600).
   */
  keepDecimals?: boolean;
}

/**
 * An account's effective status with its credit block (issue 17), as lists and records
 * show it: "active", "suspended", "active · blocked for credit (above)".
 */
export function statusText(account: {
  status: string;
  creditBlock?: 'own' | 'above' | null;
}): string {
  if (!account.creditBlock) return account.status;
  const why = account.creditBlock === 'own' ? 'no credit left' : 'an account above has none';
  return `${account.status} · blocked for credit (${why})`;
}

/**
 * `"500.000000"` in EUR → `€500.00`; `"0.012345"` keeps all six decimals; a value that
 * is not a decimal string is returned as it came (never a made-up number).
 */
export function formatMoney(amount: string, options: TMoneyOptions = {}): string {
  const match = DECIMAL.exec(amount.trim());
  if (!match) return amount;
  const significant = (match[3] ?? '').replace(/0+$/, '').length;
  const currency = validCurrency(options.currency);
  const minor = currency ? currencyDigits(currency) : 2;
  const given = options.keepDecimals ? (match[3] ?? '').length : 0;
  const minimum = Math.min(Math.max(options.minDecimals ?? minor, given), MAX_FRACTION_DIGITS);
  const digits = Math.min(Math.max(minimum, significant), MAX_FRACTION_DIGITS);
  const format = new Intl.NumberFormat(options.locale, {
    ...(currency ? { style: 'currency', currency } : {}),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Exact: the string itself, never parseFloat (Intl.NumberFormat v3 reads decimal strings).
  return format.format(amount.trim() as Intl.StringNumericLiteral);
}

/** A percentage given as a decimal string ("7.5" → "7.5%"), its decimals kept. */
export function formatPercent(value: string, locale?: string): string {
  const match = DECIMAL.exec(value.trim());
  if (!match) return value;
  const digits = Math.min((match[3] ?? '').replace(/0+$/, '').length, MAX_FRACTION_DIGITS);
  const number = new Intl.NumberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value.trim() as Intl.StringNumericLiteral);
  return `${number}%`;
}

/**
 * How much a price moves, signed, to one decimal: "+12.5%", "−3.2%", "0%". `to` is set
 * against `from` converted at `rate` (units of `to`'s currency per unit of `from`'s;
 * 1 when the currency is kept), exactly. Null when `from` is nothing (no percentage of
 * zero).
 */
export function formatPriceChange(
  from: string,
  to: string,
  rate = '1',
  locale?: string,
): string | null {
  const base = money(from).times(rate);
  if (base.isZero()) return null;
  const change = money(to).div(base).minus(1).times(100).toDecimalPlaces(1, Money.ROUND_HALF_UP);
  if (change.isZero()) return '0%';
  return `${change.isNegative() ? '−' : '+'}${formatPercent(change.abs().toFixed(1), locale)}`;
}

/**
 * A decimal string as a person types it, for a form field opened on an amount the API
 * writes at six decimals: the fraction's trailing zeros dropped ("500.000000" → "500",
 * "-12.500000" → "-12.5"), exact (no float); anything else as it came.
 */
export function plainDecimal(value: string): string {
  const match = DECIMAL.exec(value.trim());
  if (!match) return value;
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const whole = match[2]!.replace(/^0+(?=\d)/, '');
  const sign = match[1] && (whole !== '0' || fraction) ? '-' : '';
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/**
 * The decimals a column of amounts in `currency` needs so each shows the same count, every
 * digit kept: the most any of them carries past its trailing zeros ("-2.671000",
 * "-7.179400" → 4), and never fewer than the currency's own (€5.00, not €5). Pass it as
 * `minDecimals` to each of the column's amounts.
 */
export function columnDecimals(amounts: readonly string[], currency?: string | null): number {
  const code = validCurrency(currency);
  let most = code ? currencyDigits(code) : 2;
  for (const amount of amounts) {
    const fraction = DECIMAL.exec(amount.trim())?.[3] ?? '';
    most = Math.max(most, fraction.replace(/0+$/, '').length);
  }
  return most;
}

/**
 * A money column's precision per currency (`columnDecimals` of each currency's amounts):
 * a column holding several keeps each one's own minor unit — ¥1,200 beside €4.2686, not
 * ¥1,200.0000.
 */
export function decimalsByCurrency(
  cells: readonly { amount: string | null | undefined; currency: string | null | undefined }[],
): (currency: string | null | undefined) => number {
  const amounts = new Map<string, string[]>();
  for (const { amount, currency } of cells) {
    if (!amount) continue;
    const key = currency ?? '';
    const list = amounts.get(key);
    if (list) list.push(amount);
    else amounts.set(key, [amount]);
  }
  const decimals = new Map(
    [...amounts].map(([currency, list]) => [currency, columnDecimals(list, currency || null)]),
  );
  return (currency) => decimals.get(currency ?? '') ?? columnDecimals([], currency ?? null);
}

function validCurrency(code: string | null | undefined): string | null {
  if (!code || !/^[A-Za-z]{3}$/.test(code)) return null;
  try {
    new Intl.NumberFormat('en', { style: 'currency', currency: code });
    return code.toUpperCase();
  } catch {
    return null;
  }
}

function currencyDigits(currency: string): number {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

/**
 * A call's length as people say it: "45 s", "2 min 5 s", "23 h 59 min 49 s". A margin
 * check's worst loss may fall on a call of nearly a day (86,389 s), which nobody reads
 * as a length; exact to the second all the same, since the loss is priced at it.
 */
export function formatCallLength(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return [hours ? `${hours} h` : '', minutes ? `${minutes} min` : '', rest ? `${rest} s` : '']
    .filter(Boolean)
    .join(' ');
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "3 min ago", "in 2 hours", "just now" (under 45 s) for an ISO time against `now`. */
export function formatRelativeTime(iso: string, now: number, locale?: string): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((at - now) / 1000);
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
  if (Math.abs(seconds) < 45) return format.format(0, 'second');
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'minute') {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return iso;
}

/**
 * A date and time as a person reads it, in a locale and a time zone: the whole moment,
 * its date alone, or its time alone. The zone is named when it is not the viewer's own
 * (`zoneName`: the server renders in UTC before the browser's zone is known).
 */
export function formatAbsoluteTime(
  iso: string,
  locale?: string,
  options: { timeZone?: string; zoneName?: boolean; show?: 'datetime' | 'date' | 'time' } = {},
): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const show = options.show ?? 'datetime';
  return new Intl.DateTimeFormat(locale, {
    ...(show === 'time' ? {} : { year: 'numeric', month: 'short', day: 'numeric' }),
    ...(show === 'date' ? {} : { hour: 'numeric', minute: '2-digit', second: '2-digit' }),
    ...(options.zoneName && show !== 'date' ? { timeZoneName: 'short' } : {}),
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  }).format(at);
}

/**
 * The first language of an `Accept-Language` header that Intl knows, canonical ("en-gb"
 * → "en-GB"); "en" without one. The server formats its HTML in it.
 */
export function localeOfRequest(header: string | null | undefined): string {
  const tags = (header ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q) };
    })
    .filter((entry) => entry.tag && entry.tag !== '*' && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of tags) {
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical && Intl.NumberFormat.supportedLocalesOf(canonical).length) return canonical;
    } catch {
      // Not a language tag: the next one.
    }
  }
  return 'en';
}
