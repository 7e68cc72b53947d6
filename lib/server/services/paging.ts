import { QueryOrder, type QueryOrderMap } from '@mikro-orm/core';
import { hasControlCharacter, isStorableInstant, ZId } from '@/lib/shared/schemas/common';
import { invalidInput } from '@/lib/server/errors/domain-error';

/** A uuid, the row key of most lists. */
export const isUuid = (id: unknown): boolean => ZId.safeParse(id).success;

/**
 * A text sort value as `keyPageOf` wrote it: the column's text, which the panel takes
 * without control characters (`ZText`). PostgreSQL cannot even compare a NUL.
 */
export const isTextKey = (value: string): boolean => !hasControlCharacter(value);

/**
 * A timestamp as a cursor holds it (`toISOString`, in the range the panel stores): any
 * other text would reach the query as an Invalid Date or a year PostgreSQL refuses.
 */
export const isInstantKey = (value: string): boolean =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value) &&
  isStorableInstant(value) &&
  new Date(value).toISOString() === value;

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
      unknown,
      unknown,
    ];
    // Both go into SQL: only what this API could have given out.
    if (typeof at !== 'string' || !isInstantKey(at) || !isUuid(id)) throw new Error('bad');
    return { createdAt: new Date(at), id: id as string };
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

/**
 * Keyset paging under a sort: the cursor carries the sort it was made under, the last
 * row's sort value and its id, so the next page starts exactly after it whatever the
 * column (ties broken by id). A cursor made under another sort is refused (400), never
 * read as a position it is not.
 */
export interface TKeySort {
  /** The sort's name as the client gave it (`name`, `-name`). */
  name: string;
  dir: 'asc' | 'desc';
}

export interface TKeyCursor {
  value: string | null;
  id: string;
}

export function encodeKeyCursor(sort: TKeySort, value: string | null, id: string): string {
  return Buffer.from(JSON.stringify([sort.name, value, id])).toString('base64url');
}

/**
 * What a sort's value is, as the cursor holds it: `time` (a timestamp column, as
 * `toISOString` wrote it), `decimal` (a numeric column, as PostgreSQL wrote it) or `text`.
 */
export type TKeyValue = 'time' | 'decimal' | 'text';

const VALUE_CHECKS: Record<TKeyValue, (value: string) => boolean> = {
  time: isInstantKey,
  decimal: (value) => /^-?\d{1,13}(\.\d{1,6})?$/.test(value),
  text: isTextKey,
};

/**
 * A list's cursor read back. The sort's value and the row key both go into SQL: only what
 * this API could have given out — a value of the sort's kind (`value`), a row key `isId`
 * says is one (a uuid; the audit's is its position) — else 400 naming `cursor`.
 */
export function decodeKeyCursor(
  cursor: string | undefined,
  sort: TKeySort,
  options: { value?: TKeyValue; isId?: (id: unknown) => boolean } = {},
): TKeyCursor | null {
  if (!cursor) return null;
  const isValue = VALUE_CHECKS[options.value ?? 'text'];
  const isId = options.isId ?? isUuid;
  try {
    const [name, value, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
      unknown,
    ];
    if (name !== sort.name) throw new Error('another sort');
    if (value !== null && (typeof value !== 'string' || !isValue(value))) {
      throw new Error('bad value');
    }
    if (!isId(id)) throw new Error('bad id');
    return { value, id: id as string };
  } catch {
    throw invalidInput({ cursor: 'is not a cursor this API gave out for this sort' });
  }
}

/**
 * MikroORM filter continuing after `cursor` in `field`'s order, then id's. NULLs sort as
 * PostgreSQL puts them (last ascending, first descending: `orderByKey`), so a nullable
 * column (a customer's email) pages through its NULLs too. `read` turns the cursor's
 * text back into the column's type (a Date for a timestamp).
 */
export function afterKey(
  field: string,
  sort: TKeySort,
  cursor: TKeyCursor | null,
  read: (value: string) => unknown = (value) => value,
): Record<string, unknown> {
  if (!cursor) return {};
  const beyond = sort.dir === 'asc' ? '$gt' : '$lt';
  if (cursor.value === null) {
    const sameNull = { [field]: null, id: { [beyond]: cursor.id } };
    // Ascending, NULLs are last: only NULLs remain. Descending, they come first.
    return sort.dir === 'asc' ? sameNull : { $or: [sameNull, { [field]: { $ne: null } }] };
  }
  const value = read(cursor.value);
  const branches: Record<string, unknown>[] = [
    { [field]: { [beyond]: value } },
    { [field]: value, id: { [beyond]: cursor.id } },
  ];
  if (sort.dir === 'asc') branches.push({ [field]: null });
  return { $or: branches };
}

/** The MikroORM `orderBy` matching `afterKey` (typed for any entity with those fields). */
export function orderByKey<T>(field: string, sort: TKeySort): QueryOrderMap<T> {
  return (sort.dir === 'asc'
    ? { [field]: QueryOrder.ASC_NULLS_LAST, id: QueryOrder.ASC }
    : { [field]: QueryOrder.DESC_NULLS_FIRST, id: QueryOrder.DESC }) as unknown as QueryOrderMap<T>;
}

/** Given limit+1 rows, the page and the cursor after it, under `sort`. */
export function keyPageOf<T extends { id: string }>(
  rows: T[],
  limit: number,
  sort: TKeySort,
  keyOf: (row: T) => string | null,
) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeKeyCursor(sort, keyOf(last), last.id) : null,
  };
}

/**
 * A list's time window on `column` as SQL conditions: `from` inclusive, `to` exclusive
 * (the query strings' own rule, for the audit, a ledger, calls and their summary), or
 * none for a bound not given.
 */
export function windowSql(
  column: string,
  window: { from?: string; to?: string },
): { conditions: string[]; params: Date[] } {
  const conditions: string[] = [];
  const params: Date[] = [];
  if (window.from) {
    conditions.push(`${column} >= ?::timestamptz`);
    params.push(new Date(window.from));
  }
  if (window.to) {
    conditions.push(`${column} < ?::timestamptz`);
    params.push(new Date(window.to));
  }
  return { conditions, params };
}
