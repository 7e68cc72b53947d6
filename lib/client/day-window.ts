/**
 * A day picked in a date field (`YYYY-MM-DD`) as the instants the API's `from` and `to`
 * take: the day in the viewer's own time zone, `to` exclusive, so "from the 1st to the
 * 3rd" holds all of the 3rd. Empty or unreadable: no bound.
 */
export function dayWindow(from: string, to: string): { from?: string; to?: string } {
  return { from: localMidnight(from, 0), to: localMidnight(to, 1) };
}

function localMidnight(day: string, daysLater: number): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const at = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + daysLater);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}
