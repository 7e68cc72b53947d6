import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { directQuery, isPostgresServer, pgArray } from './direct-query';

export type TStagedValue = string | number | boolean | null;

/**
 * Rows computed in the process written into `table` in one go: by COPY FROM STDIN on
 * PostgreSQL (the floor of what it can take in: no statement text, no parameters to
 * parse), else — the embedded database takes no COPY from a client — one insert from an
 * `unnest` of a typed array per column. `columns` are `[name, SQL type]`, each row's
 * values in that order. Inside the caller's transaction (its connection).
 */
export async function copyRows(
  tx: EntityManager,
  table: string,
  columns: readonly (readonly [string, string])[],
  rows: readonly (readonly TStagedValue[])[],
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a table name: ${table}`);
  if (rows.length === 0) return;
  const names = columns.map(([name]) => name).join(', ');
  const trx = tx.getTransactionContext<Knex.Transaction>();
  if (!trx) throw new Error('copyRows runs inside a transaction');
  const connection = (await trx.client.acquireConnection()) as pg.ClientBase;
  if (await isPostgresServer(connection)) {
    const sink = connection.query(copyFrom(`copy ${table} (${names}) from stdin`));
    try {
      await pipeline(Readable.from(copyText(rows)), sink);
    } catch (error) {
      throw tx.getDriver().convertException(error as Error);
    }
    return;
  }
  await directQuery(
    tx,
    `insert into ${table} (${names})
     select * from unnest(${columns.map(([, type]) => `?::${type}[]`).join(', ')})`,
    columns.map((_, column) =>
      pgArray(
        rows.map((row) => {
          const value = row[column]!;
          return typeof value === 'boolean' ? String(value) : value;
        }),
      ),
    ),
  );
}

/** COPY's text format, a few thousand lines a chunk. */
function* copyText(rows: readonly (readonly TStagedValue[])[]): Generator<string> {
  let chunk = '';
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    for (let column = 0; column < row.length; column++) {
      if (column) chunk += '\t';
      chunk += copyCell(row[column]!);
    }
    chunk += '\n';
    if (index % 4000 === 3999) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

function copyCell(value: TStagedValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (char) => COPY_ESCAPES[char]!)
    : value;
}
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};
