import { isUtf8 } from 'node:buffer';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacter } from '@/lib/shared/schemas/common';
import { RATE_CSV_COLUMNS, ZRateInput, type TRateInput } from '@/lib/shared/schemas/rates';
import { csvCell, FORMULA_GUARDED } from '@/lib/server/services/csv';
import { fastRateInput } from './rate-row-fast';

/** The most refused lines a file's answer lists. */
export const CSV_REFUSALS_MAX = 1000;

export interface TCsvLineError {
  line: number;
  reason: string;
}

const REQUIRED = ['prefix', 'destination', 'rate'] as const;
const BOOLEAN: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

/**
 * Reads a rates CSV (DESIGN §3: header row, the first three columns required) as it
 * streams in, RFC 4180 quoting included, and validates every row with the API's own
 * schema. Every bad row is reported with its line number and reason; the caller writes
 * nothing unless `errors` is empty. A prefix given twice for the same effective time is
 * an error on the later line.
 */
export async function parseRatesCsv(
  chunks: AsyncIterable<string | Uint8Array>,
  limits: { maxRows: number; maxErrors?: number; maxDecimals?: number } = { maxRows: 1_000_000 },
  /** The record splitter: this module's own; the bench passes a library's to compare. */
  reader: TCsvReader = csvRecordBatches,
): Promise<{
  rows: TRateInput[];
  errors: TCsvLineError[];
  /** Each row's line by its `rateKey`: a refusal found after parsing names the line. */
  lines: Map<string, number>;
  /** The header's column names (a merge keeps the terms of those it lacks). */
  columns: string[];
}> {
  const rows: TRateInput[] = [];
  const errors: TCsvLineError[] = [];
  const maxErrors = limits.maxErrors ?? CSV_REFUSALS_MAX;
  const seen = new Map<string, number>();
  let header: string[] | null = null;

  records: for await (const batch of untilUnreadable(reader(chunks), errors)) {
    for (const { line, cells } of batch) {
      if (errors.length >= maxErrors) break records;
      if (!header) {
        header = cells.map((cell) => cell.trim());
        for (const reason of headerFaults(header, RATE_CSV_COLUMNS, REQUIRED)) {
          errors.push({ line, reason });
        }
        if (errors.length) break records;
        continue;
      }
      if (cells.length === 1 && cells[0]!.trim() === '') continue; // a blank line
      if (cells.length !== header.length) {
        errors.push({ line, reason: `has ${cells.length} cells, the header has ${header.length}` });
        continue;
      }
      if (rows.length >= limits.maxRows) {
        errors.push({ line, reason: `more than ${limits.maxRows} rows` });
        break records;
      }
      const record: Record<string, unknown> = {};
      let control: string | undefined;
      for (let index = 0; index < header.length; index++) {
        const name = header[index]!;
        // Any cell, whatever its column's own rule, before trimming (which would drop a
        // vertical tab or form feed at an edge) as the JSON API checks text.
        if (hasControlCharacter(cells[index]!)) control ??= name;
        let cell = cells[index]!.trim();
        if (cell === '') continue; // empty optional cell: the default applies
        // The export's guard against spreadsheet formulas taken off again (csvCell): a
        // card exported and imported back keeps "-France", not "'-France".
        if (name === 'destination' && FORMULA_GUARDED.test(cell)) cell = cell.slice(1);
        record[name] = name === 'blocked' ? (BOOLEAN[cell.toLowerCase()] ?? cell) : cell;
      }
      if (control !== undefined) {
        errors.push({ line, reason: `${control} ${CONTROL_CHARACTER_MESSAGE}` });
        continue;
      }
      // A plainly good row is read without the schema, exactly as it would read it
      // (rate-row-fast.ts); the schema reads the rest and says what is wrong.
      const fast = fastRateInput(record);
      const parsed = fast ? { success: true as const, data: fast } : ZRateInput.safeParse(record);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        errors.push({ line, reason: `${String(issue.path[0] ?? 'row')} ${issue.message}` });
        continue;
      }
      const finer = finerThan(parsed.data, limits.maxDecimals);
      if (finer) {
        errors.push({ line, reason: finer });
        continue;
      }
      const key = rateKey(parsed.data);
      const first = seen.get(key);
      if (first !== undefined) {
        errors.push({ line, reason: `prefix ${parsed.data.prefix} repeats line ${first}` });
        continue;
      }
      seen.set(key, line);
      rows.push(parsed.data);
    }
  }
  if (!header && !errors.length) {
    errors.push({ line: 1, reason: 'the file is empty: a header row is required' });
  }
  return { rows, errors, lines: seen, columns: header ?? [] };
}

/**
 * `batches` until one cannot be read (not UTF-8, a record without end): that one is
 * reported in `errors` with its line, and reading stops there (past it, the text would
 * be a guess).
 */
async function* untilUnreadable(
  batches: AsyncIterable<TCsvRecord[]>,
  errors: TCsvLineError[],
): AsyncGenerator<TCsvRecord[]> {
  try {
    yield* batches;
  } catch (error) {
    if (!(error instanceof CsvReadError)) throw error;
    errors.push({ line: error.line, reason: error.reason });
  }
}

/**
 * What is wrong with a CSV header, one reason per kind of fault: names not among `known`,
 * cells with no name (most often a trailing comma, which would otherwise read
 * "unknown column: " and leave the person guessing), `required` names absent, and names
 * given twice (a row would keep only the last of the repeated cells, silently).
 */
export function headerFaults(
  header: readonly string[],
  known: readonly string[],
  required: readonly string[],
): string[] {
  const unknown = header.filter((name) => name !== '' && !known.includes(name));
  const unnamed = header.flatMap((name, index) => (name === '' ? [index + 1] : []));
  const missing = required.filter((name) => !header.includes(name));
  const repeated = repeatedNames(header.filter((name) => name !== ''));
  return [
    unknown.length ? `unknown column: ${unknown.join(', ')}` : '',
    unnamed.length
      ? `${unnamed.length === 1 ? 'column' : 'columns'} ${unnamed.join(', ')} of the header ${unnamed.length === 1 ? 'has' : 'have'} no name (a trailing comma?)`
      : '',
    missing.length ? `missing column: ${missing.join(', ')}` : '',
    repeated.length ? `repeated column: ${repeated.join(', ')}` : '',
  ].filter(Boolean);
}

/** The names a CSV header gives more than once, each once. */
function repeatedNames(header: readonly string[]): string[] {
  // One pass: a header of many thousand names (nothing bounds it but the body's size)
  // must not cost a search per name.
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of header) (seen.has(name) ? repeated : seen).add(name);
  return [...repeated];
}

/** The identity of a rate row in its card: prefix and effective time (same instant, same row). */
export function rateKey(row: Pick<TRateInput, 'prefix' | 'effectiveFrom'>): string {
  return `${row.prefix}@${row.effectiveFrom ? Date.parse(row.effectiveFrom) : ''}`;
}

/** Why a row's money is finer than the card prices (the price shown is the price billed). */
export function finerThan(
  row: Pick<TRateInput, 'rate' | 'connectionFee'>,
  maxDecimals: number | undefined,
): string | null {
  if (maxDecimals === undefined) return null;
  for (const field of ['rate', 'connectionFee'] as const) {
    const decimals = significantDecimals(row[field]);
    if (decimals > maxDecimals) {
      return `${field} has ${decimals} decimals; the card prices to ${maxDecimals}`;
    }
  }
  return null;
}

export interface TCsvRecord {
  line: number;
  cells: string[];
}

/** Records in batches, each with the line it starts on. */
export type TCsvReader = (
  chunks: AsyncIterable<string | Uint8Array>,
) => AsyncIterable<TCsvRecord[]>;

/** Decimals of a plain decimal string, trailing zeros not counted (run per imported cell). */
function significantDecimals(value: string): number {
  const point = value.indexOf('.');
  if (point < 0) return 0;
  let end = value.length;
  while (end > point + 1 && value.charCodeAt(end - 1) === 48) end--;
  return end - point - 1;
}

/**
 * Splits a character stream into CSV records with the line each starts on. Quoted
 * fields may hold commas, doubled quotes and line breaks.
 */
export async function* csvRecords(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<TCsvRecord> {
  for await (const batch of csvRecordBatches(chunks)) yield* batch;
}

/**
 * A file that cannot be read on: bytes that are not UTF-8 — refused, not read as U+FFFD
 * (a Latin-1 export's "Zürich" would be imported as "Z\uFFFDrich") — or a record longer
 * than any a rate or a call makes (a quote never closed). `line` is where it starts.
 */
export class CsvReadError extends Error {
  constructor(
    readonly line: number,
    readonly reason = 'is not UTF-8 text: save the file as UTF-8 and send it again',
  ) {
    super(`line ${line} ${reason}`);
    this.name = 'CsvReadError';
  }
}

/**
 * The longest record read: a rate or a call is a few hundred characters. An unfinished
 * record is read again from its start with each chunk, so one without end (a quote never
 * closed, a line of megabytes) would cost the square of its length.
 */
export const CSV_MAX_RECORD_CHARS = 65_536;

/**
 * `csvRecords` a chunk at a time: one await per chunk, not per record (100k records
 * through an async generator cost more than splitting them). A line without a quote is
 * split as it is; a record with one goes through the quote-aware reader. Bytes must be
 * UTF-8 (`CsvReadError` otherwise); each chunk is checked up to its last whole
 * character, the rest carried to the next.
 */
export async function* csvRecordBatches(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<TCsvRecord[]> {
  const decoder = new TextDecoder();
  let carried: Uint8Array = new Uint8Array(0);
  let pending = '';
  let line = 1;
  for await (const chunk of chunks) {
    if (typeof chunk === 'string') {
      pending += chunk;
    } else {
      const bytes = carried.length ? Buffer.concat([carried, chunk]) : chunk;
      const whole = bytes.length - unfinishedTail(bytes);
      const checked = bytes.subarray(0, whole);
      if (!isUtf8(checked)) throw new CsvReadError(badLine(checked, pending, line));
      pending += decoder.decode(checked, { stream: true });
      carried = bytes.slice(whole);
    }
    const split = splitRecords(pending, line, false);
    pending = pending.slice(split.pos);
    line = split.line;
    if (split.records.length) yield split.records;
    if (pending.length > CSV_MAX_RECORD_CHARS) {
      throw new CsvReadError(
        line,
        `holds a record of more than ${CSV_MAX_RECORD_CHARS} characters: is a quote not closed?`,
      );
    }
  }
  // The body ended inside a character.
  if (carried.length) throw new CsvReadError(badLine(carried, pending, line));
  pending += decoder.decode();
  const split = splitRecords(pending, line, true);
  if (split.records.length) yield split.records;
}

/** How many bytes at the end of `bytes` start a character they do not finish (0 to 3). */
function unfinishedTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/**
 * The line of the first bad byte in `bytes`, which follow `pending` (text starting on
 * `line`). A line break is ASCII, never inside a multi-byte character, so the lines
 * before the bad one are whole and valid: they are counted as the splitter counts.
 */
function badLine(bytes: Uint8Array, pending: string, line: number): number {
  let start = 0;
  for (;;) {
    let end = start;
    while (end < bytes.length && bytes[end] !== 10 && bytes[end] !== 13) end++;
    if (end >= bytes.length || !isUtf8(bytes.subarray(start, end))) break;
    start = end + 1;
  }
  const before = pending + new TextDecoder().decode(bytes.subarray(0, start));
  return line + (before.match(/\r\n|\r|\n/g)?.length ?? 0);
}

/**
 * The whole records in `text` from its start; `pos` is where an unfinished one begins
 * (`final`: the text is all there is, so the last record ends with it). A record ends at
 * `\n`, `\r\n` or `\r` outside quotes. The next `\n` and the next `\r` are each looked
 * up once and kept until the reader passes them, so a file with only one kind of line
 * end (or none) is scanned once, not once per record.
 */
function splitRecords(
  text: string,
  startLine: number,
  final: boolean,
): { records: TCsvRecord[]; pos: number; line: number } {
  const records: TCsvRecord[] = [];
  let pos = 0;
  let line = startLine;
  let nextLf = -2;
  let nextCr = -2;
  while (pos < text.length) {
    if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf('\n', pos);
    if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf('\r', pos);
    let end: number;
    let next: number;
    if (nextCr >= 0 && (nextLf < 0 || nextCr < nextLf)) {
      // A \r at the end of the text may be the first half of \r\n: wait for the rest.
      if (nextCr + 1 === text.length && !final) break;
      end = nextCr;
      next = text.charCodeAt(nextCr + 1) === 10 ? nextCr + 2 : nextCr + 1;
    } else if (nextLf >= 0) {
      end = nextLf;
      next = nextLf + 1;
    } else {
      if (!final) break;
      end = next = text.length;
    }
    const segment = text.slice(pos, end);
    if (segment.indexOf('"') < 0) {
      records.push({ line, cells: segment.split(',') });
      line++;
      pos = next;
      continue;
    }
    const quoted = quotedRecord(text, pos, line, final);
    if (!quoted) break;
    if (quoted.record) records.push(quoted.record);
    line = quoted.line;
    pos = quoted.pos;
  }
  return { records, pos, line };
}

/** One record read character by character from `pos`; null when the text ends inside it. */
function quotedRecord(
  text: string,
  pos: number,
  startLine: number,
  final: boolean,
): { record: TCsvRecord | null; pos: number; line: number } | null {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let line = startLine;
  for (let index = pos; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"') {
        quoted = false;
        afterQuote = true;
      } else {
        if (char === '\n') line++;
        cell += char;
      }
      continue;
    }
    if (char === '"') {
      // A doubled quote inside a quoted field, or the start of one.
      if (afterQuote) cell += '"';
      quoted = true;
      afterQuote = false;
      continue;
    }
    afterQuote = false;
    if (char === ',') {
      cells.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      // A \r at the end of the text may be the first half of \r\n: wait for the rest.
      if (char === '\r' && index + 1 === text.length && !final) return null;
      cells.push(cell);
      const next = char === '\r' && text[index + 1] === '\n' ? index + 2 : index + 1;
      return { record: { line: startLine, cells }, pos: next, line: line + 1 };
    } else {
      cell += char;
    }
  }
  if (!final) return null;
  // The text ends the record; nothing but an opening quote in it is no record.
  if (cell === '' && cells.length === 0) return { record: null, pos: text.length, line };
  cells.push(cell);
  return { record: { line: startLine, cells }, pos: text.length, line };
}

/**
 * Rates as CSV with the import's columns. A cell a spreadsheet would run as a formula
 * (starting with =, +, -, @, tab or carriage return) is prefixed with a quote mark
 * (`csvCell`).
 */
export function ratesToCsv(rows: (TRateInput & { effectiveFrom?: string })[]): string {
  const lines = [RATE_CSV_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      RATE_CSV_COLUMNS.map((column) =>
        csvCell(row[column] === undefined ? '' : String(row[column])),
      ).join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}
