import { chooseTestDatabase } from '../fixtures/test-database';
import { benchCsv, benchRates, type TRatesFigures } from './rates-bench';

/**
 * `npm run bench` (`-- --json` for one JSON object; `--rows N`, `--lookups N`,
 * `--no-pglite`). Figures against the production build on real PostgreSQL, PGlite as a
 * second row, each with its baseline measured in the same run.
 */
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};

async function main() {
  const rows = option('rows', 100_000);
  const lookups = option('lookups', 1000);
  const csv = benchCsv(rows);
  const results: TRatesFigures[] = [];
  const primary = await chooseTestDatabase();
  results.push(await benchRates(primary, { rows, lookups, csv }));
  if (primary.kind === 'postgresql' && !flag('no-pglite')) {
    results.push(
      await benchRates({ kind: 'pglite', source: 'TEST_DATABASE_URL' }, { rows, lookups, csv }),
    );
  }

  if (flag('json')) {
    const [main, embedded] = results;
    const json: Record<string, number | string | null> = {
      'rates.rows': rows,
      'rates.database': main!.database,
      'rates.import_ms': main!.importMs,
      'rates.copy_ms': main!.copyMs,
      'rates.derive_ms': main!.deriveMs,
      'rates.sql_derive_ms': main!.sqlDeriveMs,
      'rates.parent_edit_ms': main!.parentEditMs,
      'lookup.p50_ms': main!.lookupP50Ms,
      'lookup.p99_ms': main!.lookupP99Ms,
      'lookup.sql_p50_ms': main!.sqlLookupP50Ms,
      'lookup.sql_p99_ms': main!.sqlLookupP99Ms,
    };
    if (embedded) {
      json['pglite.rates.import_ms'] = embedded.importMs;
      json['pglite.rates.derive_ms'] = embedded.deriveMs;
      json['pglite.rates.parent_edit_ms'] = embedded.parentEditMs;
      json['pglite.lookup.p99_ms'] = embedded.lookupP99Ms;
    }
    console.log(JSON.stringify(json));
    return;
  }
  const show = (value: number | null) => (value === null ? 'n/a' : `${value} ms`);
  const table: [string, ...string[]][] = [
    ['', ...results.map((result) => result.database)],
    [`import ${rows} rows (CSV, API)`, ...results.map((r) => show(r.importMs))],
    ['  baseline: psql \\copy', ...results.map((r) => show(r.copyMs))],
    [`derive a ${rows}-prefix card (API)`, ...results.map((r) => show(r.deriveMs))],
    ['  baseline: one INSERT … SELECT', ...results.map((r) => show(r.sqlDeriveMs))],
    ['parent edit: re-import + recompute child', ...results.map((r) => show(r.parentEditMs))],
    [`lookup p50 (API, ${lookups} numbers)`, ...results.map((r) => show(r.lookupP50Ms))],
    ['lookup p99 (API)', ...results.map((r) => show(r.lookupP99Ms))],
    ['lookup p50 (its SQL alone, round trip)', ...results.map((r) => show(r.sqlLookupP50Ms))],
    ['lookup p99 (its SQL alone, round trip)', ...results.map((r) => show(r.sqlLookupP99Ms))],
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table)
    console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
