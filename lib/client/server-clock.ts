/**
 * The server's clock as the browser can tell it. Whether a rate row is already in force,
 * how long a view-as has left, "2 min ago", the traffic's last hour and this month's
 * statement are judged against the server's time, which stamps and decides them all; a
 * desk computer whose clock is off by minutes (or a time zone set without moving the
 * clock) would otherwise show a row in force that is not, or a view-as ending early.
 * Every API answer's `Date` header (to the second) tells the server's time; within a few
 * seconds the browser's own clock is as good, and the server has the last word on
 * anything that matters.
 */
let offsetMs = 0;
const listeners = new Set<() => void>();

/** Offsets this small are left alone: the header is to the second, and the trip adds more. */
const TOLERATED_MS = 5_000;
/**
 * An answer that took longer says little: its header was stamped when the server
 * finished, anywhere in the trip (a long re-rate, a slow network).
 */
const MAX_TRIP_MS = 2_000;
/** A reading this close to the one held is the same clock: kept, so nothing shown jumps. */
const STEADY_MS = 1_000;

/** Notes an answer's `Date` header, sent for a request made at `sentAt`, read at `receivedAt`. */
export function noteServerDate(header: string | null, sentAt: number, receivedAt: number): void {
  const stamped = header ? Date.parse(header) : NaN;
  if (!Number.isFinite(stamped) || receivedAt - sentAt > MAX_TRIP_MS) return;
  // Stamped somewhere inside the trip, truncated to its second: half a second later, on
  // average, at the trip's middle.
  const estimate = stamped + 500 - (sentAt + receivedAt) / 2;
  if (Math.abs(estimate - offsetMs) <= STEADY_MS) return;
  const next = Math.abs(estimate) > TOLERATED_MS ? estimate : 0;
  if (next === offsetMs) return;
  offsetMs = next;
  for (const listener of listeners) listener();
}

/** Now by the server's clock, as far as the answers so far told it (milliseconds). */
export function serverNow(): number {
  return Date.now() + offsetMs;
}

/** Calls `listener` when the reading of the server's clock moves; answers the unsubscribe. */
export function onServerClock(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
