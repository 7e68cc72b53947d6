import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { decodeKeyCursor, keyPageOf } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import type { TAssignmentDto, ZAssignmentListQuery } from '@/lib/shared/schemas/cards';
import { assignmentScopeSql, toAssignmentDto } from './assignment-store';

/** The sort keys as SQL: the column, and the cast a cursor's text is compared as. */
const SORTS = {
  createdAt: { column: 'ca.created_at', cast: 'timestamptz' },
  cardName: { column: 'c.name', cast: 'text' },
  accountName: { column: 'a.name', cast: 'text' },
} as const;

/**
 * `GET /assignments`: those of cards owned in the actor's subtree, oldest first (or by
 * `sort`: the card's or the account's name), with the total matching in scope.
 */
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
  const from = `card_assignment ca
       join card c on c.id = ca.card_id join account o on o.id = c.owner_id
       join account a on a.id = ca.account_id`;
  const [counted] = await em.execute<{ total: string }[]>(
    `select count(*) as total from ${from} where ${filters.join(' and ')}`,
    params,
  );
  const { key, dir } = sortOf(query.sort, 'createdAt');
  const sort = { name: query.sort ?? 'createdAt', dir };
  const { column, cast } = SORTS[key];
  const cursor = decodeKeyCursor(query.cursor, sort, {
    value: cast === 'timestamptz' ? 'time' : 'text',
  });
  if (cursor) {
    filters.push(`(${column}, ca.id) ${dir === 'asc' ? '>' : '<'} (?::${cast}, ?::uuid)`);
    params.push(cursor.value, cursor.id);
  }
  const rows = await em.execute<{ id: string }[]>(
    `select ca.id from ${from}
      where ${filters.join(' and ')}
      order by ${column} ${dir}, ca.id ${dir} limit ?`,
    [...params, query.limit + 1],
  );
  const found = new Map(
    (
      await em.find(
        CardAssignment,
        { id: { $in: rows.map((row) => row.id) } },
        { populate: ['card', 'account'] },
      )
    ).map((assignment) => [assignment.id, assignment]),
  );
  // One removed between the two reads is simply not listed.
  const ordered = rows.flatMap((row) => {
    const assignment = found.get(row.id);
    return assignment ? [assignment] : [];
  });
  const page = keyPageOf(ordered, query.limit, sort, (assignment) =>
    key === 'cardName'
      ? assignment.card.name
      : key === 'accountName'
        ? assignment.account.name
        : assignment.createdAt.toISOString(),
  );
  return {
    items: page.items.map(toAssignmentDto),
    nextCursor: page.nextCursor,
    total: Number(counted?.total ?? 0),
  };
}
