import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { Card } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { cardScopeSql, ownedCardSql, type TCardRelation } from '@/lib/server/authz/card-relation';
import { escapeLike } from '@/lib/server/authz/scope';
import { decodeKeyCursor, keyPageOf } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import type { TCardDto, ZCardListQuery } from '@/lib/shared/schemas/cards';
import { toCardDto } from './card-store';

/** The sort keys as SQL: the column, and the cast a cursor's text is compared as. */
const SORTS = {
  name: { column: 'c.name', cast: 'text' },
  createdAt: { column: 'c.created_at', cast: 'timestamptz' },
} as const;

/**
 * A page's cards carry their markup rules and overrides whole (up to 10,000 of each: a
 * card's item is then ~1.3 MB), so a page holds at most this many of them all told and
 * ends early past it (at least one card; `nextCursor` goes on): fifty such cards made a
 * 64 MB page, five hundred would take the process down for every tenant.
 */
export const CARD_PAGE_ENTRIES = 50_000;

/**
 * Cards the actor sees, oldest first (or by `sort`), with the total matching in scope: those owned in its subtree (full view) and those
 * assigned to its own account (assignee view). `kind` is relative to the viewer: an
 * assigned card is one of its provider cards (DESIGN §1 "Reseller mode").
 */
export async function listCards(
  em: EntityManager,
  actor: TActor,
  query: z.infer<typeof ZCardListQuery>,
): Promise<TPage<TCardDto>> {
  assertCan(actor, 'cards:read');
  const scope = cardScopeSql(actor);
  const filters = [scope.where];
  const params: unknown[] = [...scope.relationParams, ...scope.params];
  const owned = ownedCardSql(actor);
  if (query.kind === 'customer') {
    filters.push(`c.kind = 'customer' and ${owned.sql}`);
    params.push(...owned.params);
  } else if (query.kind === 'provider') {
    // Its own provider cards, and every card assigned to it.
    filters.push(`(c.kind = 'provider' and ${owned.sql}) or not ${owned.sql}`);
    params.push(...owned.params, ...owned.params);
  }
  if (query.relation) {
    filters.push(query.relation === 'owner' ? owned.sql : `not ${owned.sql}`);
    params.push(...owned.params);
  }
  if (query.ownerId) {
    filters.push('c.owner_id = ?');
    params.push(query.ownerId);
  }
  if (query.q) {
    filters.push(`c.name ilike ?`);
    params.push(`%${escapeLike(query.q)}%`);
  }
  const where = filters.map((filter) => `(${filter})`).join(' and ');
  const [counted] = await em.execute<{ total: string }[]>(
    `select count(*) as total from card c join account o on o.id = c.owner_id where ${where}`,
    params.slice(scope.relationParams.length),
  );
  const { key, dir } = sortOf(query.sort, 'createdAt');
  const sort = { name: query.sort ?? 'createdAt', dir };
  const { column, cast } = SORTS[key];
  const cursor = decodeKeyCursor(query.cursor, sort, {
    value: cast === 'timestamptz' ? 'time' : 'text',
  });
  const keyset = cursor
    ? ` and (${column}, c.id) ${dir === 'asc' ? '>' : '<'} (?::${cast}, ?::uuid)`
    : '';
  const rows = await em.execute<
    { id: string; relation: TCardRelation; entries: number; name: string; created_at: Date }[]
  >(
    `select c.id, ${scope.relation} as relation, c.name, c.created_at,
            coalesce(jsonb_array_length(c.rules), 0)
              + coalesce(jsonb_array_length(c.overrides), 0) as entries
       from card c join account o on o.id = c.owner_id
      where ${where}${keyset}
      order by ${column} ${dir}, c.id ${dir}
      limit ?`,
    [...params, ...(cursor ? [cursor.value, cursor.id] : []), query.limit + 1],
  );
  // Cut where the rules and overrides pass the page's bound: only those cards are loaded.
  let limit = query.limit;
  let entries = 0;
  for (const [index, row] of rows.slice(0, query.limit).entries()) {
    entries += Number(row.entries);
    if (index > 0 && entries > CARD_PAGE_ENTRIES) {
      limit = index;
      break;
    }
  }
  // The page and its cursor from the rows read by key: a card deleted before its entity
  // is loaded is left out, and the page still goes on past it.
  const page = keyPageOf(rows, limit, sort, (row) =>
    key === 'name' ? row.name : new Date(row.created_at).toISOString(),
  );
  const cards = new Map(
    (
      await em.find(Card, { id: { $in: page.items.map((row) => row.id) } }, { populate: ['owner'] })
    ).map((card) => [card.id, card]),
  );
  return {
    items: page.items.flatMap((row) => {
      const card = cards.get(row.id);
      return card ? [toCardDto(card, row.relation)] : [];
    }),
    nextCursor: page.nextCursor,
    total: Number(counted?.total ?? 0),
  };
}
