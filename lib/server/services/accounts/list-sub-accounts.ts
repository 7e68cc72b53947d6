import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { Account, type TAccount } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { escapeLike } from '@/lib/server/authz/scope';
import { afterKey, decodeKeyCursor, keyPageOf, orderByKey } from '@/lib/server/services/paging';
import { sortOf, type TPage } from '@/lib/shared/schemas/common';
import type { TAccountListQuery, TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import { subAccountScope, type TSubAccountKind } from './account-scope';
import { parentNameOf, parentNames, suspendedAncestors, toAccountDto } from './account-dto';
import { grantFor } from './sub-account-kinds';

/** The sort keys as properties, and how a cursor's text reads back into each. */
const SORTS = {
  name: { field: 'name', key: (row: TAccount) => row.name },
  email: { field: 'email', key: (row: TAccount) => row.email ?? null },
  status: { field: 'status', key: (row: TAccount) => row.status },
  createdAt: { field: 'createdAt', key: (row: TAccount) => row.createdAt.toISOString() },
} as const;

/**
 * The resellers or customers in the actor's subtree matching the filters, as one
 * condition: the page, the total and the CSV export all read exactly this.
 */
export function subAccountFilter(
  actor: TActor,
  kind: TSubAccountKind,
  query: Pick<TAccountListQuery, 'q' | 'parentId' | 'ids'>,
): FilterQuery<TAccount> {
  const pattern = query.q ? `%${escapeLike(query.q)}%` : null;
  return {
    $and: [
      subAccountScope(actor, kind),
      pattern ? { $or: [{ name: { $ilike: pattern } }, { email: { $ilike: pattern } }] } : {},
      query.parentId ? { parent: query.parentId } : {},
      query.ids ? { id: { $in: query.ids } } : {},
    ],
  } as FilterQuery<TAccount>;
}

/**
 * A page of the resellers or customers in the actor's subtree, in creation order or
 * `sort`; `q` searches names and emails; `total` counts every match in scope.
 */
export async function listSubAccounts(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  query: TAccountListQuery,
): Promise<TPage<TResellerDto | TCustomerDto>> {
  assertCan(actor, grantFor(kind, 'read'));
  const { rows, nextCursor } = await findSubAccountPage(em, actor, kind, query);
  const total = await em.count(Account, subAccountFilter(actor, kind, query));
  return { items: await subAccountDtos(em, rows), nextCursor, total };
}

/** One page of rows under the query's sort (the list and the export's batches). */
export async function findSubAccountPage(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  query: TAccountListQuery,
): Promise<{ rows: TAccount[]; nextCursor: string | null }> {
  const { key, dir } = sortOf(query.sort, 'createdAt');
  const sort = { name: query.sort ?? 'createdAt', dir };
  const { field, key: keyOf } = SORTS[key];
  const byTime = key === 'createdAt';
  const cursor = decodeKeyCursor(query.cursor, sort, { value: byTime ? 'time' : 'text' });
  const read = byTime ? (value: string) => new Date(value) : undefined;
  const rows = await em.find(
    Account,
    { $and: [subAccountFilter(actor, kind, query), afterKey(field, sort, cursor, read)] },
    { orderBy: orderByKey<TAccount>(field, sort), limit: query.limit + 1 },
  );
  const page = keyPageOf(rows, query.limit, sort, keyOf);
  return { rows: page.items, nextCursor: page.nextCursor };
}

/**
 * Every matching id in the list's order, read once: the export's order, fixed when it
 * begins (a row renamed or re-statused while a long export streams would otherwise
 * move across its cursor, and be written twice or not at all). Ids alone are read.
 */
export async function subAccountOrder(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  query: Pick<TAccountListQuery, 'q' | 'parentId' | 'ids' | 'sort'>,
): Promise<string[]> {
  const { key, dir } = sortOf(query.sort, 'createdAt');
  const rows = await em.find(Account, subAccountFilter(actor, kind, query), {
    fields: ['id'],
    orderBy: orderByKey<TAccount>(SORTS[key].field, { name: query.sort ?? 'createdAt', dir }),
  });
  return rows.map((row) => row.id);
}

/** Rows as DTOs: effective status and parent name found for the whole page at once. */
export async function subAccountDtos(
  em: EntityManager,
  rows: TAccount[],
): Promise<(TResellerDto | TCustomerDto)[]> {
  const suspended = await suspendedAncestors(em, rows);
  const names = await parentNames(em, rows);
  return rows.map((row) => toAccountDto(row, suspended, parentNameOf(row, names)));
}
