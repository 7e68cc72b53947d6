import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { startBenchPanel } from './bench-panel';
import { benchCsv } from './rates-bench';

/**
 * Rating figures (issue 18): call records rated and posted per second through the API —
 * batches of 10,000 CDRs over 3-level chains (a customer's card, its reseller's card, the
 * carrier's provider card, each of 100,000 prefixes) — beside the floor for the same
 * rows: COPY into a bare table (no index, no constraint), over one kept connection, in
 * the same run, each batch's COPY right before its API call so both meet the same load.
 * Both bodies are built before the clock starts; the API's time is the whole request
 * (transfer, parse, validation, rating, posting, commit, answer).
 */
export interface TUsageFigures {
  database: string;
  batches: number;
  recordsPerBatch: number;
  ratedPerS: number;
  copyPerS: number;
  batchP50Ms: number;
  batchMaxMs: number;
  copyP50Ms: number;
  /** The first batch (not counted above): cold caches and plans. */
  firstBatchMs: number;
  rated: number;
  unrated: number;
}

const ADMIN = { email: 'bench@carrier.test', password: 'bench-admin-password' };
const RESELLER = { email: 'ops@bench-reseller.test', password: 'bench-reseller-password' };

interface TCdr {
  id: string;
  accountId: string;
  number: string;
  startedAt: string;
  seconds: number;
}

export async function benchUsage(
  target: TTestDatabaseTarget,
  options: {
    rows: number;
    batches: number;
    records: number;
    customers: number;
    log: (line: string) => void;
  },
): Promise<TUsageFigures> {
  const panel = await startBenchPanel(target, ADMIN);
  const { db, server } = panel;
  try {
    const admin = await panel.tokenFor(ADMIN.email, ADMIN.password);
    const call = async (
      token: string,
      method: string,
      path: string,
      body?: string,
      type = 'application/json',
    ) => {
      const started = performance.now();
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': type } : {}) },
        body,
      });
      const text = await response.text();
      const ms = performance.now() - started;
      if (!response.ok)
        throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 300)}`);
      return { ms, body: text ? JSON.parse(text) : null };
    };
    const post = (token: string, path: string, body: unknown) =>
      call(token, 'POST', path, JSON.stringify(body)).then((answer) => answer.body);

    // The chain: carrier provider card (100k prefixes) → carrier sell card held by the
    // reseller → the reseller's sell card held by each customer.
    options.log(`usage: cards of ${options.rows} prefixes, ${options.customers} customers`);
    const csv = benchCsv(options.rows);
    const provider = await post(admin, '/cards', {
      name: 'Bench upstream',
      currency: 'EUR',
      kind: 'provider',
    });
    await call(admin, 'POST', `/cards/${provider.id}/rates/import`, csv, 'text/csv');
    const sell = await post(admin, `/cards/${provider.id}/derive`, {
      name: 'Bench carrier sell',
      markupPercent: '15',
      rounding: 'up',
    });
    const group = await post(admin, '/groups', { template: 'default-reseller' });
    const reseller = await post(admin, '/resellers', {
      name: 'Bench reseller',
      email: 'bench@reseller.test',
    });
    await post(admin, '/assignments', { cardId: sell.id, accountId: reseller.id });
    await post(admin, '/users', {
      email: RESELLER.email,
      password: RESELLER.password,
      accountId: reseller.id,
      groupId: group.id,
    });
    const resellerToken = await panel.tokenFor(RESELLER.email, RESELLER.password);
    const retail = await post(resellerToken, `/cards/${sell.id}/derive`, {
      name: 'Bench retail',
      markupPercent: '25',
      decimals: 5,
      rounding: 'half_even',
    });
    const customers: string[] = [];
    for (let index = 0; index < options.customers; index++) {
      const customer = await post(resellerToken, '/customers', { name: `Bench customer ${index}` });
      await post(resellerToken, '/assignments', { cardId: retail.id, accountId: customer.id });
      customers.push(customer.id);
    }

    const prefixes = csv
      .split('\n')
      .slice(1, -1)
      .map((line) => line.split(',')[0]!);
    let serial = 0;
    // Each batch's calls started in the last seconds, a millisecond apart: after the
    // cards existed, and never ahead of the panel's clock.
    const batch = (): TCdr[] => {
      let clock = Date.now() - options.records;
      return Array.from({ length: options.records }, () => {
        serial++;
        clock += 1;
        const prefix = prefixes[(serial * 7919) % prefixes.length]!;
        return {
          id: `bench-${serial}`,
          accountId: customers[serial % customers.length]!,
          number: (prefix + String(serial * 104729).padStart(9, '0')).slice(0, 13),
          startedAt: new Date(clock).toISOString(),
          seconds: (serial * 37) % 600,
        };
      });
    };

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`create table bench_usage_copy (cdr_id text, account_id uuid, number text,
      started_at timestamptz, seconds int)`);
    try {
      const copy = async (rows: TCdr[]) => {
        const text = rows
          .map(
            (row) =>
              `${row.id}\t${row.accountId}\t${row.number}\t${row.startedAt}\t${row.seconds}\n`,
          )
          .join('');
        const started = performance.now();
        const sink = client.query(copyFrom('copy bench_usage_copy from stdin'));
        await pipeline(Readable.from([text]), sink);
        return performance.now() - started;
      };
      const first = await call(admin, 'POST', '/usage', JSON.stringify({ records: batch() }));
      options.log(`usage: first batch ${Math.round(first.ms)} ms`);
      let rated = first.body.rated as number;
      let unrated = first.body.unrated as number;
      const apiTimes: number[] = [];
      const copyTimes: number[] = [];
      for (let index = 0; index < options.batches; index++) {
        const rows = batch();
        const body = JSON.stringify({ records: rows });
        copyTimes.push(await copy(rows));
        const answer = await call(admin, 'POST', '/usage', body);
        apiTimes.push(answer.ms);
        rated += answer.body.rated;
        unrated += answer.body.unrated;
        options.log(
          `usage: batch ${index + 1} ${Math.round(answer.ms)} ms (copy ${Math.round(copyTimes.at(-1)!)} ms)`,
        );
      }
      const total = (times: number[]) => times.reduce((sum, ms) => sum + ms, 0);
      const median = (times: number[]) =>
        [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      const records = options.batches * options.records;
      return {
        database: db.kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL',
        batches: options.batches,
        recordsPerBatch: options.records,
        ratedPerS: Math.round(records / (total(apiTimes) / 1000)),
        copyPerS: Math.round(records / (total(copyTimes) / 1000)),
        batchP50Ms: Math.round(median(apiTimes)),
        batchMaxMs: Math.round(Math.max(...apiTimes)),
        copyP50Ms: Math.round(median(copyTimes) * 10) / 10,
        firstBatchMs: Math.round(first.ms),
        rated,
        unrated,
      };
    } finally {
      await client.end();
    }
  } finally {
    await panel.stop();
  }
}
