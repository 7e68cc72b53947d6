import { CONTROL_CHARACTER_MESSAGE, hasControlCharacter } from '@/lib/shared/schemas/common';
import { RATE_CSV_COLUMNS, ZRateInput, type TRateInput } from '@/lib/shared/schemas/rates';

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
): Promise<{ rows: TRateInput[]; errors: TCsvLineError[] }> {
  const rows: TRateInput[] = [];
  const errors: TCsvLineError[] = [];
  const maxErrors = limits.maxErrors ?? 1000;
  const seen = new Map<string, number>();
  let header: string[] | null = null;

  records: for await (const batch of reader(chunks)) {
    for (const { line, cells } of batch) {
      if (errors.length >= maxErrors) break records;
      if (!header) {
        header = cells.map((cell) => cell.trim());
        const unknown = header.filter(
          (name) => !(RATE_CSV_COLUMNS as readonly string[]).includes(name),
        );
        const missing = REQUIRED.filter((name) => !header!.includes(name));
        if (unknown.length) errors.push({ line, reason: `unknown column: ${unknown.join(', ')}` });
        if (missing.length) errors.push({ line, reason: `missing column: ${missing.join(', ')}` });
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
        const cell = cells[index]!.trim();
        if (cell === '') continue; // empty optional cell: the default applies
        record[name] = name === 'blocked' ? (BOOLEAN[cell.toLowerCase()] ?? cell) : cell;
      }
      if (control !== undefined) {
        errors.push({ line, reason: `${control} ${CONTROL_CHARACTER_MESSAGE}` });
        continue;
      }
      const parsed = ZRateInput.safeParse(record);
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
  if (!header) errors.push({ line: 1, reason: 'the file is empty: a header row is required' });
  return { rows, errors };
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
 * `csvRecords` a chunk at a time: one await per chunk, not per record (100k records
 * through an async generator cost more than splitting them). A line without a quote is
 * split as it is; a record with one goes through the quote-aware reader.
 */
export async function* csvRecordBatches(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<TCsvRecord[]> {
  const decoder = new TextDecoder();
  let pending = '';
  let line = 1;
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const split = splitRecords(pending, line, false);
    pending = pending.slice(split.pos);
    line = split.line;
    if (split.records.length) yield split.records;
  }
  pending += decoder.decode();
  const split = splitRecords(pending, line, true);
  if (split.records.length) yield split.records;
}

/**
 * The whole records in `text` from its start; `pos` is where an unfinished one begins
 * (`final`: the text is all there is, so the last record ends with it). A record ends at
 * `\n`, `\r\n` or `\r` outside quotes.
 */
function splitRecords(
  text: string,
  startLine: number,
  final: boolean,
): { records: TCsvRecord[]; pos: number; line: number } {
  const records: TCsvRecord[] = [];
  let pos = 0;
  let line = startLine;
  while (pos < text.length) {
    const newline = text.indexOf('\n', pos);
    if (newline < 0 && !final) break;
    const end = newline < 0 ? text.length : newline;
    const lineEnd = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const segment = text.slice(pos, lineEnd);
    if (segment.indexOf('"') < 0 && segment.indexOf('\r') < 0) {
      records.push({ line, cells: segment.split(',') });
      line++;
      pos = newline < 0 ? text.length : newline + 1;
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
 * (starting with =, +, -, @, tab or carriage return) is prefixed with a quote mark.
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

export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
