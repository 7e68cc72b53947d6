import { isInstantKey } from '@/lib/server/services/paging';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { TActor } from '@/lib/server/authz/actor';
import { invalidInput } from '@/lib/server/errors/domain-error';
import { money } from '@/lib/shared/pricing/money';
import type { TRateDto, ZRatesListQuery } from '@/lib/shared/schemas/rates';
import type { TPage } from '@/lib/shared/schemas/common';
import { findCardForRates } from './rate-access';

/** A row of the live set (the `rate` view, Migration20261220100000). */
export interface TRateRow {
  prefix: string;
  destination: string;
  rate: string;
  connection_fee: string;
  initial_increment: number;
  increment: number;
  grace_seconds: number;
  effective_from: Date | null;
  blocked: boolean;
  overridden: boolean;
  losing: boolean;
  minimum_seconds: number;
  priced_by: string | null;
}

/** A stored row as the API shows it: money at the card's precision. */
export function toRateDto(
  row: TRateRow,
  card: { decimals: number; derived: boolean; severalParents?: boolean },
  ownerView: boolean,
): TRateDto {
  return {
    id: rateRowId(row),
    prefix: row.prefix,
    destination: row.destination,
    rate: money(row.rate).toFixed(card.decimals),
    connectionFee: money(row.connection_fee).toFixed(card.decimals),
    initialIncrement: row.initial_increment,
    increment: row.increment,
    graceSeconds: row.grace_seconds,
    effectiveFrom: row.effective_from ? new Date(row.effective_from).toISOString() : null,
    blocked: row.blocked,
    ...(ownerView && card.derived ? { overridden: row.overridden, losing: row.losing } : {}),
    ...(row.minimum_seconds ? { minimumSeconds: row.minimum_seconds } : {}),
    ...(ownerView && card.severalParents ? { pricedBy: row.priced_by } : {}),
  };
}

/**
 * A row's id: its key in the card's set, the prefix and, when dated, its effective time
 * (`4420@2027-01-01T00:00:00.000Z`) — the same row keeps it from one revision to the next.
 */
function rateRowId(row: Pick<TRateRow, 'prefix' | 'effective_from'>): string {
  return row.effective_from
    ? `${row.prefix}@${new Date(row.effective_from).toISOString()}`
    : row.prefix;
}

/**
 * The rows after a cursor's key, in (prefix, effective time) order, and its parameters.
 * The bare `prefix >= ?` lets the history's (card, prefix) index start the scan at the
 * cursor: it cannot from the row comparison, whose second member is an expression.
 */
export function afterRateKey(prefix: string, at: string | Date | null): [string, unknown[]] {
  return [
    `prefix >= ? and (prefix, coalesce(effective_from, '-infinity'::timestamptz))
       > (?, coalesce(?::timestamptz, '-infinity'::timestamptz))`,
    [prefix, prefix, at instanceof Date ? at.toISOString() : at],
  ];
}

/** Keyset over (prefix, effective time): the live set's own order. */
export function encodeRateCursor(row: Pick<TRateRow, 'prefix' | 'effective_from'>): string {
  return Buffer.from(
    JSON.stringify([
      row.prefix,
      row.effective_from ? new Date(row.effective_from).toISOString() : null,
    ]),
  ).toString('base64url');
}

export function decodeRateCursor(cursor: string): [string, string | null] {
  try {
    const [prefix, at] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (typeof prefix !== 'string' || !/^\d{1,20}$/.test(prefix)) throw new Error('bad');
    if (at !== null && (typeof at !== 'string' || !isInstantKey(at))) {
      throw new Error('bad');
    }
    return [prefix, at as string | null];
  } catch {
    throw invalidInput({ cursor: 'is not a cursor this API gave out' });
  }
}

/**
 * `GET /cards/{id}/rates`: paged in prefix order, `prefix=44` for rows starting with 44.
 * An assignee sees the rates of a card assigned to it (its buy price) and nothing of
 * the margin.
 */
export async function listRates(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  query: z.infer<typeof ZRatesListQuery>,
): Promise<TPage<TRateDto>> {
  const { card, relation } = await findCardForRates(em, actor, unverifiedCardId);
  const ownerView = relation === 'owner';
  const filters = ['card_id = ?'];
  const params: unknown[] = [card.id];
  if (query.prefix) {
    // The range lets the (card_id, prefix) index serve it under any collation: every
    // digit string starting with P lies between P and P followed by nines.
    filters.push('prefix between ? and ? and prefix like ?');
    params.push(query.prefix, query.prefix.padEnd(20, '9'), `${query.prefix}%`);
  }
  if (query.losing === 'true' && ownerView) filters.push('losing');
  if (query.cursor) {
    const [after, afterParams] = afterRateKey(...decodeRateCursor(query.cursor));
    filters.push(after);
    params.push(...afterParams);
  }
  params.push(query.limit + 1);
  const rows = await em.execute<TRateRow[]>(
    `select * from rate where ${filters.join(' and ')}
      order by prefix, coalesce(effective_from, '-infinity'::timestamptz)
      limit ?`,
    params,
  );
  const items = rows.slice(0, query.limit);
  const shape = {
    decimals: card.decimals,
    derived: Boolean(card.parent),
    severalParents: Boolean(card.moreParents?.length),
  };
  return {
    items: items.map((row) => toRateDto(row, shape, ownerView)),
    nextCursor: rows.length > query.limit ? encodeRateCursor(items.at(-1)!) : null,
  };
}
