import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { startBenchPanel } from './bench-panel';
import {
  forkChild,
  pool,
  seedResellers,
  socketGroups,
  benchApi,
  type TChild,
} from './fanout-bench';
import type { TBalanceLag, TBalanceMove } from './fanout-clients';

/**
 * Balances at call rate (issue 18, `usage.balance_lag_p99_ms`): `sockets` sockets (4 %
 * carrier admins, the rest spread over the resellers, as in the fan-out bench) watch
 * while writers move the balances of `accounts` customers back to back for `seconds`,
 * each account's moves one after another (a switch's batches). Measured per move and
 * per socket that sees the account: from the move's commit (its answer) until the socket
 * has received that balance or a later one — coalescing holds an account's balance
 * events up to a second, so this is the lag a person watching the panel sees. Every
 * delivery is checked against the socket's scope as in the fan-out bench (leaks).
 */
export interface TBalanceLagOptions {
  sockets: number;
  resellers: number;
  /** Customers whose balances move (one per reseller, the first ones). */
  accounts: number;
  seconds: number;
  log?: (line: string) => void;
}

export interface TBalanceLagFigures extends TBalanceLag {
  database: string;
  sockets: number;
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
    const { groups, sockets } = socketGroups(admin, resellers, options.sockets);
    clients = forkChild('tests/bench/fanout-clients.ts');
    await clients.next('ready');
    const connected = await clients.ask<{ connected: number; failed: number }>(
      { type: 'connect', url: server.url, groups, concurrency: 50 },
      'connected',
    );
    if (connected.failed > 0) throw new Error(`${connected.failed} sockets could not connect`);
    log(`balance lag: ${connected.connected} sockets connected`);

    const moving = resellers.slice(0, options.accounts);
    const parents = Object.fromEntries(moving.map((r) => [r.customer.id, r.id]));
    let key = 0;
    const move = async (accountId: string): Promise<TBalanceMove> => {
      const sentAt = Date.now();
      await api(admin, 'POST', `/accounts/${accountId}/payments`, {
        amount: '0.01',
        idempotencyKey: `balance-lag-${++key}`,
      });
      return { accountId, sentAt, answeredAt: Date.now() };
    };
    // Warm-up, untracked: the first moves pay for cold paths.
    await pool(moving, moving.length, (r) => move(r.customer.id));
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    await clients.ask({ type: 'track-balances', on: true }, 'tracking');
    const moves: TBalanceMove[] = [];
    const until = Date.now() + options.seconds * 1000;
    const started = Date.now();
    await pool(moving, moving.length, async (reseller) => {
      while (Date.now() < until) moves.push(await move(reseller.customer.id));
    });
    const elapsed = (Date.now() - started) / 1000;
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
      `balance lag: ${moves.length} moves (${Math.round(moves.length / elapsed)}/s) over ${moving.length} accounts → p50 ${lag.p50} p99 ${lag.p99} ms, ${lag.events} events, at most ${lag.maxPerSecond} per account a second per socket, ${lag.missing} missing`,
    );
    clients.send({ type: 'close' });
    return {
      database: db.kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL',
      sockets,
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
