import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { decodeCursor, pageOf } from '@/lib/server/services/paging';
import type { TPage } from '@/lib/shared/schemas/common';
import type { TAssignmentDto, ZAssignmentListQuery } from '@/lib/shared/schemas/cards';
import { assignmentScopeSql, toAssignmentDto } from './assignment-store';

/** `GET /assignments`: those of cards owned in the actor's subtree, oldest first. */
export async function listAssignments(
  em: EntityManager,
  actor: TActor,
  query: z.infer<typeof ZAssignmentListQuery>,
): Promise<TPage<TAssignmentDto>> {
  assertCan(actor, 'assignments:read');
  const scope = assignmentScopeSql(actor);
  const filters = [scope.where];
  const params: unknown[] = [...scope.params];
  if (query.cardId) {
    filters.push('ca.card_id = ?');
    params.push(query.cardId);
  }
  if (query.accountId) {
    filters.push('ca.account_id = ?');
    params.push(query.accountId);
  }
  const [counted] = await em.execute<{ total: string }[]>(
    `select count(*) as total from card_assignment ca
       join card c on c.id = ca.card_id join account o on o.id = c.owner_id
      where ${filters.join(' and ')}`,
    params,
  );
  const cursor = decodeCursor(query.cursor);
  if (cursor) {
    filters.push('(ca.created_at, ca.id) > (?, ?)');
    params.push(cursor.createdAt, cursor.id);
  }
  params.push(query.limit + 1);
  const rows = await em.execute<{ id: string }[]>(
    `select ca.id from card_assignment ca
       join card c on c.id = ca.card_id join account o on o.id = c.owner_id
      where ${filters.join(' and ')}
      order by ca.created_at, ca.id limit ?`,
    params,
  );
  const found = await em.find(
    CardAssignment,
    { id: { $in: rows.map((row) => row.id) } },
    { populate: ['card'], orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  const page = pageOf(found, query.limit);
  return {
    items: page.items.map(toAssignmentDto),
    nextCursor: page.nextCursor,
    total: Number(counted?.total ?? 0),
  };
}
