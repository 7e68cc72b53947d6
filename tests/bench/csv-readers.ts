import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import {
  csvRecordBatches,
  parseRatesCsv,
  type TCsvReader,
  type TCsvRecord,
} from '@/lib/server/services/rates/rates-csv';

/**
 * Issue 14 item 8: the maintained CSV reader (`csv-parse`) against the import's own
 * splitter, each feeding the same validation (`parseRatesCsv`) with the same file in
 * 64 KiB chunks, in the bench's own process. The import keeps its own reader while the
 * library makes the whole import more than 20% slower.
 */
export const csvParseReader: TCsvReader = async function* (chunks) {
  const parser = Readable.from(chunks).pipe(
    parse({
      relax_column_count: true,
      // The line a record starts on, as the import reports it: where it ends, less the
      // line breaks inside its quoted cells.
      on_record: (cells: string[], context: { lines: number }) =>
        ({
          line: context.lines - cells.reduce((sum, cell) => sum + newlines(cell), 0),
          cells,
        }) satisfies TCsvRecord as unknown as string[],
    }),
  );
  let batch: TCsvRecord[] = [];
  for await (const record of parser as AsyncIterable<TCsvRecord>) {
    batch.push(record);
    if (batch.length === 2000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
};

function newlines(cell: string): number {
  let count = 0;
  for (let index = cell.indexOf('\n'); index >= 0; index = cell.indexOf('\n', index + 1)) count++;
  return count;
}

/** Median parse-and-validate time of each reader over `rounds` alternating runs. */
export async function compareCsvReaders(csv: string, rounds = 3) {
  const bytes = Buffer.from(csv);
  const chunks = async function* () {
    for (let start = 0; start < bytes.length; start += 65536)
      yield bytes.subarray(start, start + 65536);
  };
  const time = async (reader: TCsvReader) => {
    const started = performance.now();
    const parsed = await parseRatesCsv(chunks(), { maxRows: 1_000_000, maxDecimals: 6 }, reader);
    if (parsed.errors.length) throw new Error(`csv: ${JSON.stringify(parsed.errors[0])}`);
    return performance.now() - started;
  };
  const own: number[] = [];
  const library: number[] = [];
  for (let round = 0; round < rounds; round++) {
    own.push(await time(csvRecordBatches));
    library.push(await time(csvParseReader));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  return { ownMs: median(own), libraryMs: median(library) };
}
