import type { EntityManager } from '@mikro-orm/postgresql';
import { Account } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { afterCursor, decodeCursor, pageOf } from '@/lib/server/services/paging';
import type { TPage } from '@/lib/shared/schemas/common';
import type { TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import { subAccountScope, type TSubAccountKind } from './account-scope';
import { suspendedAncestors, toAccountDto } from './account-dto';
import { grantFor } from './sub-account-kinds';

/** A page of the resellers or customers in the actor's subtree, oldest first; `q` searches names and emails. */
export async function listSubAccounts(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  query: { limit: number; cursor?: string; q?: string; parentId?: string },
): Promise<TPage<TResellerDto | TCustomerDto>> {
  assertCan(actor, grantFor(kind, 'read'));
  const search = query.q
    ? {
        $or: [
          { name: { $ilike: `%${escape(query.q)}%` } },
          { email: { $ilike: `%${escape(query.q)}%` } },
        ],
      }
    : {};
  const parent = query.parentId ? { parent: query.parentId } : {};
  const rows = await em.find(
    Account,
    {
      $and: [subAccountScope(actor, kind), search, parent, afterCursor(decodeCursor(query.cursor))],
    },
    { orderBy: { createdAt: 'asc', id: 'asc' }, limit: query.limit + 1 },
  );
  const page = pageOf(rows, query.limit);
  const suspended = await suspendedAncestors(em, page.items);
  return {
    items: page.items.map((row) => toAccountDto(row, suspended)),
    nextCursor: page.nextCursor,
  };
}

function escape(value: string): string {
  return value.replace(/[\\%_]/g, (char) => '\\' + char);
}
