import { fork } from 'node:child_process';
import http from 'node:http';
import pg from 'pg';
import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { positional } from '@/lib/server/db/direct-query';
import { authorizeStatement } from '@/lib/server/services/calls/authorize-call';
import { cpuDuring, startBenchPanel } from './bench-panel';
import { benchCsv } from './rates-bench';

/**
 * The switch's question at call rate (issue 18): `POST /authorize` through the production
 * server at `rate` requests a second from 4 concurrent clients, against the decision's
 * own statement (`authorizeStatement`, the very text the API prepares) sent at the same
 * rate from 4 `pg` connections, prepared the same way. The two alternate in rounds of one
 * second each, so both meet whatever else the machine does. The chain is the issue's: a
 * 100k-prefix upstream card, derived by the carrier, by a reseller and by its
 * sub-reseller, whose customers ask; every level below the carrier has a credit limit,
 * so `maxSeconds` is worked out at each. Beside both, the floor: `node:http` and `pg`
 * alone sending the API's one statement and deciding the same way, at the same rate.
 */
export interface TAuthorizeFigures {
  database: string;
  rate: number;
  /** Requests answered per second over the API rounds (what the clients achieved). */
  achievedPerS: number;
  /** The same for the floor and for the statement alone. */
  floorAchievedPerS: number;
  sqlAchievedPerS: number;
  p50Ms: number;
  p99Ms: number;
  /**
   * The floor (`floor-server.ts`): plain `node:http` and `pg` sending the API's very
   * statement and making the same decision — what HTTP and Node cost by themselves.
   */
  floorP50Ms: number;
  floorP99Ms: number;
  sqlP50Ms: number;
  sqlP99Ms: number;
  /**
   * Server CPU (user + system, `/proc`) per request over the measured rounds: the panel's
   * and the floor's. Steadier than a p99: what the panel's own work costs per request,
   * and so how near one core it is at the asked rate. Null off Linux.
   */
  cpuMs: number | null;
  floorCpuMs: number | null;
  /** Answers that were not 200 with `allowed` (must be 0: every number has a route). */
  failures: number;
}

const ADMIN = { email: 'switch-bench@carrier.test', password: 'switch-bench-password' };
const PASSWORD = 'switch-bench-user-pass';
const CLIENTS = 4;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `CLIENTS` loops, each one request in flight at a time, started at its own slots so
 * that together they send `rate` a second for `ms`: a client that falls behind sends
 * its next at once. Latency is from each send to its answer.
 */
async function paced(
  rate: number,
  ms: number,
  send: (client: number, index: number) => Promise<void>,
  into: number[],
): Promise<number> {
  const interval = (1000 * CLIENTS) / rate;
  const start = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let slot = 0; ; slot++) {
        const due = start + (client * interval) / CLIENTS + slot * interval;
        if (due - start >= ms) return;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const began = performance.now();
        await send(client, sent++);
        into.push(performance.now() - began);
      }
    }),
  );
  return sent / ((performance.now() - start) / 1000);
}

/**
 * The bench's chain on a started panel: carrier → R1 → R2 → 20 customers, the cards
 * derived down it, every level below the carrier with a credit limit, and a switch's
 * token (a carrier user whose group holds `calls:authorize` alone). `asks`: 5000 calls
 * to numbers under the upstream card's prefixes, spread over the customers.
 */
export async function arrangeSwitchChain(
  panel: Awaited<ReturnType<typeof startBenchPanel>>,
  rows: number,
  log: (line: string) => void,
): Promise<{
  carrierPath: string;
  switchToken: string;
  asks: { accountId: string; number: string }[];
}> {
  const { server } = panel;
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined
          ? {}
          : { 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
  const admin = await panel.tokenFor(ADMIN.email, ADMIN.password);
  const me = await call(admin, 'GET', '/me');
  const group = await call(admin, 'POST', '/groups', { template: 'default-reseller' });
  const r1 = await call(admin, 'POST', '/resellers', {
    name: 'Bench R1',
    email: 'r1@sw.test',
    creditLimit: '100000',
  });
  const r2 = await call(admin, 'POST', '/resellers', {
    name: 'Bench R2',
    email: 'r2@sw.test',
    parentId: r1.id,
    creditLimit: '50000',
  });
  const userToken = async (email: string, accountId: string, groupId: string) => {
    await call(admin, 'POST', '/users', { email, password: PASSWORD, accountId, groupId });
    return panel.tokenFor(email, PASSWORD);
  };
  const r1Token = await userToken('ops@r1.sw.test', r1.id, group.id);
  const r2Token = await userToken('ops@r2.sw.test', r2.id, group.id);
  const switchGroup = await call(admin, 'POST', '/groups', {
    name: 'Switch',
    grants: ['calls:authorize'],
  });
  const switchToken = await userToken('switch@sw.test', me.account.id, switchGroup.id);

  log(`authorize: importing a ${rows}-prefix upstream card, deriving three`);
  const csv = benchCsv(rows);
  const upstream = await call(admin, 'POST', '/cards', {
    name: 'Upstream',
    currency: 'EUR',
    kind: 'provider',
  });
  await call(admin, 'POST', `/cards/${upstream.id}/rates/import`, csv);
  const retail = await call(admin, 'POST', `/cards/${upstream.id}/derive`, {
    name: 'Retail',
    markupPercent: '20',
  });
  await call(admin, 'POST', '/assignments', { cardId: retail.id, accountId: r1.id });
  const r1Sell = await call(r1Token, 'POST', `/cards/${retail.id}/derive`, {
    name: 'R1 sell',
    markupPercent: '10',
    rounding: 'up',
  });
  await call(r1Token, 'POST', '/assignments', { cardId: r1Sell.id, accountId: r2.id });
  const r2Sell = await call(r2Token, 'POST', `/cards/${r1Sell.id}/derive`, {
    name: 'R2 sell',
    markupFixed: '0.0010',
    initialIncrement: 60,
    increment: 60,
  });
  const customers: string[] = [];
  for (let index = 0; index < 20; index++) {
    const customer = await call(admin, 'POST', '/customers', {
      name: `Bench C${index}`,
      parentId: r2.id,
      creditLimit: String(50 + index * 10),
    });
    await call(r2Token, 'POST', '/assignments', { cardId: r2Sell.id, accountId: customer.id });
    customers.push(customer.id);
  }
  const prefixes = csv
    .split('\n')
    .slice(1, -1)
    .map((line) => line.split(',')[0]!);
  const asks = Array.from({ length: 5000 }, (_, index) => ({
    accountId: customers[index % customers.length]!,
    number: prefixes[(index * 7919) % prefixes.length]! + '4567',
  }));

  return { carrierPath: `${me.account.id}/`, switchToken, asks };
}

export async function benchAuthorize(
  target: TTestDatabaseTarget,
  options: { rate: number; rounds: number; rows: number; log: (line: string) => void },
): Promise<TAuthorizeFigures> {
  const panel = await startBenchPanel(target, ADMIN);
  const { db, server } = panel;
  try {
    const { carrierPath, switchToken, asks } = await arrangeSwitchChain(
      panel,
      options.rows,
      options.log,
    );
    // The floor on the same database and token, running beside the panel.
    const floor = fork('tests/bench/floor-server.ts', [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const floorPort = await new Promise<number>((resolve, reject) => {
      floor.once('message', (message: { port: number }) => resolve(message.port));
      floor.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
    });
    let failures = 0;
    /** An HTTP client for one server: kept-alive connections, one per bench client. */
    const asker = (base: string) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
      const url = new URL(`${base}/api/v1/authorize`);
      const ask = (body: string) =>
        new Promise<void>((resolve, reject) => {
          const request = http.request(
            url,
            {
              agent,
              method: 'POST',
              headers: {
                authorization: `Bearer ${switchToken}`,
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
              },
            },
            (response) => {
              let text = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => (text += chunk));
              response.on('end', () => {
                if (
                  response.statusCode !== 200 ||
                  !(JSON.parse(text) as { allowed: boolean }).allowed
                )
                  failures++;
                resolve();
              });
            },
          );
          request.on('error', reject);
          request.end(body);
        });
      return { ask, agent };
    };
    const api = asker(server.url);
    const bare = asker(`http://127.0.0.1:${floorPort}`);
    const bodies = asks.map((item) => JSON.stringify(item));

    // The statement alone: the same text the API prepares, for the same caller (the
    // switch's account, the carrier: its path is its id), prepared on each connection.
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        return client;
      }),
    );
    const statements = asks.map((item) => {
      const statement = authorizeStatement(carrierPath, { ...item, at: null });
      return { text: positional(statement.sql, statement.params), values: statement.params };
    });
    const sql = async (client: number, index: number) => {
      const { text, values } = statements[index % statements.length]!;
      const { rows } = await clients[client]!.query({ name: 'authorize', text, values });
      // One JSON value: the chain's four levels.
      if ((rows[0] as { json_agg: unknown[] | null }).json_agg?.length !== 4) failures++;
    };

    try {
      const kinds = {
        api: (roundIndex: number) => (_: number, index: number) =>
          api.ask(bodies[(roundIndex * 1000 + index) % bodies.length]!),
        floor: (roundIndex: number) => (_: number, index: number) =>
          bare.ask(bodies[(roundIndex * 1000 + index) % bodies.length]!),
        sql: (roundIndex: number) => (client: number, index: number) =>
          sql(client, roundIndex * 1000 + index),
      };
      const times = { api: [] as number[], floor: [] as number[], sql: [] as number[] };
      const rates = { api: 0, floor: 0, sql: 0 };
      const pids = { api: server.child.pid!, floor: floor.pid! };
      // CPU each server spent over its measured rounds; null once `/proc` could not tell.
      const cpu: Record<keyof typeof pids, number | null> = { api: 0, floor: 0 };
      // Three rounds of each to warm up (JIT, plans, prepared statements on every connection).
      for (let warm = 0; warm < 3; warm++) {
        for (const kind of ['api', 'floor', 'sql'] as const) {
          await paced(options.rate, 1000, kinds[kind](warm), []);
        }
      }
      failures = 0;
      for (let roundIndex = 0; roundIndex < options.rounds; roundIndex++) {
        for (const kind of ['api', 'floor', 'sql'] as const) {
          const pace = () => paced(options.rate, 1000, kinds[kind](roundIndex), times[kind]);
          if (kind === 'sql') {
            rates.sql += await pace();
            continue;
          }
          const { value, cpuMs } = await cpuDuring(pids[kind], pace);
          rates[kind] += value;
          const spent = cpu[kind];
          cpu[kind] = spent === null || cpuMs === null ? null : spent + cpuMs;
        }
      }
      options.log(
        `authorize: ${times.api.length} API requests, ${times.floor.length} to the floor, ${times.sql.length} statements, ${failures} failures`,
      );
      const achieved = (kind: keyof typeof rates) => Math.round(rates[kind] / options.rounds);
      return {
        database: db.kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL',
        rate: options.rate,
        achievedPerS: achieved('api'),
        floorAchievedPerS: achieved('floor'),
        sqlAchievedPerS: achieved('sql'),
        p50Ms: round(percentile(times.api, 50)),
        p99Ms: round(percentile(times.api, 99)),
        floorP50Ms: round(percentile(times.floor, 50)),
        floorP99Ms: round(percentile(times.floor, 99)),
        sqlP50Ms: round(percentile(times.sql, 50)),
        sqlP99Ms: round(percentile(times.sql, 99)),
        cpuMs: cpu.api === null ? null : round(cpu.api / times.api.length),
        floorCpuMs: cpu.floor === null ? null : round(cpu.floor / times.floor.length),
        failures,
      };
    } finally {
      api.agent.destroy();
      bare.agent.destroy();
      await Promise.all(clients.map((client) => client.end()));
      floor.send({ type: 'close' });
      await new Promise((resolve) => floor.once('exit', resolve));
    }
  } finally {
    await panel.stop();
  }
}
