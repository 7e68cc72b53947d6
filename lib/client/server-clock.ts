/**
 * The server's clock as the browser can tell it. Whether a rate row is already in force,
 * how long a view-as has left, "2 min ago" and the traffic's last hour are judged against
 * the server's time, which stamps and decides them all; a desk computer whose clock is
 * off by minutes (or a time zone set without moving the clock) would otherwise show a
 * row in force that is not, or a view-as ending early. Every API answer's `Date` header
 * (to the second) tells the server's time; within a few seconds the browser's own clock
 * is as good, and the server has the last word on anything that matters.
 */
let offsetMs = 0;

/** Offsets this small are left alone: the header is to the second, and the trip adds more. */
const TOLERATED_MS = 5_000;

/** Notes an answer's `Date` header, sent for a request made at `sentAt`, read at `receivedAt`. */
export function noteServerDate(header: string | null, sentAt: number, receivedAt: number): void {
  const stamped = header ? Date.parse(header) : NaN;
  if (!Number.isFinite(stamped)) return;
  // Stamped somewhere inside the trip, truncated to its second: half a second later, on
  // average, at the trip's middle.
  const estimate = stamped + 500 - (sentAt + receivedAt) / 2;
  offsetMs = Math.abs(estimate) > TOLERATED_MS ? estimate : 0;
}

/** Now by the server's clock, as far as the last answer told it (milliseconds). */
export function serverNow(): number {
  return Date.now() + offsetMs;
}
