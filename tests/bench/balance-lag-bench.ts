import pg from 'pg';
import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { startBenchPanel } from './bench-panel';
import {
  forkChild,
  pool,
  seedResellers,
  socketGroups,
  benchApi,
  type TBenchReseller,
  type TChild,
} from './fanout-bench';
import type { TBalanceLag, TBalanceMove } from './fanout-clients';

/**
 * Balances at call rate (issue 18, `usage.balance_lag_p99_ms`): `sockets` sockets (4 %
 * carrier admins, the rest spread over the resellers, as in the fan-out bench) watch
 * while batches of calls (`POST /usage`: two calls of each of `accounts` customers,
 * rated through carrier → reseller → customer cards) are posted by `writers` at once for
 * `seconds`; each batch moves the balance of every customer and reseller in it, several
 * times a second. Measured per balance move and socket that sees the account: from the
 * move's commit (its log entry's time, read back through catch-up) until the socket has
 * received that balance or a later one — coalescing holds an account's balance events
 * up to a second, so this is the lag a person watching the panel sees. Every delivery is
 * checked against the socket's scope as in the fan-out bench (leaks).
 */
export interface TBalanceLagOptions {
  sockets: number;
  resellers: number;
  /** Customers whose calls are posted (one per reseller, the first ones). */
  accounts: number;
  /** Batches posted at once. */
  writers: number;
  seconds: number;
  log?: (line: string) => void;
}

export interface TBalanceLagFigures extends TBalanceLag {
  database: string;
  sockets: number;
  batches: number;
  batchesPerS: number;
  moves: number;
  movesPerS: number;
  checked: number;
  leaks: number;
  leakSample?: string;
}

const ADMIN = { email: 'lag@carrier.test', password: 'balance-lag-admin-password' };

export async function benchBalanceLag(
  target: TTestDatabaseTarget,
  options: TBalanceLagOptions,
): Promise<TBalanceLagFigures> {
  const log = options.log ?? (() => {});
  const panel = await startBenchPanel(target, ADMIN);
  const { db, server, tokenFor } = panel;
  let clients: TChild | undefined;
  try {
    const api = benchApi(server.url);
    const { admin, resellers } = await seedResellers(
      server.url,
      tokenFor,
      ADMIN,
      options.resellers,
    );
    const moving = resellers.slice(0, options.accounts);
    const carrierId = (await api(admin, 'GET', '/me')).account.id as string;
    // Before any socket listens: the assignments are no part of what is measured.
    await chainCards(api, admin, moving);
    // Customers under their reseller; resellers under the carrier (only its admins see them).
    const parents: Record<string, string> = Object.fromEntries(
      moving.flatMap((r) => [
        [r.customer.id, r.id],
        [r.id, carrierId],
      ]),
    );

    const { groups, sockets } = socketGroups(admin, resellers, options.sockets);
    clients = forkChild('tests/bench/fanout-clients.ts');
    await clients.next('ready');
    const connected = await clients.ask<{ connected: number; failed: number }>(
      { type: 'connect', url: server.url, groups, concurrency: 50 },
      'connected',
    );
    if (connected.failed > 0) throw new Error(`${connected.failed} sockets could not connect`);
    log(`balance lag: ${connected.connected} sockets connected`);

    let batchNo = 0;
    /** One batch: two calls of each moving customer, rated through its 3-level chain. */
    const batch = async (): Promise<void> => {
      const n = ++batchNo;
      const startedAt = new Date().toISOString();
      const records = moving.flatMap((r, index) =>
        [0, 1].map((call) => ({
          id: `lag-${n}-${index}-${call}`,
          accountId: r.customer.id,
          number: `4420${String(index).padStart(4, '0')}${call}`,
          startedAt,
          seconds: 30 + call * 45,
        })),
      );
      const posted = await api(admin, 'POST', '/usage', { records });
      if (posted.rated !== records.length) {
        throw new Error(`batch ${n}: ${posted.rated} of ${records.length} rated`);
      }
    };
    // Warm-up, untracked: the first batches pay for cold paths.
    for (let i = 0; i < 3; i++) await batch();
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    await clients.ask({ type: 'track-balances', on: true }, 'tracking');
    // Catch-up from before the admin existed is refused (resync_required): read the moves
    // from the carrier's head as the timed batches start.
    const from = await carrierHead(panel.db.url, carrierId);
    const until = Date.now() + options.seconds * 1000;
    const started = Date.now();
    let batches = 0;
    // Several switches posting at once: each account's balance moves several times a second.
    await Promise.all(
      Array.from({ length: options.writers }, async () => {
        while (Date.now() < until) {
          await batch();
          batches++;
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    // Each move's commit time is its entry's `at`, stamped as the log row is written, the
    // last step before the commit: read back exactly, through catch-up.
    const moves = await usageMoves(api, admin, started, from);
    // The last held events go out within a second; then nothing is owed.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const lag = await clients.ask<TBalanceLag>(
      { type: 'balance-lag', moves, parents },
      'balance-lag',
    );
    await clients.ask({ type: 'track-balances', on: false }, 'tracking');
    const stats = await clients.ask<{ checked: number; leaks: number; leakSample?: string }>(
      { type: 'stats' },
      'stats',
    );
    log(
      `balance lag: ${batches} batches (${moves.length} balance moves, ${Math.round(moves.length / elapsed)}/s) over ${moving.length} customers and their resellers → p50 ${lag.p50} p99 ${lag.p99} ms, ${lag.events} events, at most ${lag.maxPerSecond} per account within 1 s per socket, ${lag.missing} missing`,
    );
    clients.send({ type: 'close' });
    return {
      database: db.kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL',
      sockets,
      batches,
      batchesPerS: Math.round((batches / elapsed) * 10) / 10,
      moves: moves.length,
      movesPerS: Math.round(moves.length / elapsed),
      ...lag,
      checked: stats.checked,
      leaks: stats.leaks,
      leakSample: stats.leakSample,
    };
  } finally {
    clients?.child.kill();
    await panel.stop();
  }
}

/** The carrier's log head: the position catch-up resumes after. */
async function carrierHead(databaseUrl: string, carrierId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ seq: string }>(
      'select seq from carrier_log_head where carrier_id = $1',
      [carrierId],
    );
    return Number(rows[0]?.seq ?? 0);
  } finally {
    await client.end();
  }
}

/** Every usage move of an account committed since `since` (ms), from `GET /events`. */
async function usageMoves(
  api: ReturnType<typeof benchApi>,
  admin: string,
  since: number,
  /** A log position before the first of them (the carrier's head then). */
  from: number,
): Promise<TBalanceMove[]> {
  const moves: TBalanceMove[] = [];
  for (let after = from; ;) {
    const page = (await api(admin, 'GET', `/events?since=${after}&limit=1000`)) as {
      items: {
        id: string;
        type: string;
        at: string;
        summary?: { reason?: string; kind?: string };
      }[];
      seq: number;
    };
    for (const entry of page.items) {
      const at = Date.parse(entry.at);
      if (at < since || !entry.type.endsWith('.updated')) continue;
      if (entry.summary?.reason === 'ledger' && entry.summary.kind === 'usage') {
        moves.push({ accountId: entry.id, committedAt: at });
      }
    }
    if (page.seq <= after) return moves;
    after = page.seq;
  }
}

/**
 * The chain each call is rated through: the carrier's provider card (its cost), a card
 * derived from it assigned to each reseller, and each reseller's own derived card
 * assigned to its customer.
 */
async function chainCards(
  api: ReturnType<typeof benchApi>,
  admin: string,
  resellers: TBenchReseller[],
): Promise<void> {
  const provider = await api(admin, 'POST', '/cards', {
    name: 'Lag provider',
    currency: 'EUR',
    kind: 'provider',
  });
  await api(admin, 'PUT', `/cards/${provider.id}/rates`, {
    rates: [{ prefix: '44', destination: 'UK', rate: '0.0100' }],
  });
  const wholesale = await api(admin, 'POST', `/cards/${provider.id}/derive`, {
    name: 'Lag wholesale',
    markupPercent: '20',
  });
  await pool(resellers, 8, async (reseller) => {
    await api(admin, 'POST', '/assignments', { cardId: wholesale.id, accountId: reseller.id });
    const retail = await api(reseller.token, 'POST', `/cards/${wholesale.id}/derive`, {
      name: `Lag retail ${reseller.id}`,
      markupPercent: '50',
    });
    await api(reseller.token, 'POST', '/assignments', {
      cardId: retail.id,
      accountId: reseller.customer.id,
    });
  });
}
