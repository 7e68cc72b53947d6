import { spawnSync } from 'node:child_process';
import pg from 'pg';
import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { lookupStatement } from '@/lib/server/services/lookup/lookup-rates';
import { PANEL_SESSION_OPTIONS } from '@/lib/server/db/config';
import { startBenchPanel } from './bench-panel';
import { compareCsvReaders } from './csv-readers';

/**
 * Rate-card figures (issue: rate cards; DESIGN §1): import a 100k-row CSV and derive a
 * 100k-prefix card through the production server's API, and a parent edit that
 * recomputes a derived child; prefix lookups. Baselines in the same run, same data:
 * psql `\copy` of the CSV into a bare table, and one `INSERT … SELECT` marking it up.
 */
export interface TRatesFigures {
  database: string;
  rows: number;
  importMs: number;
  deriveMs: number;
  parentEditMs: number;
  /** One rate edited by hand on the imported card (PATCH), its derived card with it. */
  patchOneMs: number;
  lookupP50Ms: number;
  lookupP99Ms: number;
  sqlLookupP50Ms: number;
  sqlLookupP99Ms: number;
  /** The API's own whole statement (scope, chain, longest prefixes), straight on the database. */
  statementLookupP50Ms: number;
  statementLookupP99Ms: number;
  copyMs: number | null;
  sqlDeriveMs: number | null;
  /** Parse and validate the file in the bench's process: the import's reader, csv-parse. */
  csvOwnMs: number;
  csvLibraryMs: number;
  /** A revision dated tomorrow (5% of rates changed), its derived card's with it (API). */
  scheduleMs: number;
  /** That revision's diff through the API: counts and every differing row, page by page. */
  diffMs: number;
  /** The floor: one FULL JOIN of the two revisions' rate sets, the differing rows. */
  sqlDiffMs: number;
  /** Lookups priced at the scheduled revision's date (`at=`, history at every level). */
  lookupAtP50Ms: number;
  lookupAtP99Ms: number;
}

/** The deck with every twentieth rate moved: next week's deck. */
function changedDeck(csv: string): string {
  return csv
    .split('\n')
    .map((line, index) => {
      if (index === 0 || index % 20 !== 0 || !line) return line;
      const cells = line.split(',');
      cells[2] = (Number(cells[2]) + 0.0001).toFixed(4);
      return cells.join(',');
    })
    .join('\n');
}

const ADMIN = { email: 'bench@carrier.test', password: 'bench-admin-password' };

/** A deterministic 100k-prefix card: the same file every run. */
export function benchCsv(rows: number): string {
  // mulberry32: 32-bit integer arithmetic, so the same sequence on every machine.
  let seed = 42;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const seen = new Set<string>();
  const lines = ['prefix,destination,rate,connectionFee,initialIncrement,increment'];
  while (seen.size < rows) {
    const length = 2 + Math.floor(next() * 8);
    let prefix = String(1 + Math.floor(next() * 9));
    while (prefix.length < length) prefix += String(Math.floor(next() * 10));
    if (seen.has(prefix)) continue;
    seen.add(prefix);
    const rate = (0.0001 + next() * 0.9).toFixed(4);
    const [initial, increment] = [
      [60, 60],
      [1, 1],
      [30, 6],
    ][Math.floor(next() * 3)]!;
    lines.push(`${prefix},Destination ${prefix},${rate},0.0000,${initial},${increment}`);
  }
  return lines.join('\n') + '\n';
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export async function benchRates(
  target: TTestDatabaseTarget,
  options: { rows: number; lookups: number; csv: string },
): Promise<TRatesFigures> {
  const panel = await startBenchPanel(target, ADMIN);
  const { db, server } = panel;
  try {
    const token = await panel.tokenFor(ADMIN.email, ADMIN.password);
    const call = async (method: string, path: string, body?: string, type = 'application/json') => {
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

    const card = (
      await call(
        'POST',
        '/cards',
        JSON.stringify({ name: 'Bench buy', currency: 'EUR', kind: 'provider' }),
      )
    ).body;
    const imported = await call('POST', `/cards/${card.id}/rates/import`, options.csv, 'text/csv');
    if (imported.body.rows !== options.rows) throw new Error(`imported ${imported.body.rows} rows`);
    const derived = await call(
      'POST',
      `/cards/${card.id}/derive`,
      JSON.stringify({
        name: 'Bench sell',
        markupPercent: '15',
        markupFixed: '0.0010',
        rounding: 'up',
      }),
    );
    if (derived.body.rateCount !== options.rows)
      throw new Error(`derived ${derived.body.rateCount} rows`);
    // A parent edit: the same file again, and the derived card recomputed with it.
    const parentEdit = await call(
      'POST',
      `/cards/${card.id}/rates/import`,
      options.csv,
      'text/csv',
    );

    // One rate edited by hand (PATCH): the whole set merged, its derived card recomputed.
    // As a nested loop the merge's anti-join grew with the square of the card (minutes at
    // 100k rows): held here against the import of the whole file.
    const [first] = options.csv.split('\n')[1]!.split(',');
    const patchOne = await call(
      'PATCH',
      `/cards/${card.id}/rates`,
      JSON.stringify({ upsert: [{ prefix: first, destination: 'Edited', rate: '0.5000' }] }),
    );

    // Next week's deck, scheduled for tomorrow: a revision, and the derived card's with it.
    const liveAt = new Date(Date.now() + 86_400_000).toISOString();
    const scheduled = await call(
      'POST',
      `/cards/${card.id}/rates/import?liveAt=${encodeURIComponent(liveAt)}`,
      changedDeck(options.csv),
      'text/csv',
    );
    const revision = scheduled.body.revision as { number: number; state: string };
    if (revision.state !== 'scheduled') throw new Error(`revision ${revision.state}`);
    const diffStarted = performance.now();
    let cursor: string | null = null;
    do {
      const page: { body: { nextCursor: string | null } } = await call(
        'GET',
        `/cards/${card.id}/revisions/${revision.number}/diff?limit=5000${cursor ? `&cursor=${cursor}` : ''}`,
      );
      cursor = page.body.nextCursor;
    } while (cursor);
    const diffMs = performance.now() - diffStarted;

    // Lookups through the API: a customer holding the derived card, a two-level chain.
    const customer = (await call('POST', '/customers', JSON.stringify({ name: 'Bench customer' })))
      .body;
    await call(
      'POST',
      '/assignments',
      JSON.stringify({ cardId: derived.body.id, accountId: customer.id }),
    );
    const prefixes = options.csv
      .split('\n')
      .slice(1, -1)
      .map((line) => line.split(',')[0]!);
    const numbers = Array.from(
      { length: options.lookups },
      (_, index) => prefixes[(index * 7919) % prefixes.length]! + '1234567',
    );
    // The lookup through the API, its own query straight on the database (its index cost
    // alone) and its whole statement as the API sends it for the same caller (the
    // carrier admin: its path is its id), one after the other for each number: measured
    // in three passes, the API's figures met whatever else the machine did then and
    // the baselines something else.
    // With the panel's own session settings, so the statement is planned as the API's is.
    const client = new pg.Client({ connectionString: db.url, options: PANEL_SESSION_OPTIONS });
    await client.connect();
    const apiTimes: number[] = [];
    const sqlTimes: number[] = [];
    const statementTimes: number[] = [];
    try {
      const me = (await call('GET', '/me')).body as { account: { id: string } };
      for (const number of numbers) {
        apiTimes.push(
          (await call('GET', `/rates/lookup?accountId=${customer.id}&number=${number}`)).ms,
        );
        const leading = Array.from({ length: Math.min(number.length, 20) }, (_, i) =>
          number.slice(0, i + 1),
        );
        let started = performance.now();
        await client.query(
          `select distinct on (card_id) card_id, prefix, rate from rate
            where card_id = any($1::uuid[]) and prefix = any($2::text[])
              and (effective_from is null or effective_from <= now())
            order by card_id, length(prefix) desc, effective_from desc nulls last`,
          [[card.id, derived.body.id], leading],
        );
        sqlTimes.push(performance.now() - started);
        const statement = lookupStatement(`${me.account.id}/`, {
          accountId: customer.id,
          cardId: null,
          number,
        });
        let n = 0;
        const text = statement.sql.replace(/\?/g, () => `$${++n}`);
        started = performance.now();
        await client.query(text, statement.params);
        statementTimes.push(performance.now() - started);
      }
      const atTimes: number[] = [];
      const at = encodeURIComponent(new Date(Date.parse(liveAt) + 1_000).toISOString());
      for (const number of numbers) {
        atTimes.push(
          (await call('GET', `/rates/lookup?accountId=${customer.id}&number=${number}&at=${at}`))
            .ms,
        );
      }
      const diffSql = performance.now();
      await client.query(
        `select coalesce(a.prefix, b.prefix) as prefix, a.rate, b.rate
           from (select * from rate_history where card_id = $1 and from_rev <= $2
                    and (to_rev is null or to_rev > $2)) a
           full join (select * from rate_history where card_id = $1 and from_rev <= $3
                         and (to_rev is null or to_rev > $3)) b
             on a.prefix = b.prefix
            and coalesce(a.effective_from, '-infinity') = coalesce(b.effective_from, '-infinity')
          where a.prefix is null or b.prefix is null or a.rate <> b.rate
             or a.connection_fee <> b.connection_fee
          order by 1`,
        [card.id, revision.number, revision.number - 1],
      );
      const sqlDiffMs = performance.now() - diffSql;
      const { copyMs, sqlDeriveMs } = await baselines(client, db.kind, db.url, options.csv);
      const readers = await compareCsvReaders(options.csv);
      return {
        database: db.kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL',
        rows: options.rows,
        importMs: round(imported.ms),
        deriveMs: round(derived.ms),
        parentEditMs: round(parentEdit.ms),
        patchOneMs: round(patchOne.ms),
        lookupP50Ms: round(percentile(apiTimes, 50)),
        lookupP99Ms: round(percentile(apiTimes, 99)),
        sqlLookupP50Ms: round(percentile(sqlTimes, 50)),
        sqlLookupP99Ms: round(percentile(sqlTimes, 99)),
        statementLookupP50Ms: round(percentile(statementTimes, 50)),
        statementLookupP99Ms: round(percentile(statementTimes, 99)),
        copyMs: copyMs === null ? null : round(copyMs),
        sqlDeriveMs: sqlDeriveMs === null ? null : round(sqlDeriveMs),
        csvOwnMs: round(readers.ownMs),
        csvLibraryMs: round(readers.libraryMs),
        scheduleMs: round(scheduled.ms),
        diffMs: round(diffMs),
        sqlDiffMs: round(sqlDiffMs),
        lookupAtP50Ms: round(percentile(atTimes, 50)),
        lookupAtP99Ms: round(percentile(atTimes, 99)),
      };
    } finally {
      await client.end();
    }
  } finally {
    await panel.stop();
  }
}

/**
 * The floor for the same work: psql's `\copy` of the file into a bare table (PostgreSQL
 * only: the embedded database has no COPY from a client), then one INSERT … SELECT
 * marking it up — no validation, no margin check, no change log.
 */
async function baselines(
  client: pg.Client,
  kind: 'postgresql' | 'pglite',
  url: string,
  csv: string,
) {
  if (kind === 'pglite') return { copyMs: null, sqlDeriveMs: null };
  await client.query(`create table bench_copy (prefix text, destination text, rate numeric(18,6),
    connection_fee numeric(18,6), initial_increment int, increment int)`);
  await client.query(`create table bench_derived (like bench_copy)`);
  const copyStarted = performance.now();
  const copied = spawnSync(
    'psql',
    [url, '-qc', '\\copy bench_copy from stdin with (format csv, header true)'],
    { input: csv },
  );
  if (copied.status !== 0) return { copyMs: null, sqlDeriveMs: null };
  const copyMs = performance.now() - copyStarted;
  const started = performance.now();
  await client.query(`insert into bench_derived
    select prefix, destination, ceil((rate * 1.15 + 0.001) * 10000) / 10000, connection_fee,
           initial_increment, increment from bench_copy`);
  return { copyMs, sqlDeriveMs: performance.now() - started };
}
