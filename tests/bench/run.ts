import { chooseTestDatabase } from '../fixtures/test-database';
import { benchCsv, benchRates, type TRatesFigures } from './rates-bench';
import { benchFanout } from './fanout-bench';
import { benchApiCost } from './api-cost';
import { benchOrder } from './order-bench';
import { benchWorkers } from './workers-bench';
import { benchAuthorize } from './authorize-bench';
import { benchBalanceLag } from './balance-lag-bench';
import { benchUsage } from './usage-bench';
import { benchWsFlush } from './ws-flush-bench';

/**
 * `npm run bench` (`-- --json` for one JSON object;
 * `--only api|fanout|flush|lag|rates|usage|order|authorize|workers`; api: `--requests N` (1000);
 * fan-out: `--sockets N` (5000), `--resellers N` (200), `--rate N` (100 changes/s),
 * `--seconds N`, `--step-seconds N`, `--gap N` (10000); flush (what a delivery's write
 * costs): `--flush-sockets N` (200), `--flush-emits N` (2000); rates: `--rows N`, `--lookups N`,
 * `--no-pglite`; order: `--writers N` (8), `--order-seconds N` (5); usage:
 * `--usage-batches N` (6), `--usage-records N` (10000), `--customers N` (50), `--rows N`
 * for its cards; lag (balances at call rate; `--only usage` runs it too):
 * `--lag-sockets N` (1000), `--lag-resellers N` (120), `--lag-accounts N` (50),
 * `--lag-writers N` (4), `--lag-seconds N` (10); authorize: `--authorize-rate N` (1000
 * requests/s), `--authorize-rounds N` (10 one-second rounds of each), `--rows N`;
 * `--workers N` adds the fan-out ceiling of 1 and of N server processes (`WORKERS=N`,
 * same fan-out options; `--only workers` alone defaults to 2).
 * Figures against the production build on real PostgreSQL, PGlite as a second row where
 * it applies, each with its baseline measured in the same run.
 */
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};

const round = (value: number) => Math.round(value * 100) / 100;

function printTable(table: [string, ...string[]][]) {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table)
    console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
  console.log('');
}

async function main() {
  const only = (() => {
    const index = args.indexOf('--only');
    return index >= 0 ? args[index + 1] : undefined;
  })();
  const json: Record<string, number | string | null> = {};
  const log = flag('json') ? () => {} : (line: string) => console.error(`  … ${line}`);
  const primary = await chooseTestDatabase();

  if (!only || only === 'api') {
    const requests = option('requests', 1000);
    const cost = await benchApiCost(primary, { requests });
    Object.assign(json, {
      'api.get_cpu_ms': cost.getCpuMs,
      'api.patch_cpu_ms': cost.patchCpuMs,
      'api.get_per_s': cost.getPerS,
      'api.patch_per_s': cost.patchPerS,
      'api.floor_get_cpu_ms': cost.floorGetCpuMs,
      'api.floor_patch_cpu_ms': cost.floorPatchCpuMs,
      'api.floor_get_per_s': cost.floorGetPerS,
      'api.floor_patch_per_s': cost.floorPatchPerS,
      'ratio.get_cpu':
        cost.getCpuMs && cost.floorGetCpuMs ? round(cost.getCpuMs / cost.floorGetCpuMs) : null,
      'ratio.patch_cpu':
        cost.patchCpuMs && cost.floorPatchCpuMs
          ? round(cost.patchCpuMs / cost.floorPatchCpuMs)
          : null,
    });
    if (!flag('json')) {
      const cpu = (value: number | null) => (value === null ? 'n/a' : `${value} ms`);
      printTable([
        [
          `one API request, ${requests} of each, 4 at a time`,
          'server CPU per request',
          'requests/s',
          'floor: node:http + pg, same SQL',
          'floor requests/s',
          'ratio (CPU)',
        ],
        [
          'GET /customers/{id}',
          cpu(cost.getCpuMs),
          String(cost.getPerS),
          cpu(cost.floorGetCpuMs),
          String(cost.floorGetPerS),
          String(json['ratio.get_cpu']),
        ],
        [
          'PATCH /customers/{id} (no socket listening)',
          cpu(cost.patchCpuMs),
          String(cost.patchPerS),
          cpu(cost.floorPatchCpuMs),
          String(cost.floorPatchPerS),
          String(json['ratio.patch_cpu']),
        ],
      ]);
    }
  }

  if (!only || only === 'fanout') {
    const sockets = option('sockets', 5000);
    const fanout = await benchFanout(primary, {
      sockets,
      resellers: option('resellers', 200),
      rate: option('rate', 100),
      seconds: option('seconds', 10),
      stepSeconds: option('step-seconds', 5),
      p99LimitMs: 150,
      gap: option('gap', 10_000),
      log,
    });
    Object.assign(json, {
      'fanout.database': fanout.database,
      'fanout.sockets': fanout.sockets,
      'fanout.recipients_per_change': fanout.recipientsPerChange,
      'fanout.p50_ms': fanout.fanout.p50,
      'fanout.p95_ms': fanout.fanout.p95,
      'fanout.p99_ms': fanout.fanout.p99,
      'fanout.deliveries_per_s': fanout.fanout.ceilingDeliveriesPerS,
      'fanout.ceiling_mutations_per_s': fanout.fanout.ceilingRate,
      'fanout.checked': fanout.fanout.checked,
      'fanout.leaks': fanout.fanout.leaks,
      'fanout.expected': fanout.fanout.expected,
      'fanout.received': fanout.fanout.received,
      'baseline.p50_ms': fanout.baseline.p50,
      'baseline.p95_ms': fanout.baseline.p95,
      'baseline.p99_ms': fanout.baseline.p99,
      'baseline.deliveries_per_s': fanout.baseline.ceilingDeliveriesPerS,
      'ratio.p99': fanout.baseline.p99 > 0 ? round(fanout.fanout.p99 / fanout.baseline.p99) : null,
      'ratio.throughput':
        fanout.baseline.ceilingDeliveriesPerS > 0
          ? round(fanout.fanout.ceilingDeliveriesPerS / fanout.baseline.ceilingDeliveriesPerS)
          : null,
      'tail.p50_ms': fanout.tail.p50,
      'tail.p99_ms': fanout.tail.p99,
      'tail.deliveries_per_s': fanout.tail.ceilingDeliveriesPerS,
      'ratio.tail_throughput':
        fanout.baseline.ceilingDeliveriesPerS > 0
          ? round(fanout.tail.ceilingDeliveriesPerS / fanout.baseline.ceilingDeliveriesPerS)
          : null,
      'revoke.p50_ms': fanout.revokeP50Ms,
      'revoke.p99_ms': fanout.revokeP99Ms,
      'resume.gap': fanout.resumeGap,
      'resume.p50_ms': fanout.resumeP50Ms,
      'resume.p99_ms': fanout.resumeP99Ms,
      'storm.sockets': fanout.stormSockets,
      'storm.converge_ms': fanout.stormConvergeMs,
      'storm.failed': fanout.stormFailed,
      'storm.refused': fanout.stormRefused,
      'baseline.storm_converge_ms': fanout.bareStormConvergeMs,
      'baseline.storm_failed': fanout.bareStormFailed,
      'baseline.resume_p50_ms': fanout.bareResumeP50Ms,
      'baseline.resume_p99_ms': fanout.bareResumeP99Ms,
      'ratio.storm':
        fanout.bareStormConvergeMs > 0
          ? round(fanout.stormConvergeMs / fanout.bareStormConvergeMs)
          : null,
      'ratio.resume_p99':
        fanout.bareResumeP99Ms > 0 ? round(fanout.resumeP99Ms / fanout.bareResumeP99Ms) : null,
    });
    if (fanout.fanout.leaks > 0) console.error(`LEAK: ${fanout.fanout.leakSample}`);
    if (!flag('json')) {
      const rate = option('rate', 100);
      const steps = (figures: typeof fanout.baseline) =>
        figures.steps.map((step) => `${step.rate}/s→p99 ${step.p99}`).join(', ');
      printTable([
        [
          `live fan-out, ${fanout.sockets} sockets (${fanout.recipientsPerChange} per change)`,
          `panel (${fanout.database})`,
          'baseline: bare Socket.IO',
          'ratio',
        ],
        [
          `p50 / p95 at ${rate} changes/s`,
          `${fanout.fanout.p50} / ${fanout.fanout.p95} ms`,
          `${fanout.baseline.p50} / ${fanout.baseline.p95} ms`,
          '',
        ],
        [
          `p99 at ${rate} changes/s`,
          `${fanout.fanout.p99} ms`,
          `${fanout.baseline.p99} ms`,
          String(json['ratio.p99']),
        ],
        [
          'highest deliveries/s with p99 ≤ 150 ms',
          `${fanout.fanout.ceilingDeliveriesPerS} (${fanout.fanout.ceilingRate} changes/s)`,
          `${fanout.baseline.ceilingDeliveriesPerS} (${fanout.baseline.ceilingRate}/s)`,
          String(json['ratio.throughput']),
        ],
        ['  steps', steps(fanout.fanout), steps(fanout.baseline), ''],
        [
          `fan-out alone (log rows written directly, no API): p50 / p99 at ${rate}/s`,
          `${fanout.tail.p50} / ${fanout.tail.p99} ms`,
          `${fanout.baseline.p50} / ${fanout.baseline.p99} ms`,
          fanout.baseline.p99 > 0 ? String(round(fanout.tail.p99 / fanout.baseline.p99)) : '',
        ],
        [
          '  highest deliveries/s with p99 ≤ 150 ms',
          `${fanout.tail.ceilingDeliveriesPerS} (${fanout.tail.ceilingRate} changes/s)`,
          `${fanout.baseline.ceilingDeliveriesPerS} (${fanout.baseline.ceilingRate}/s)`,
          String(json['ratio.tail_throughput']),
        ],
        ['  steps', steps(fanout.tail), '', ''],
        [
          'deliveries checked / leaks',
          `${fanout.fanout.checked} / ${fanout.fanout.leaks}`,
          'n/a',
          '',
        ],
        [
          'revocation: disable → sockets closed p50 / p99',
          `${fanout.revokeP50Ms} / ${fanout.revokeP99Ms} ms`,
          'n/a',
          '',
        ],
        [
          `resume after ${fanout.resumeGap} events p50 / p99 (baseline: its recovery)`,
          `${fanout.resumeP50Ms} / ${fanout.resumeP99Ms} ms`,
          `${fanout.bareResumeP50Ms} / ${fanout.bareResumeP99Ms} ms`,
          String(json['ratio.resume_p99']),
        ],
        [
          `reconnect storm: ${fanout.stormSockets} sockets back and caught up (failed)`,
          `${fanout.stormConvergeMs} ms (${fanout.stormFailed})`,
          `${fanout.bareStormConvergeMs} ms (${fanout.bareStormFailed})`,
          String(json['ratio.storm']),
        ],
      ]);
    }
  }

  if (!only || only === 'flush') {
    const flush = await benchWsFlush({
      sockets: option('flush-sockets', 200),
      emits: option('flush-emits', 2000),
      log,
    });
    for (const row of flush.rows) {
      json[`flush.plain_us_b${row.batch}`] = row.plainUsPerDelivery;
      json[`flush.whole_us_b${row.batch}`] = row.wholeUsPerDelivery;
    }
    if (!flag('json')) {
      printTable([
        [
          `a delivery's write, ${flush.sockets} WebSocket clients: server CPU (µs)`,
          'panel (whole flushes)',
          'baseline: Socket.IO as is',
          'ratio',
        ],
        ...flush.rows.map((row): [string, ...string[]] => [
          `${row.batch} packet(s) to each socket in one pass`,
          String(row.wholeUsPerDelivery),
          String(row.plainUsPerDelivery),
          String(round(row.wholeUsPerDelivery / row.plainUsPerDelivery)),
        ]),
      ]);
    }
  }

  if (!only || only === 'usage' || only === 'lag') {
    const lag = await benchBalanceLag(primary, {
      sockets: option('lag-sockets', 1000),
      // 40 admin sockets and 8 for each of 120 resellers: 1,000.
      resellers: option('lag-resellers', 120),
      accounts: option('lag-accounts', 50),
      writers: option('lag-writers', 4),
      seconds: option('lag-seconds', 10),
      log,
    });
    Object.assign(json, {
      'usage.balance_lag_sockets': lag.sockets,
      'usage.balance_lag_batches_per_s': lag.batchesPerS,
      'usage.balance_lag_moves_per_s': lag.movesPerS,
      'usage.balance_lag_p50_ms': lag.p50,
      'usage.balance_lag_p99_ms': lag.p99,
      'usage.balance_lag_missing': lag.missing,
      'usage.balance_events_per_s_max': lag.maxPerSecond,
      'usage.balance_checked': lag.checked,
      'usage.balance_leaks': lag.leaks,
    });
    if (lag.leaks > 0) console.error(`LEAK: ${lag.leakSample}`);
    if (!flag('json')) {
      printTable([
        [`balances at call rate, ${lag.sockets} sockets (${lag.database})`, 'figure', 'target'],
        [
          `POST /usage batches (${lag.batches} by ${option('lag-writers', 4)} writers, 2 calls of each of ${option('lag-accounts', 50)} customers)`,
          `${lag.batchesPerS}/s (${lag.movesPerS} balance moves/s)`,
          '',
        ],
        [
          'commit → coalesced balance event, p50 / p99',
          `${lag.p50} / ${lag.p99} ms`,
          'p99 ≤ 1500 ms',
        ],
        ['moves never shown (missing)', String(lag.missing), '0'],
        [
          'most balance events one socket received for one account within 1 s',
          String(lag.maxPerSecond),
          '≤ 2 (sent ≥ 1 s apart)',
        ],
        ['deliveries checked / leaks', `${lag.checked} / ${lag.leaks}`, '0 leaks'],
      ]);
    }
  }

  if (!only || only === 'rates') {
    const rows = option('rows', 100_000);
    const lookups = option('lookups', 1000);
    const csv = benchCsv(rows);
    const results: TRatesFigures[] = [];
    results.push(await benchRates(primary, { rows, lookups, csv }));
    if (primary.kind === 'postgresql' && !flag('no-pglite')) {
      results.push(
        await benchRates({ kind: 'pglite', source: 'TEST_DATABASE_URL' }, { rows, lookups, csv }),
      );
    }
    const [main, embedded] = results;
    Object.assign(json, {
      'rates.rows': rows,
      'rates.database': main!.database,
      'rates.import_ms': main!.importMs,
      'rates.copy_ms': main!.copyMs,
      'rates.derive_ms': main!.deriveMs,
      'rates.sql_derive_ms': main!.sqlDeriveMs,
      'rates.parent_edit_ms': main!.parentEditMs,
      'rates.patch_one_ms': main!.patchOneMs,
      // One row edited against the whole file imported: well under 1 for a merge that
      // grows with the card, not with its square.
      'ratio.patch_one': round(main!.patchOneMs / main!.importMs),
      'lookup.p50_ms': main!.lookupP50Ms,
      'lookup.p99_ms': main!.lookupP99Ms,
      'lookup.sql_p50_ms': main!.sqlLookupP50Ms,
      'lookup.sql_p99_ms': main!.sqlLookupP99Ms,
      'ratio.import': main!.copyMs ? round(main!.importMs / main!.copyMs) : null,
      'ratio.derive': main!.sqlDeriveMs ? round(main!.deriveMs / main!.sqlDeriveMs) : null,
      'lookup.statement_p50_ms': main!.statementLookupP50Ms,
      'lookup.statement_p99_ms': main!.statementLookupP99Ms,
      // Against the API's own whole statement: what the API adds to its one round trip.
      'ratio.lookup_statement_p99': main!.statementLookupP99Ms
        ? round(main!.lookupP99Ms / main!.statementLookupP99Ms)
        : null,
      'ratio.lookup_p99': main!.sqlLookupP99Ms
        ? round(main!.lookupP99Ms / main!.sqlLookupP99Ms)
        : null,
      // Issue 16: a 100k revision with one derived card against the first import (an
      // empty card, no derived card); its diff through the API against one FULL JOIN.
      'decks.schedule_ms': main!.scheduleMs,
      'decks.diff_ms': main!.diffMs,
      'decks.sql_diff_ms': main!.sqlDiffMs,
      'ratio.schedule': round(main!.scheduleMs / main!.importMs),
      'ratio.diff': round(main!.diffMs / main!.sqlDiffMs),
      'lookup.at_p50_ms': main!.lookupAtP50Ms,
      'lookup.at_p99_ms': main!.lookupAtP99Ms,
      'csv.own_ms': main!.csvOwnMs,
      'csv.csv_parse_ms': main!.csvLibraryMs,
      // What the library would add to the import, as a share of the import measured.
      'csv.csv_parse_import_pct': round(
        ((main!.csvLibraryMs - main!.csvOwnMs) / main!.importMs) * 100,
      ),
    });
    if (embedded) {
      json['pglite.rates.import_ms'] = embedded.importMs;
      json['pglite.rates.derive_ms'] = embedded.deriveMs;
      json['pglite.rates.parent_edit_ms'] = embedded.parentEditMs;
      json['pglite.lookup.p99_ms'] = embedded.lookupP99Ms;
    }
    if (!flag('json')) {
      const show = (value: number | null) => (value === null ? 'n/a' : `${value} ms`);
      printTable([
        ['rate cards', ...results.map((result) => result.database)],
        [`import ${rows} rows (CSV, API)`, ...results.map((r) => show(r.importMs))],
        ['  baseline: psql \\copy', ...results.map((r) => show(r.copyMs))],
        [`derive a ${rows}-prefix card (API)`, ...results.map((r) => show(r.deriveMs))],
        ['  baseline: one INSERT … SELECT', ...results.map((r) => show(r.sqlDeriveMs))],
        ['parent edit: re-import + recompute child', ...results.map((r) => show(r.parentEditMs))],
        ['one rate edited by hand + child (PATCH)', ...results.map((r) => show(r.patchOneMs))],
        [`lookup p50 (API, ${lookups} numbers)`, ...results.map((r) => show(r.lookupP50Ms))],
        ['lookup p99 (API)', ...results.map((r) => show(r.lookupP99Ms))],
        ['lookup p50 (its SQL alone, round trip)', ...results.map((r) => show(r.sqlLookupP50Ms))],
        ['lookup p99 (its SQL alone, round trip)', ...results.map((r) => show(r.sqlLookupP99Ms))],
        [
          "lookup p50 / p99 (the API's whole statement, round trip)",
          ...results.map(
            (r) => `${show(r.statementLookupP50Ms)} / ${show(r.statementLookupP99Ms)}`,
          ),
        ],
        [
          `schedule a ${rows}-row revision + derived (API)`,
          ...results.map((r) => show(r.scheduleMs)),
        ],
        ['diff of two revisions, every page (API)', ...results.map((r) => show(r.diffMs))],
        ['  baseline: one FULL JOIN', ...results.map((r) => show(r.sqlDiffMs))],
        [
          'lookup p50 / p99 with at= (API)',
          ...results.map((r) => `${show(r.lookupAtP50Ms)} / ${show(r.lookupAtP99Ms)}`),
        ],
        [
          'CSV parse + validate, own reader (bench process)',
          ...results.map((r) => show(r.csvOwnMs)),
        ],
        ['  the same with csv-parse', ...results.map((r) => show(r.csvLibraryMs))],
      ]);
    }
  }

  if (!only || only === 'usage') {
    const usage = await benchUsage(primary, {
      rows: option('rows', 100_000),
      batches: option('usage-batches', 6),
      records: option('usage-records', 10_000),
      customers: option('customers', 50),
      log,
    });
    Object.assign(json, {
      'usage.database': usage.database,
      'usage.records_per_batch': usage.recordsPerBatch,
      'usage.batches': usage.batches,
      'usage.rated_per_s': usage.ratedPerS,
      'usage.copy_per_s': usage.copyPerS,
      'ratio.usage_copy': usage.copyPerS ? round(usage.ratedPerS / usage.copyPerS) : null,
      'usage.batch_p50_ms': usage.batchP50Ms,
      'usage.batch_max_ms': usage.batchMaxMs,
      'usage.copy_p50_ms': usage.copyP50Ms,
      'usage.first_batch_ms': usage.firstBatchMs,
    });
    if (!flag('json')) {
      printTable([
        [
          `rating, ${usage.batches} batches of ${usage.recordsPerBatch} CDRs, 3-level chains (${usage.database})`,
          'per second',
          'batch p50 / max',
        ],
        [
          'rated and posted (POST /usage)',
          String(usage.ratedPerS),
          `${usage.batchP50Ms} / ${usage.batchMaxMs} ms`,
        ],
        [
          '  baseline: the same rows COPYed into a bare table',
          String(usage.copyPerS),
          `${usage.copyP50Ms} ms`,
        ],
        ['  ratio (target ≥ 0.25)', String(json['ratio.usage_copy']), ''],
        ['  first batch (cold, not counted)', '', `${usage.firstBatchMs} ms`],
        ['  outcomes: rated / unrated', `${usage.rated} / ${usage.unrated}`, ''],
      ]);
    }
  }

  if (!only || only === 'order') {
    const order = await benchOrder(primary, {
      writers: option('writers', 8),
      seconds: option('order-seconds', 5),
    });
    Object.assign(json, {
      'order.database': order.database,
      'order.writers': order.writers,
      'order.one_carrier_per_s': order.oneCarrierPerS,
      'order.two_carriers_per_s': order.twoCarriersPerS,
      'order.unordered_per_s': order.unorderedPerS,
      'ratio.two_carriers': order.oneCarrierPerS
        ? round(order.twoCarriersPerS / order.oneCarrierPerS)
        : null,
    });
    if (!flag('json')) {
      printTable([
        [
          `commit order, ${order.writers} writers (${order.database})`,
          'mutations/s',
          'vs one carrier',
        ],
        ['all in one carrier', String(order.oneCarrierPerS), '1'],
        [
          'split over two carriers',
          String(order.twoCarriersPerS),
          String(json['ratio.two_carriers']),
        ],
        [
          '  baseline: same rows, no ordering',
          String(order.unorderedPerS),
          String(round(order.unorderedPerS / (order.oneCarrierPerS || 1))),
        ],
      ]);
    }
  }

  if (!only || only === 'authorize') {
    const figures = await benchAuthorize(primary, {
      rate: option('authorize-rate', 1000),
      rounds: option('authorize-rounds', 10),
      rows: option('rows', 100_000),
      log,
    });
    Object.assign(json, {
      'authorize.database': figures.database,
      'authorize.rate': figures.rate,
      'authorize.achieved_per_s': figures.achievedPerS,
      'authorize.sql_achieved_per_s': figures.sqlAchievedPerS,
      'authorize.floor_achieved_per_s': figures.floorAchievedPerS,
      'authorize.floor_p50_ms': figures.floorP50Ms,
      'authorize.floor_p99_ms': figures.floorP99Ms,
      'authorize.p50_ms': figures.p50Ms,
      'authorize.p99_ms': figures.p99Ms,
      'authorize.sql_p50_ms': figures.sqlP50Ms,
      'authorize.sql_p99_ms': figures.sqlP99Ms,
      'authorize.cpu_ms': figures.cpuMs,
      'authorize.floor_cpu_ms': figures.floorCpuMs,
      'authorize.failures': figures.failures,
      'ratio.authorize_p99': figures.sqlP99Ms ? round(figures.p99Ms / figures.sqlP99Ms) : null,
      // What node:http and pg alone, sending the same statement, need beside it.
      'ratio.authorize_floor_p99': figures.sqlP99Ms
        ? round(figures.floorP99Ms / figures.sqlP99Ms)
        : null,
    });
    if (!flag('json')) {
      printTable([
        [
          `POST /authorize at ${figures.rate}/s, 4 clients (${figures.database})`,
          'API',
          'floor: node:http + pg, same SQL',
          'its statement alone',
          'ratio (API / statement)',
        ],
        ['p50', `${figures.p50Ms} ms`, `${figures.floorP50Ms} ms`, `${figures.sqlP50Ms} ms`, ''],
        [
          'p99',
          `${figures.p99Ms} ms`,
          `${figures.floorP99Ms} ms`,
          `${figures.sqlP99Ms} ms`,
          String(json['ratio.authorize_p99']),
        ],
        ['server CPU per request', `${figures.cpuMs} ms`, `${figures.floorCpuMs} ms`, '', ''],
        [
          'achieved requests/s (failures)',
          `${figures.achievedPerS} (${figures.failures})`,
          String(figures.floorAchievedPerS),
          String(figures.sqlAchievedPerS),
          '',
        ],
      ]);
    }
  }

  const workers = args.includes('--workers') ? option('workers', 2) : only === 'workers' ? 2 : 0;
  if (workers > 0 && (!only || only === 'workers')) {
    const figures = await benchWorkers(primary, {
      workers,
      sockets: option('sockets', 5000),
      resellers: option('resellers', 200),
      rate: option('rate', 100),
      seconds: option('seconds', 10),
      stepSeconds: option('step-seconds', 5),
      p99LimitMs: 150,
      log,
    });
    const first = figures.runs[0]!.figures;
    const most = figures.runs.at(-1)!;
    json['workers.sockets'] = figures.sockets;
    json['workers.recipients_per_change'] = figures.recipientsPerChange;
    for (const run of figures.runs) {
      json[`fanout.ceiling_w${run.workers}`] = run.figures.ceilingDeliveriesPerS;
      json[`fanout.ceiling_changes_w${run.workers}`] = run.figures.ceilingRate;
      json[`fanout.p99_w${run.workers}`] = run.figures.p99;
    }
    json['fanout.ceiling_baseline'] = figures.baseline.ceilingDeliveriesPerS;
    json['ratio.ceiling_workers'] =
      first.ceilingDeliveriesPerS > 0
        ? round(most.figures.ceilingDeliveriesPerS / first.ceilingDeliveriesPerS)
        : null;
    if (!flag('json')) {
      const rate = option('rate', 100);
      const steps = (load: typeof first) =>
        load.steps.map((step) => `${step.rate}/s→p99 ${step.p99}`).join(', ');
      printTable([
        [
          `fan-out by server processes, ${figures.sockets} sockets (${figures.recipientsPerChange} per change)`,
          ...figures.runs.map((run) => `WORKERS=${run.workers}`),
          'baseline: bare Socket.IO',
        ],
        [
          'highest deliveries/s with p99 ≤ 150 ms',
          ...figures.runs.map(
            (run) => `${run.figures.ceilingDeliveriesPerS} (${run.figures.ceilingRate} changes/s)`,
          ),
          `${figures.baseline.ceilingDeliveriesPerS} (${figures.baseline.ceilingRate}/s)`,
        ],
        [
          `p50 / p99 at ${rate} changes/s`,
          ...figures.runs.map((run) => `${run.figures.p50} / ${run.figures.p99} ms`),
          `${figures.baseline.p50} / ${figures.baseline.p99} ms`,
        ],
        ['  steps', ...figures.runs.map((run) => steps(run.figures)), steps(figures.baseline)],
        [
          `ceiling, ${most.workers} workers ÷ 1`,
          ...figures.runs.map(() => ''),
          String(json['ratio.ceiling_workers']),
        ],
      ]);
    }
  }
  if (flag('json')) console.log(JSON.stringify(json));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
