/**
 * Load shedding for the socket handshake (issue 14). Every handshake goes through the
 * door, a database read; when thousands of sockets come back at once (a restart, a
 * network blip) the reads queue on the pool until clients time out and fail. The gate
 * lets at most `limit` handshakes be checked at once and refuses the rest at once, before
 * any database work, with the `unavailable` refusal and a retry hint: the clients back
 * off with jitter and come back (lib/client/live-feed.ts), so the storm spreads out
 * instead of piling up.
 */
export interface THandshakeGate {
  /**
   * Takes a place for one handshake: `done`, wrapped to give the place back when the
   * handshake ends (called once), or null when every place is taken.
   */
  enter<A extends unknown[]>(done: (...args: A) => void): ((...args: A) => void) | null;
  /** Handshakes being checked now. */
  readonly inFlight: number;
}

/** How long a refused client is told to wait; it adds its own jitter and backoff. */
export const HANDSHAKE_RETRY_AFTER_MS = 1_000;

export function createHandshakeGate(limit: number): THandshakeGate {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    enter(done) {
      if (inFlight >= limit) return null;
      inFlight++;
      let left = false;
      return (...args) => {
        if (!left) {
          left = true;
          inFlight--;
        }
        done(...args);
      };
    },
  };
}
