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
): Promise<{ rows: TRateInput[]; errors: TCsvLineError[] }> {
  const rows: TRateInput[] = [];
  const errors: TCsvLineError[] = [];
  const maxErrors = limits.maxErrors ?? 1000;
  const seen = new Map<string, number>();
  let header: string[] | null = null;

  for await (const { line, cells } of csvRecords(chunks)) {
    if (errors.length >= maxErrors) break;
    if (!header) {
      header = cells.map((cell) => cell.trim());
      const unknown = header.filter(
        (name) => !(RATE_CSV_COLUMNS as readonly string[]).includes(name),
      );
      const missing = REQUIRED.filter((name) => !header!.includes(name));
      if (unknown.length) errors.push({ line, reason: `unknown column: ${unknown.join(', ')}` });
      if (missing.length) errors.push({ line, reason: `missing column: ${missing.join(', ')}` });
      if (errors.length) break;
      continue;
    }
    if (cells.length === 1 && cells[0]!.trim() === '') continue; // a blank line
    if (cells.length !== header.length) {
      errors.push({ line, reason: `has ${cells.length} cells, the header has ${header.length}` });
      continue;
    }
    if (rows.length >= limits.maxRows) {
      errors.push({ line, reason: `more than ${limits.maxRows} rows` });
      break;
    }
    const record: Record<string, unknown> = {};
    header.forEach((name, index) => {
      const cell = cells[index]!.trim();
      if (cell === '') return; // empty optional cell: the default applies
      record[name] = name === 'blocked' ? (BOOLEAN[cell.toLowerCase()] ?? cell) : cell;
    });
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
    const decimals = (row[field].split('.')[1] ?? '').replace(/0+$/, '').length;
    if (decimals > maxDecimals) {
      return `${field} has ${decimals} decimals; the card prices to ${maxDecimals}`;
    }
  }
  return null;
}

/**
 * Splits a character stream into CSV records with the line each starts on. Quoted
 * fields may hold commas, doubled quotes and line breaks.
 */
export async function* csvRecords(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<{ line: number; cells: string[] }> {
  const decoder = new TextDecoder();
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let line = 1;
  let startLine = 1;
  let pendingCr = false;
  let any = false;
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const char of text) {
      any = true;
      if (pendingCr) {
        pendingCr = false;
        if (char === '\n') continue;
      }
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
        cells.push(cell);
        yield { line: startLine, cells };
        cells = [];
        cell = '';
        line++;
        startLine = line;
        pendingCr = char === '\r';
      } else {
        cell += char;
      }
    }
  }
  if (any && (cell !== '' || cells.length > 0)) {
    cells.push(cell);
    yield { line: startLine, cells };
  }
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
