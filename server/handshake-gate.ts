/**
 * Load shedding for the socket handshake (issue 14). Every handshake goes through the
 * door, a database read; when thousands of sockets come back at once (a restart, a
 * network blip) they would all pile onto the event loop and the pool, and past
 * Socket.IO's connect timeout (45 s) the server would drop them: clients fail. The gate
 * lets at most `limit` handshakes be checked at once, keeps the next `queue` waiting in
 * arrival order, and refuses the rest at once, before any database work, with the
 * `unavailable` refusal and a retry hint: those clients back off with jitter and come
 * back (lib/client/live-feed.ts).
 *
 * Why a queue and not only refusals: a refused handshake has already cost its WebSocket
 * upgrade, Engine.IO's open and Socket.IO's connect, and costs them again on every retry,
 * while its backoff leaves the server idle. Measured in the bench's storm (5,000 sockets
 * back at once, 500 checked at once): refusing the excess took 19–30 s to converge with
 * 3,200–8,000 refusals, the server's thread busy about half of it; with no refusals, 13 s.
 * A waiting handshake holds its connection and nothing else.
 */
export interface THandshakeGate {
  /**
   * Waits for a place for one handshake, in arrival order: `done`, wrapped to give the
   * place back when the handshake ends (called once), or null when the queue is full,
   * the wait passed `maxWaitMs` or `gone` fired while it waited (refuse it then). `gone`:
   * the connection closed, so its place in the queue goes to the next one at once.
   */
  enter<A extends unknown[]>(
    done: (...args: A) => void,
    gone?: AbortSignal,
  ): Promise<((...args: A) => void) | null>;
  /** Handshakes being checked now. */
  readonly inFlight: number;
  /** Handshakes waiting for a place. */
  readonly waiting: number;
  /**
   * How long a refused client should wait: about as long as a handshake takes now, door
   * and queue (a moving average), by when the ones ahead of it have mostly been answered.
   */
  retryAfterMs(): number;
}

export interface THandshakeGateOptions {
  /** Checked at once. */
  limit: number;
  /** Waiting beyond those; more are refused at once. */
  queue: number;
  /**
   * Longest wait for a place before the handshake is refused after all: well inside
   * Socket.IO's 45 s connect timeout, so a client hears why rather than being dropped.
   */
  maxWaitMs?: number;
  now?: () => number;
}

/** The hint's bounds: not a busy loop, not a long outage. */
const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
/** Weight of the latest handshake in the moving average. */
const SMOOTHING = 0.05;
const DEFAULT_MAX_WAIT_MS = 15_000;

export function createHandshakeGate(options: THandshakeGateOptions): THandshakeGate {
  const { limit, queue, maxWaitMs = DEFAULT_MAX_WAIT_MS, now = () => performance.now() } = options;
  let inFlight = 0;
  let averageMs = MIN_RETRY_MS;
  /**
   * Waiting handshakes, first come first served (a Set keeps insertion order); each
   * starts its own when let in. A Set, not an array: in a storm thousands wait, and a
   * connection that closes leaves from the middle — an array's search and splice made
   * a mass give-up quadratic.
   */
  const waiting = new Set<{ start: () => void; refuse: () => void }>();

  /** A place for one handshake that arrived at `arrived`: `done`, wrapped to free it. */
  const admit = <A extends unknown[]>(done: (...args: A) => void, arrived: number) => {
    inFlight++;
    let left = false;
    return (...args: A) => {
      if (!left) {
        left = true;
        inFlight--;
        averageMs += (now() - arrived - averageMs) * SMOOTHING;
        const next = waiting.values().next();
        if (!next.done) {
          waiting.delete(next.value);
          next.value.start();
        }
      }
      done(...args);
    };
  };

  return {
    get inFlight() {
      return inFlight;
    },
    get waiting() {
      return waiting.size;
    },
    enter(done, gone) {
      const arrived = now();
      if (inFlight < limit && waiting.size === 0) return Promise.resolve(admit(done, arrived));
      if (waiting.size >= queue || gone?.aborted) return Promise.resolve(null);
      return new Promise((resolve) => {
        const entry = {
          start: () => {
            clearTimeout(timer);
            gone?.removeEventListener('abort', entry.refuse);
            resolve(admit(done, arrived));
          },
          refuse: () => {
            clearTimeout(timer);
            gone?.removeEventListener('abort', entry.refuse);
            waiting.delete(entry);
            resolve(null);
          },
        };
        const timer = setTimeout(entry.refuse, maxWaitMs);
        gone?.addEventListener('abort', entry.refuse, { once: true });
        waiting.add(entry);
      });
    },
    retryAfterMs() {
      return Math.round(Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, averageMs)));
    },
  };
}

/** The hint when the door itself failed (the database away): not the queue's, a fixed one. */
export const HANDSHAKE_RETRY_AFTER_MS = 1_000;
