/**
 * CSV downloads: one cell rule and one way of streaming a list in batches, shared by the
 * rates, account, audit and ledger exports.
 */

/** A cell `csvCell` guarded: its apostrophe, then what a spreadsheet would read as a formula. */
export const FORMULA_GUARDED = /^'[=+\-@\t\r']/;

/**
 * One CSV cell, quoted as needed and neutralized against formulas. A plain decimal such as
 * a negative balance (`-12.500000`) is only a number to a spreadsheet, not a formula: it
 * stays as it is, so the column still reads and sums as numbers.
 */
export function csvCell(value: string): string {
  // A leading apostrophe is guarded too, so that import taking one off a guarded cell
  // (FORMULA_GUARDED) is always the exact inverse: "'-Special" comes back as it was.
  const formula = /^[=+\-@\t\r']/.test(value) && !/^-?\d+(\.\d+)?$/.test(value);
  const safe = formula ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * How a download is read: `stillAllowed` is asked before each batch and throws when its
 * reader may no longer read (the route passes the door's check of its credential,
 * auth/door.ts `assertStillAdmitted`); `batch` is the rows a batch holds (tests page with
 * a few).
 */
export interface TDownload {
  stillAllowed: () => Promise<void>;
  batch?: number;
}

/** One row as a CSV line: the named fields in order, absent ones empty. */
export function csvLine(columns: readonly string[], row: Record<string, unknown>): string {
  return columns.map((column) => csvCell(String(row[column] ?? ''))).join(',');
}

/**
 * A CSV download read a batch at a time: the header, then whatever `next` returns until
 * it returns null (an empty batch is skipped, not the end). Nothing is read before the
 * client asks for it, so a long export holds one batch in memory. `stillAllowed` ends a
 * download whose reader lost its access meanwhile (the connection is cut: a failed
 * download, never a file that looks whole).
 */
export function csvStream(
  columns: readonly string[],
  next: () => Promise<Record<string, unknown>[] | null>,
  /** Asked before each batch: throws when the reader may no longer read (the file ends). */
  stillAllowed?: () => Promise<void>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(columns.join(',') + '\r\n'));
          return;
        }
        for (;;) {
          await stillAllowed?.();
          const rows = await next();
          if (rows === null) {
            controller.close();
            return;
          }
          if (!rows.length) continue;
          const text = rows.map((row) => csvLine(columns, row)).join('\r\n');
          controller.enqueue(encoder.encode(text + '\r\n'));
          return;
        }
      },
      // Nothing read ahead of the client: each batch is read (and its reader's access asked)
      // when the client takes the one before.
    },
    new CountQueuingStrategy({ highWaterMark: 0 }),
  );
}

/** The headers of a CSV download named `filename` (its characters already safe). */
export function csvHeaders(filename: string): HeadersInit {
  return {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${filename}"`,
    'cache-control': 'no-store',
  };
}
