import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { Card } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { cardScopeSql, ownedCardSql, type TCardRelation } from '@/lib/server/authz/card-relation';
import { escapeLike } from '@/lib/server/authz/scope';
import { decodeCursor, pageOf } from '@/lib/server/services/paging';
import type { TPage } from '@/lib/shared/schemas/common';
import type { TCardDto, ZCardListQuery } from '@/lib/shared/schemas/cards';
import { toCardDto } from './card-store';

/**
 * Cards the actor sees, oldest first: those owned in its subtree (full view) and those
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
  if (query.ownerId) {
    filters.push('c.owner_id = ?');
    params.push(query.ownerId);
  }
  if (query.q) {
    filters.push(`c.name ilike ?`);
    params.push(`%${escapeLike(query.q)}%`);
  }
  const cursor = decodeCursor(query.cursor);
  if (cursor) {
    filters.push('(c.created_at, c.id) > (?, ?)');
    params.push(cursor.createdAt, cursor.id);
  }
  params.push(query.limit + 1);
  const rows = await em.execute<{ id: string; relation: TCardRelation }[]>(
    `select c.id, ${scope.relation} as relation
       from card c join account o on o.id = c.owner_id
      where ${filters.map((filter) => `(${filter})`).join(' and ')}
      order by c.created_at, c.id
      limit ?`,
    params,
  );
  const cards = new Map(
    (await em.find(Card, { id: { $in: rows.map((row) => row.id) } }, { populate: ['owner'] })).map(
      (card) => [card.id, card],
    ),
  );
  const page = pageOf(
    rows
      // A card deleted between the two reads is simply not listed.
      .flatMap((row) => {
        const card = cards.get(row.id);
        return card ? [{ card, relation: row.relation }] : [];
      })
      .map((entry) => ({
        ...entry,
        createdAt: entry.card.createdAt,
        id: entry.card.id,
      })),
    query.limit,
  );
  return {
    items: page.items.map((entry) => toCardDto(entry.card, entry.relation)),
    nextCursor: page.nextCursor,
  };
}
