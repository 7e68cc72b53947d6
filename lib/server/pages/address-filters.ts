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
 * A key for a list panel that keeps its filters in the address: new each time the page
 * renders on the server, so every navigation to the page — the nav's link to the bare
 * address, a record's link to a filtered one, even the same address again — mounts the
 * panel afresh from what the address asks. Keyed by the filters alone, a navigation to
 * an address asking the same as the first render kept the state changed since (Next
 * keeps a page's state when only its search changes), and the panel then wrote that
 * state back over the address it was opened at.
 */
export function renderKey(): string {
  return randomUUID();
}
