import { ApiError } from './errors';
import { readBytesLimited, readTextLimited, USAGE_BODY_LIMIT } from './body-limit';
import { parseBody } from './handler';
import { invalidInput } from '@/lib/server/errors/domain-error';
import {
  CsvReadError,
  csvRecordBatches,
  headerFaults,
} from '@/lib/server/services/rates/rates-csv';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacter } from '@/lib/shared/schemas/common';
import {
  USAGE_CSV_COLUMNS,
  USAGE_MAX_RECORDS,
  ZUsagePost,
  ZUsageRecordInput,
  type TUsageRecordInput,
} from '@/lib/shared/schemas/usage';

/** At most this many bad fields are named in one 400 (a broken export has thousands). */
const MAX_FIELDS = 100;

/**
 * The call records of a `POST /usage` body: JSON (`{records}`) or `text/csv` (a header
 * row naming `USAGE_CSV_COLUMNS`), validated by the same record schema. A bad record is
 * a 400 naming each bad field as `records.<index>.<field>` (the index counts records from
 * 0, in the body's order); more than `USAGE_MAX_RECORDS` is 413 `too_many_records`.
 */
export async function readUsageRecords(req: Request): Promise<TUsageRecordInput[]> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // The CSV as bytes: only the reader can tell text that is not UTF-8 (text would hold U+FFFD).
  if (type === 'text/csv') return parseUsageCsv(await readBytesLimited(req, USAGE_BODY_LIMIT));
  const text = await readTextLimited(req, USAGE_BODY_LIMIT);
  if (type !== 'application/json') {
    throw new ApiError(415, 'unsupported_media_type', 'Send the records as JSON or text/csv.', {
      fields: { 'content-type': 'must be application/json or text/csv' },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidInput({ body: 'must be a JSON object' });
  }
  const records = (value as { records?: unknown } | null)?.records;
  if (Array.isArray(records) && records.length > USAGE_MAX_RECORDS) throw tooMany();
  return parseBody(value, ZUsagePost).records;
}

async function* once(body: string | Uint8Array): AsyncIterable<string | Uint8Array> {
  yield body;
}

function tooMany(): ApiError {
  return new ApiError(
    413,
    'too_many_records',
    `A request holds at most ${USAGE_MAX_RECORDS} call records; send the rest in another.`,
    { fields: { records: `must hold at most ${USAGE_MAX_RECORDS} records` } },
  );
}

/**
 * The CSV form: every row checked, every bad field named (up to `MAX_FIELDS`). Bytes that
 * are not UTF-8 are a 400 naming `body` and the line.
 */
export async function parseUsageCsv(body: string | Uint8Array): Promise<TUsageRecordInput[]> {
  try {
    return await readUsageCsv(body);
  } catch (error) {
    if (!(error instanceof CsvReadError)) throw error;
    throw invalidInput({ body: `${error.reason} (line ${error.line})` });
  }
}

async function readUsageCsv(body: string | Uint8Array): Promise<TUsageRecordInput[]> {
  const records: TUsageRecordInput[] = [];
  const fields: Record<string, string> = {};
  let bad = 0;
  let count = 0;
  let header: string[] | null = null;
  for await (const batch of csvRecordBatches(once(body))) {
    // A bad record ends that record's checks, not its batch's: every record is checked.
    rows: for (const { line, cells } of batch) {
      if (!header) {
        header = cells.map((cell) => cell.trim());
        const faults = headerFaults(header, USAGE_CSV_COLUMNS, USAGE_CSV_COLUMNS);
        if (faults.length) throw invalidInput({ header: faults.join('; ') });
        continue;
      }
      if (cells.length === 1 && cells[0]!.trim() === '') continue; // a blank line
      const index = count++;
      if (index >= USAGE_MAX_RECORDS) throw tooMany();
      if (bad >= MAX_FIELDS) continue; // only counted now, for the limit
      const at = `records.${index}`;
      if (cells.length !== header.length) {
        fields[at] = `has ${cells.length} cells, the header has ${header.length} (line ${line})`;
        bad++;
        continue rows;
      }
      const record: Record<string, unknown> = {};
      for (let column = 0; column < header.length; column++) {
        const name = header[column]!;
        const cell = cells[column]!;
        if (hasControlCharacter(cell)) {
          fields[`${at}.${name}`] = `${CONTROL_CHARACTER_MESSAGE} (line ${line})`;
          bad++;
          continue rows;
        }
        record[name] = name === 'seconds' && /^\s*\d+\s*$/.test(cell) ? Number(cell) : cell.trim();
      }
      const parsed = ZUsageRecordInput.safeParse(record);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const key = `${at}.${String(issue.path[0] ?? 'record')}`;
          fields[key] ??= `${issue.message} (line ${line})`;
        }
        bad++;
        continue;
      }
      records.push(parsed.data);
    }
  }
  if (!header) throw invalidInput({ body: 'is empty: a header row is required' });
  if (bad) throw invalidInput(fields);
  if (records.length === 0) throw invalidInput({ records: 'must hold at least one record' });
  return records;
}
