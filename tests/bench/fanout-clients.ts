import { io, type Socket } from 'socket.io-client';
import { handshakeRetryDelayMs } from '@/lib/client/live-feed';
import type { TEventsAck } from '@/lib/shared/live/events';

/**
 * The socket side of the fan-out bench, in its own process (forked with an IPC channel,
 * so the server under test and the measuring clients do not share an event loop). It
 * holds every bench socket, measures commit→receipt latency from each envelope's `at`,
 * checks each delivery against the socket's scope (a leak is any envelope the scope
 * may not see), and answers the orchestrator's commands (tests/bench/fanout-bench.ts).
 */
export interface TClientGroup {
  /** Bearer token for the handshake (`auth: { token }`); none for the bare baseline. */
  token?: string;
  /** A reseller account id, or null for a carrier admin (sees everything). */
  scope: string | null;
  /**
   * A reseller scope's customers: the accounts below it whose notices (a customer's
   * credit ran out) reach the reseller's people.
   */
  customers?: string[];
  count: number;
  /** Sockets watched together (a revocation victim). */
  tag?: string;
}

export type TCommand =
  | { type: 'connect'; url: string; groups: TClientGroup[]; concurrency: number }
  /** Once deliveries have stopped arriving: latencies and deliveries from zero. */
  | { type: 'reset' }
  | { type: 'stats' }
  | { type: 'watch-disconnect'; tag: string }
  /**
   * Every socket's transport drops; all come back at once and catch up: by `events:since`
   * (the panel) or by Socket.IO's connection state recovery (the bare baseline).
   */
  | { type: 'storm'; catchUp: 'events' | 'recovery' }
  | { type: 'storm-up' }
  /** Start (or stop) recording each balance event's receipt, from empty. */
  | { type: 'track-balances'; on: boolean }
  /**
   * The lag of each balance move (tests/bench/balance-lag-bench.ts): per move of an
   * account, for each socket that sees the account, from the move's commit until the
   * socket holds that balance or a later one.
   */
  | { type: 'balance-lag'; moves: TBalanceMove[]; parents: Record<string, string> }
  | { type: 'close' };

/** One balance move: the account, and its entry's time (the last step before its commit). */
export interface TBalanceMove {
  accountId: string;
  committedAt: number;
}

export interface TBalanceLag {
  /** Move × socket pairs measured, and those never covered by an event. */
  measured: number;
  missing: number;
  p50: number;
  p99: number;
  max: number;
  /** Balance events received, and the most one socket got for one account in a second. */
  events: number;
  maxPerSecond: number;
}

export interface TStats {
  deliveries: number;
  checked: number;
  leaks: number;
  p50: number;
  p95: number;
  p99: number;
  sockets: number;
  leakSample?: string;
  /** One envelope as received, for the baseline to send the same. */
  sample?: TEnvelope;
}

interface TClient {
  socket: Socket;
  group: TClientGroup;
  lastSeq: number;
  /** Balance events received while tracking: per account, [entry time, receipt time]. */
  balances?: Map<string, [number, number][]>;
}

let trackBalances = false;

const clients: TClient[] = [];
let latencies: number[] = [];
let deliveries = 0;
let checked = 0;
let leaks = 0;
let leakSample: string | undefined;
let sample: TEnvelope | undefined;

interface TEnvelope {
  seq: number;
  type: string;
  id: string;
  at: string;
  data?: { parentId?: string; accountId?: string } | null;
  actor?: unknown;
  summary?: { reason?: string } | null;
}

/**
 * What a reseller scope may receive in this bench: its customers, its own users, the
 * signal that its own account changed (its balance moved: calls it pays for), and notices
 * about its own account or one of its customers (an edit that sets a customer's credit
 * limit to 0 blocks it, and its parent's people are told).
 */
function allowed(group: TClientGroup, envelope: TEnvelope): boolean {
  const scope = group.scope;
  if (scope === null) return true;
  if (envelope.type.startsWith('notifications.')) {
    const subject = (envelope.data as { data?: { accountId?: string } } | null)?.data?.accountId;
    return subject === scope || (subject !== undefined && !!group.customers?.includes(subject));
  }
  if (envelope.type.startsWith('customers.')) return envelope.data?.parentId === scope;
  if (envelope.type.startsWith('users.')) return envelope.data?.accountId === scope;
  if (envelope.type === 'resellers.refetch') {
    return envelope.id === scope && envelope.summary?.reason === 'own_account';
  }
  // A change in its audit nothing else told it of: its own account, nothing of the change.
  if (envelope.type === 'audit.refetch') {
    return envelope.id === scope && JSON.stringify(envelope.data) === JSON.stringify({ id: scope });
  }
  return false;
}

function onChange(client: TClient, envelope: TEnvelope) {
  const received = Date.now();
  latencies.push(received - Date.parse(envelope.at));
  sample ??= envelope;
  deliveries++;
  check(client, envelope);
  if (
    trackBalances &&
    envelope.type.endsWith('.updated') &&
    envelope.summary?.reason === 'ledger'
  ) {
    client.balances ??= new Map();
    const seen = client.balances.get(envelope.id) ?? [];
    seen.push([Date.parse(envelope.at), received]);
    client.balances.set(envelope.id, seen);
  }
}

/**
 * Per move and socket that sees its account (admins every account; a reseller's sockets
 * its customers): the first event of that move or a later one (an entry no older,
 * carrying a balance at least as new) received, minus the move's commit. A move no event
 * covers is missing.
 */
function balanceLag(moves: TBalanceMove[], parents: Record<string, string>): TBalanceLag {
  const lags: number[] = [];
  let missing = 0;
  let events = 0;
  let maxPerSecond = 0;
  for (const client of clients) {
    for (const seen of client.balances?.values() ?? []) {
      events += seen.length;
      for (let i = 0, j = 0; i < seen.length; i++) {
        while (seen[i]![1] - seen[j]![1] >= 1000) j++;
        maxPerSecond = Math.max(maxPerSecond, i - j + 1);
      }
    }
  }
  for (const move of moves) {
    for (const client of clients) {
      const scope = client.group.scope;
      if (scope !== null && parents[move.accountId] !== scope) continue;
      const covering = client.balances?.get(move.accountId)?.find(([at]) => at >= move.committedAt);
      if (!covering) missing++;
      else lags.push(Math.max(0, covering[1] - move.committedAt));
    }
  }
  const sorted = Array.from(Float64Array.from(lags).sort());
  return {
    measured: lags.length,
    missing,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
    events,
    maxPerSecond,
  };
}

/** Every envelope a socket gets, live or by catch-up, is checked against its scope. */
function check(client: TClient, envelope: TEnvelope) {
  checked++;
  if (envelope.seq) client.lastSeq = Math.max(client.lastSeq, envelope.seq);
  if (!allowed(client.group, envelope)) {
    leaks++;
    leakSample ??= `${client.group.scope}: ${JSON.stringify(envelope).slice(0, 300)}`;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One socket to its `hello`, retried as the live feed does when the server sheds load. */
async function connectOne(url: string, group: TClientGroup): Promise<TClient> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    autoConnect: false,
    auth: group.token ? { token: group.token } : undefined,
    query: group.token ? undefined : { scope: group.scope ?? 'admin' },
  });
  const client: TClient = { socket, group, lastSeq: 0 };
  socket.on('change', (envelope: TEnvelope) => onChange(client, envelope));
  const hello = await reconnect(socket);
  if (!hello) {
    socket.disconnect();
    throw new Error(`no hello after retries (${lastRefusal ?? 'no answer'})`);
  }
  client.lastSeq = Math.max(client.lastSeq, hello.seq ?? 0);
  return client;
}

async function connectAll(url: string, groups: TClientGroup[], concurrency: number) {
  const queue = groups.flatMap((group) => Array.from({ length: group.count }, () => group));
  const started = Date.now();
  let failed = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        try {
          clients.push(await connectOne(url, group));
        } catch (error) {
          failed++;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  return { ms: Date.now() - started, connected: clients.length, failed, firstError };
}

function watchDisconnect(tag: string): Promise<number[]> {
  const watched = clients.filter((client) => client.group.tag === tag);
  return Promise.all(
    watched.map(
      (client) =>
        new Promise<number>((resolve) => {
          if (!client.socket.connected) return resolve(Date.now());
          client.socket.once('disconnect', () => resolve(Date.now()));
        }),
    ),
  );
}

/**
 * Every socket's connection drops (its transport closes, as in a network blip or a
 * restart; the server sees `transport close`) and all come back at once. Each catches up
 * as its server offers: the panel's like its live feed, asking `events:since` on its
 * socket when `hello` says the log moved on; the bare server's by Socket.IO's recovery,
 * which replays the missed packets before `hello` (a socket it does not recover lost
 * them: failed). Converged: every socket is back and caught up.
 */
async function storm(catchUp: 'events' | 'recovery') {
  const live = clients.filter((client) => client.socket.connected && !client.group.tag);
  for (const client of live) client.socket.io.engine.close();
  // The orchestrator writes while everyone is away; it tells us when to come back.
  process.send!({ type: 'storm-down' });
  await new Promise<void>((resolve) =>
    process.once('message', (message: { type: string }) => {
      if (message.type === 'storm-up') resolve();
    }),
  );
  const started = Date.now();
  const refusedBefore = refusals;
  let caughtUp = 0;
  let failed = 0;
  await Promise.all(
    live.map(async (client) => {
      const hello = await reconnect(client.socket);
      if (!hello) return void failed++;
      if (catchUp === 'recovery') {
        if (!client.socket.recovered) return void failed++;
        caughtUp++;
      } else if (hello.seq > client.lastSeq) {
        let since = client.lastSeq;
        while (since < hello.seq) {
          const page = await catchUpPage(client.socket, since);
          if (!page) return void failed++;
          for (const envelope of page.items) check(client, envelope);
          if (page.seq <= since) break;
          since = page.seq;
        }
        caughtUp++;
      }
      client.lastSeq = Math.max(client.lastSeq, hello.seq);
    }),
  );
  return {
    convergeMs: Date.now() - started,
    sockets: live.length,
    caughtUp,
    failed,
    refused: refusals - refusedBefore,
  };
}

/**
 * A socket back to its `hello`, as the panel's live feed comes back: a refused or failed
 * handshake is tried again after the live feed's own delay (`handshakeRetryDelayMs`: the
 * server's `retryAfterMs` hint when it sheds load, doubling to 10 s, ±50 %), up to 30
 * attempts; null only when every one failed.
 */
let lastRefusal: string | undefined;
/** Handshakes refused or failed so far (a storm reports its own). */
let refusals = 0;
async function reconnect(socket: Socket): Promise<{ seq: number } | null> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const answer = await new Promise<{ hello: { seq: number } } | { hintMs?: number }>(
      (resolve) => {
        const onHello = (message: { seq: number }) => {
          socket.off('connect_error', onError);
          resolve({ hello: message });
        };
        const onError = (error: Error & { data?: { retryAfterMs?: number } }) => {
          socket.off('hello', onHello);
          lastRefusal = error.message;
          refusals++;
          resolve({ hintMs: error.data?.retryAfterMs });
        };
        socket.once('hello', onHello);
        socket.once('connect_error', onError);
        socket.connect();
      },
    );
    if ('hello' in answer) return answer.hello;
    await new Promise((resolve) =>
      setTimeout(resolve, handshakeRetryDelayMs(attempt, answer.hintMs)),
    );
  }
  return null;
}

/**
 * One catch-up page, as the panel's live feed asks for it: a failed attempt (the server
 * unavailable or too slow under the storm) is retried with jittered backoff, a few times.
 * At most 256 in flight from this process, as a browser population's requests do not
 * all leave in the same millisecond.
 */
let inFlight = 0;
const queue: (() => void)[] = [];
async function catchUpPage(socket: Socket, since: number) {
  if (inFlight >= 256) await new Promise<void>((resolve) => queue.push(resolve));
  inFlight++;
  try {
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        const answer = (await socket
          .timeout(30_000)
          .emitWithAck('events:since', { since, limit: 1000 })) as TEventsAck;
        if (answer.ok) return answer.page as { items: TEnvelope[]; seq: number };
        if (answer.error.code !== 'unavailable') return null;
      } catch {
        // Timed out: back off and try again.
      }
      await new Promise((resolve) => setTimeout(resolve, (200 << attempt) * (0.5 + Math.random())));
    }
    return null;
  } finally {
    inFlight--;
    queue.shift()?.();
  }
}

/** Until no delivery arrived for 300 ms (at most a minute). */
async function quiet() {
  for (let waited = 0; waited < 60_000; waited += 300) {
    const before = deliveries;
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (deliveries === before) return;
  }
}

process.on('message', async (command: TCommand) => {
  switch (command.type) {
    case 'connect':
      process.send!({
        type: 'connected',
        ...(await connectAll(command.url, command.groups, command.concurrency)),
      });
      break;
    case 'reset':
      // A load that fell behind is still arriving: the next starts once it has.
      await quiet();
      latencies = [];
      deliveries = 0;
      process.send!({ type: 'reset-done' });
      break;
    case 'stats': {
      const sorted = Float64Array.from(latencies).sort();
      const values = Array.from(sorted);
      process.send!({
        type: 'stats',
        deliveries,
        checked,
        leaks,
        leakSample,
        sample,
        p50: percentile(values, 50),
        p95: percentile(values, 95),
        p99: percentile(values, 99),
        sockets: clients.filter((client) => client.socket.connected).length,
      } satisfies TStats & { type: string });
      break;
    }
    case 'watch-disconnect':
      process.send!({ type: 'watching' });
      process.send!({ type: 'disconnected', times: await watchDisconnect(command.tag) });
      break;
    case 'storm':
      process.send!({ type: 'storm-done', ...(await storm(command.catchUp)) });
      break;
    case 'track-balances':
      trackBalances = command.on;
      for (const client of clients) client.balances = undefined;
      process.send!({ type: 'tracking' });
      break;
    case 'balance-lag':
      process.send!({ type: 'balance-lag', ...balanceLag(command.moves, command.parents) });
      break;
    case 'close':
      for (const client of clients) client.socket.disconnect();
      process.exit(0);
  }
});
process.send!({ type: 'ready' });
