import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { scopeFor } from '@/lib/server/authz/scope';
import { afterCursor, decodeCursor, pageOf } from '@/lib/server/services/paging';
import type { TPage } from '@/lib/shared/schemas/common';
import type { TUserDto } from '@/lib/shared/schemas/users';
import { toUserDto } from './user-access';

export async function listUsers(
  em: EntityManager,
  actor: TActor,
  query: { limit: number; cursor?: string; accountId?: string },
): Promise<TPage<TUserDto>> {
  assertCan(actor, 'users:read');
  const rows = await em.find(
    User,
    {
      $and: [
        scopeFor(actor, 'user'),
        query.accountId ? { account: query.accountId } : {},
        afterCursor(decodeCursor(query.cursor)),
      ],
    },
    {
      populate: ['account', 'group'],
      orderBy: { createdAt: 'asc', id: 'asc' },
      limit: query.limit + 1,
    },
  );
  const page = pageOf(rows, query.limit);
  return { items: page.items.map(toUserDto), nextCursor: page.nextCursor };
}
