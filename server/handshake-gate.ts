/**
 * Load shedding for the socket handshake (issue 14). Every handshake goes through the
 * door, a database read; when thousands of sockets come back at once (a restart, a
 * network blip) they queue on the event loop and the pool, and past Socket.IO's connect
 * timeout (45 s) the server drops them: clients fail. The gate lets at most `limit`
 * handshakes be checked at once and refuses the rest at once, before any database work,
 * with the `unavailable` refusal and a retry hint: the clients back off with jitter and
 * come back (lib/client/live-feed.ts), so the storm spreads out instead of piling up.
 */
export interface THandshakeGate {
  /**
   * Takes a place for one handshake: `done`, wrapped to give the place back when the
   * handshake ends (called once), or null when every place is taken.
   */
  enter<A extends unknown[]>(done: (...args: A) => void): ((...args: A) => void) | null;
  /** Handshakes being checked now. */
  readonly inFlight: number;
  /**
   * How long a refused client should wait: about as long as a handshake takes now (a
   * moving average), by when the ones ahead of it have mostly been answered.
   */
  retryAfterMs(): number;
}

/** The hint's bounds: not a busy loop, not a long outage. */
const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
/** Weight of the latest handshake in the moving average. */
const SMOOTHING = 0.05;

export function createHandshakeGate(limit: number, now = () => performance.now()): THandshakeGate {
  let inFlight = 0;
  let averageMs = MIN_RETRY_MS;
  return {
    get inFlight() {
      return inFlight;
    },
    enter(done) {
      if (inFlight >= limit) return null;
      inFlight++;
      const started = now();
      let left = false;
      return (...args) => {
        if (!left) {
          left = true;
          inFlight--;
          averageMs += (now() - started - averageMs) * SMOOTHING;
        }
        done(...args);
      };
    },
    retryAfterMs() {
      return Math.round(Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, averageMs)));
    },
  };
}

/** The hint when the door itself failed (the database away): not the queue's, a fixed one. */
export const HANDSHAKE_RETRY_AFTER_MS = 1_000;
