import { randomUUID } from 'node:crypto';

/**
 * A list page's filters as its address gives them (`/calls?status=…`, `/audit?actor=…`):
 * each read leniently — a value the page does not know is ignored, not an error, as a
 * link from an older page or a hand-edited address may carry one.
 */
export function addressFilters(asked: Record<string, string | string[] | undefined>) {
  const one = (name: string): string => {
    const value = asked[name];
    return typeof value === 'string' ? value : '';
  };
  return {
    one,
    /** One of `known`, or ''. */
    pick: <T extends string>(name: string, known: readonly T[]): T | '' =>
      (known as readonly string[]).includes(one(name)) ? (one(name) as T) : '',
    /** A calendar day (`2026-02-28`; not `2026-02-31`, which a date field shows empty), or ''. */
    day: (name: string): string => (isCalendarDay(one(name)) ? one(name) : ''),
  };
}

export function isCalendarDay(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

/**
 * A token new each time the page renders on the server, for a list panel that keeps its
 * filters in the address: it tells a render apart from the last, so the panel starts its
 * filters again when a render asks for another address than they make (the nav's link to
 * the bare page) and keeps them on a render of its own address (lib/client/
 * address-state.ts `useAddressState`).
 */
export function renderKey(): string {
  return randomUUID();
}
