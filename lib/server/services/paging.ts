import { ZId } from '@/lib/shared/schemas/common';
import { invalidInput } from '@/lib/server/errors/domain-error';

/**
 * Keyset paging over (createdAt, id): stable under inserts, no OFFSET scans. The cursor
 * is opaque to clients (base64url JSON of the last row's key).
 */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | null {
  if (!cursor) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      string,
      string,
    ];
    const createdAt = new Date(at);
    // The id goes into SQL: only one this API could have given out (a uuid).
    if (Number.isNaN(createdAt.getTime()) || !ZId.safeParse(id).success) throw new Error('bad');
    return { createdAt, id };
  } catch {
    throw invalidInput({ cursor: 'is not a cursor this API gave out' });
  }
}

/** The filter that continues after a cursor, for MikroORM's `find`. */
export function afterCursor(cursor: { createdAt: Date; id: string } | null) {
  if (!cursor) return {};
  return {
    $or: [
      { createdAt: { $gt: cursor.createdAt } },
      { createdAt: cursor.createdAt, id: { $gt: cursor.id } },
    ],
  };
}

/** Given limit+1 rows, the page and the next cursor. */
export function pageOf<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
