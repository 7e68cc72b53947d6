import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { User, type TUser } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { escapeLike, scopeFor } from '@/lib/server/authz/scope';
import { afterKey, decodeKeyCursor, keyPageOf, orderByKey } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import type { TUserDto, ZUserListQuery } from '@/lib/shared/schemas/users';
import { toUserDto } from './user-access';

const SORTS = {
  name: (user: TUser) => user.name,
  email: (user: TUser) => user.email,
  status: (user: TUser) => user.status,
  createdAt: (user: TUser) => user.createdAt.toISOString(),
  lastSignInAt: (user: TUser) => user.lastLoginAt?.toISOString() ?? null,
} as const;

/** Each sort's column, where its name is not the entity's field. */
const FIELDS: Partial<Record<keyof typeof SORTS, string>> = { lastSignInAt: 'lastLoginAt' };

/** Users in scope, in creation order or `sort`; `q` searches names and emails, `groupId` narrows to one group's members. */
export async function listUsers(
  em: EntityManager,
  actor: TActor,
  query: z.input<typeof ZUserListQuery> & { limit: number },
): Promise<TPage<TUserDto>> {
  assertCan(actor, 'users:read');
  const pattern = query.q ? `%${escapeLike(query.q)}%` : null;
  const filter = {
    $and: [
      scopeFor(actor, 'user'),
      query.accountId ? { account: query.accountId } : {},
      query.groupId ? { group: query.groupId } : {},
      query.status ? { status: query.status } : {},
      pattern ? { $or: [{ name: { $ilike: pattern } }, { email: { $ilike: pattern } }] } : {},
    ],
  } as FilterQuery<TUser>;
  const { key, dir } = sortOf(query.sort, 'createdAt');
  const sort = { name: query.sort ?? 'createdAt', dir };
  const byTime = key === 'createdAt' || key === 'lastSignInAt';
  const field = FIELDS[key] ?? key;
  const cursor = decodeKeyCursor(query.cursor, sort, { value: byTime ? 'time' : 'text' });
  const read = byTime ? (value: string) => new Date(value) : undefined;
  const rows = await em.find(
    User,
    { $and: [filter, afterKey(field, sort, cursor, read)] } as FilterQuery<TUser>,
    {
      populate: ['account', 'group'],
      orderBy: orderByKey<TUser>(field, sort),
      limit: query.limit + 1,
    },
  );
  const page = keyPageOf(rows, query.limit, sort, SORTS[key]);
  const total = await em.count(User, filter);
  return { items: page.items.map(toUserDto), nextCursor: page.nextCursor, total };
}
