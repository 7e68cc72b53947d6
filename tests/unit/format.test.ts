import { describe, expect, it } from 'vitest';
import {
  formatCallLength,
  formatPriceChange,
  formatAbsoluteTime,
  formatMoney,
  formatPercent,
  plainDecimal,
  columnDecimals,
  decimalsByCurrency,
  formatRelativeTime,
  localeOfRequest,
  statusText,
} from '@/lib/shared/format';

// Intl puts a narrow no-break space in some locales' output: compare on plain spaces.
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('formatMoney', () => {
  it("shows an amount in its currency's minor unit, trailing zeros beyond it dropped", () => {
    expect(formatMoney('500.000000', { currency: 'EUR', locale: 'en-US' })).toBe('€500.00');
    expect(formatMoney('500', { currency: 'USD', locale: 'en-US' })).toBe('$500.00');
    expect(formatMoney('1234.5', { currency: 'JPY', locale: 'en-US' })).toBe('¥1,234.5');
    expect(formatMoney('1200', { currency: 'JPY', locale: 'en-US' })).toBe('¥1,200');
  });

  it('keeps every significant decimal a rate has (never rounds it away)', () => {
    expect(formatMoney('0.012345', { currency: 'EUR', locale: 'en-US' })).toBe('€0.012345');
    expect(formatMoney('0.0120', { currency: 'EUR', locale: 'en-US', minDecimals: 4 })).toBe(
      '€0.0120',
    );
    expect(formatMoney('-3.50', { currency: 'GBP', locale: 'en-GB' })).toBe('-£3.50');
    expect(formatMoney('0.0600', { currency: 'EUR', locale: 'en-US', keepDecimals: true })).toBe(
      '€0.0600',
    );
    expect(formatMoney('0.0600', { currency: 'EUR', locale: 'en-US' })).toBe('€0.06');
  });

  it('formats from the string: digits beyond double precision survive', () => {
    // parseFloat would give 12345678901234568 (and lose the decimals).
    const exact = '12345678901234567.891234';
    expect(parseFloat(exact).toFixed(6)).not.toContain('567.891234');
    expect(formatMoney(exact, { currency: 'USD', locale: 'en-US' })).toBe(
      '$12,345,678,901,234,567.891234',
    );
    expect(formatMoney('0.10000000000000000555', { locale: 'en-US' })).toBe(
      '0.10000000000000000555',
    );
  });

  it("follows the viewer's locale", () => {
    expect(plain(formatMoney('1234.5', { currency: 'EUR', locale: 'de-DE' }))).toBe('1.234,50 €');
    expect(plain(formatMoney('1234.5', { currency: 'EUR', locale: 'fr-FR' }))).toBe('1 234,50 €');
    expect(formatMoney('1234.5', { currency: 'INR', locale: 'en-IN' })).toBe('₹1,234.50');
  });

  it('without a currency shows fixed decimals and no symbol', () => {
    expect(formatMoney('500.000000', { locale: 'en-US' })).toBe('500.00');
    expect(formatMoney('500.000000', { currency: null, locale: 'de-DE' })).toBe('500,00');
    expect(formatMoney('7', { currency: 'not-a-code', locale: 'en-US' })).toBe('7.00');
  });

  it('returns what is not a decimal string as it came', () => {
    expect(formatMoney('abc', { currency: 'EUR' })).toBe('abc');
    expect(formatMoney('1e5', { currency: 'EUR' })).toBe('1e5');
  });
});

describe('formatPercent', () => {
  it('keeps the decimals given', () => {
    expect(formatPercent('7.5', 'en-US')).toBe('7.5%');
    expect(formatPercent('20', 'en-US')).toBe('20%');
    expect(formatPercent('12.125000', 'de-DE')).toBe('12,125%');
  });
});

describe('plainDecimal', () => {
  it('drops the trailing zeros the API writes, exactly, and leaves anything else', () => {
    expect(plainDecimal('500.000000')).toBe('500');
    expect(plainDecimal('-12.500000')).toBe('-12.5');
    expect(plainDecimal('0.000100')).toBe('0.0001');
    expect(plainDecimal('-0.000000')).toBe('0');
    expect(plainDecimal('007.10')).toBe('7.1');
    // Past a float's precision, every digit kept.
    expect(plainDecimal('12345678901234567.891000')).toBe('12345678901234567.891');
    expect(plainDecimal('abc')).toBe('abc');
  });
});

describe('columnDecimals', () => {
  it('is the most decimals any amount of the column carries, never fewer than its currency', () => {
    const shown = (amounts: string[], currency: string) => {
      const digits = columnDecimals(amounts, currency);
      return amounts.map((amount) =>
        plain(formatMoney(amount, { currency, locale: 'en-US', minDecimals: digits })),
      );
    };
    expect(columnDecimals(['-2.671000', '-7.179400', '10.000000'], 'EUR')).toBe(4);
    expect(shown(['-2.671000', '-7.179400'], 'EUR')).toEqual(['-€2.6710', '-€7.1794']);
    // Whole amounts or one decimal: the currency's two, as every other amount shows.
    expect(shown(['5.000000', '12'], 'EUR')).toEqual(['€5.00', '€12.00']);
    expect(shown(['-2.100000', '3'], 'EUR')).toEqual(['-€2.10', '€3.00']);
    // A currency without minor units, and no currency (two, as formatMoney's default).
    expect(shown(['500.000000', '12.5'], 'JPY')).toEqual(['¥500.0', '¥12.5']);
    expect(columnDecimals([], 'JPY')).toBe(0);
    expect(columnDecimals(['1.000000'])).toBe(2);
  });
});

describe('decimalsByCurrency', () => {
  it('keeps each currency of a mixed column at its own precision', () => {
    const decimals = decimalsByCurrency([
      { amount: '1200.000000', currency: 'JPY' },
      { amount: '-350.000000', currency: 'JPY' },
      { amount: '4.268600', currency: 'EUR' },
      { amount: '0.490000', currency: 'EUR' },
      { amount: null, currency: 'USD' },
    ]);
    expect([decimals('JPY'), decimals('EUR'), decimals('USD'), decimals(null)]).toEqual([
      0, 4, 2, 2,
    ]);
    expect(
      formatMoney('1200.000000', {
        currency: 'JPY',
        locale: 'en-US',
        minDecimals: decimals('JPY'),
      }),
    ).toBe('¥1,200');
  });
});

describe('relative and absolute time', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  it('says how long ago, in the locale', () => {
    expect(formatRelativeTime('2026-12-02T11:59:40Z', now, 'en')).toBe('now');
    expect(formatRelativeTime('2026-12-02T11:57:00Z', now, 'en')).toBe('3 min. ago');
    expect(formatRelativeTime('2026-12-02T09:00:00Z', now, 'en')).toBe('3 hr. ago');
    expect(formatRelativeTime('2026-12-01T12:00:00Z', now, 'en')).toBe('yesterday');
    expect(formatRelativeTime('2026-12-02T12:05:00Z', now, 'en')).toBe('in 5 min.');
    expect(formatRelativeTime('2026-12-02T11:57:00Z', now, 'de')).toBe('vor 3 Min.');
  });
  it('gives a date, a time or both in a zone, naming it when asked', () => {
    const at = '2026-12-02T23:30:00Z';
    expect(formatAbsoluteTime(at, 'en-US', { timeZone: 'UTC', zoneName: true })).toBe(
      'Dec 2, 2026, 11:30:00 PM UTC',
    );
    // The same moment is the next day in Berlin, and its date alone says so.
    expect(formatAbsoluteTime(at, 'de-DE', { timeZone: 'Europe/Berlin', show: 'date' })).toBe(
      '3. Dez. 2026',
    );
    expect(formatAbsoluteTime(at, 'en-GB', { timeZone: 'UTC', show: 'time' })).toBe('23:30:00');
  });
  it('gives the absolute time for the tooltip, and passes bad input through', () => {
    expect(formatAbsoluteTime('2026-12-02T11:57:00Z', 'en-US')).toMatch(/Dec 2, 2026/);
    expect(formatRelativeTime('not a time', now)).toBe('not a time');
  });
});

describe("the request's language", () => {
  it('is the best-ranked tag Intl knows, canonical, or English', () => {
    expect(localeOfRequest('de-DE,de;q=0.9,en;q=0.8')).toBe('de-DE');
    expect(localeOfRequest('en-gb')).toBe('en-GB');
    expect(localeOfRequest('en;q=0.2, fr-CA;q=0.7')).toBe('fr-CA');
    // Not a tag, a wildcard, a refused language: skipped.
    expect(localeOfRequest('x!!, *, it;q=0, es;q=0.5')).toBe('es');
    expect(localeOfRequest(undefined)).toBe('en');
    expect(localeOfRequest('')).toBe('en');
  });
});

describe('statusText', () => {
  it('adds a credit block and its reason to the effective status', () => {
    expect(statusText({ status: 'active', creditBlock: null })).toBe('active');
    expect(statusText({ status: 'active', creditBlock: 'own' })).toBe(
      'active · blocked for credit (no credit left)',
    );
    expect(statusText({ status: 'suspended', creditBlock: 'above' })).toBe(
      'suspended · blocked for credit (an account above has none)',
    );
  });
});

describe('formatCallLength', () => {
  it('says a call length as people do, exact to the second', () => {
    expect(formatCallLength(0)).toBe('0 s');
    expect(formatCallLength(61)).toBe('61 s');
    expect(formatCallLength(119)).toBe('119 s');
    expect(formatCallLength(120)).toBe('2 min');
    expect(formatCallLength(125)).toBe('2 min 5 s');
    expect(formatCallLength(3600)).toBe('1 h');
    expect(formatCallLength(3605)).toBe('1 h 5 s');
    expect(formatCallLength(86_389)).toBe('23 h 59 min 49 s');
  });
});

describe('formatPriceChange', () => {
  it('says how much a price moves, exactly, against the old price converted', () => {
    expect(formatPriceChange('0.0200', '0.0225')).toBe('+12.5%');
    expect(formatPriceChange('0.0240', '0.0200')).toBe('−16.7%');
    expect(formatPriceChange('0.0200', '0.0200')).toBe('0%');
    // Half a tenth of a percent rounds away from zero.
    expect(formatPriceChange('1', '1.0005')).toBe('+0.1%');
    expect(formatPriceChange('1', '1.0004')).toBe('0%');
    // Another currency: €0.0200 at 1.10 $/€ is $0.0220, so $0.0242 is ten percent more.
    expect(formatPriceChange('0.0200', '0.0242', '1.10')).toBe('+10%');
    expect(formatPriceChange('0', '0.0100')).toBeNull();
  });
});
