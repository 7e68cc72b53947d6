import { invalidInput } from '@/lib/server/errors/domain-error';

/** A calendar month in UTC: from its first instant to the next month's (exclusive). */
export interface TPeriod {
  period: string;
  start: Date;
  end: Date;
}

/**
 * `YYYY-MM` (already shaped by `ZPeriod`) as the month's bounds. A month that has not
 * begun is refused, naming `period`; the current month may be issued (it covers the
 * ledger up to the issue, which its `periodEnd` says, and issuing again later numbers a
 * new statement).
 */
export function monthOf(period: string, now: Date): TPeriod {
  const [year, month] = period.split('-').map(Number) as [number, number];
  const start = new Date(Date.UTC(year, month - 1, 1));
  const end = new Date(Date.UTC(year, month, 1));
  if (year < 2000) throw invalidInput({ period: 'must be a month from 2000 on' });
  if (start.getTime() > now.getTime()) {
    throw invalidInput({ period: 'must not be a month that has not begun' });
  }
  return { period, start, end };
}

/** The `YYYY-MM` of a period's start. */
export function periodName(start: Date): string {
  return start.toISOString().slice(0, 7);
}
