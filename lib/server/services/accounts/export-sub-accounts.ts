import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { csvStream, type TDownload } from '@/lib/server/services/csv';
import type { TAccountListQuery } from '@/lib/shared/schemas/accounts';
import type { TSubAccountKind } from './account-scope';
import { Account } from '@/lib/server/entities';
import { subAccountDtos, subAccountFilter, subAccountOrder } from './list-sub-accounts';
import { grantFor } from './sub-account-kinds';

const BATCH = 500;

/** The CSV columns of each list: the DTO's fields, money as its exact decimal string. */
export const ACCOUNT_CSV_COLUMNS = {
  reseller: [
    'id',
    'name',
    'email',
    'parentId',
    'parentName',
    'status',
    'depth',
    'currency',
    'creditLimit',
    'balance',
    'createdAt',
  ],
  customer: [
    'id',
    'name',
    'email',
    'parentId',
    'parentName',
    'status',
    'currency',
    'creditLimit',
    'balance',
    'createdAt',
  ],
} as const;

/**
 * `GET /resellers/export`, `/customers/export`: the list in scope with its filters and
 * sort, streamed in batches, every cell neutralized against spreadsheet formulas. The
 * grant is checked before the first byte. The order is read once, as ids, when the
 * export begins (`subAccountOrder`): each row is written once, where it stood then, as it
 * is when its batch is read — a row that has left the scope or the filter since is left
 * out. Memory holds the ids and one batch's accounts, however long the export.
 */
export function exportSubAccounts(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  query: Omit<TAccountListQuery, 'limit' | 'cursor'>,
  download: TDownload,
): ReadableStream<Uint8Array> {
  assertCan(actor, grantFor(kind, 'read'));
  const columns = ACCOUNT_CSV_COLUMNS[kind];
  const size = download.batch ?? BATCH;
  let order: string[] | undefined;
  let at = 0;
  return csvStream(
    columns,
    async () => {
      order ??= await subAccountOrder(em.fork(), actor, kind, query);
      const ids = order.slice(at, at + size);
      at += ids.length;
      if (!ids.length) return null;
      // Each batch in a context of its own: the request's would keep every account read
      // (with its snapshot) until the download ends, the whole subtree for a long export.
      const batch = em.fork();
      const found = await batch.find(Account, {
        $and: [subAccountFilter(actor, kind, query), { id: { $in: ids } }],
      });
      const byId = new Map(found.map((row) => [row.id, row]));
      const rows = ids.flatMap((id) => byId.get(id) ?? []);
      if (!rows.length) return [];
      return (await subAccountDtos(batch, rows)) as unknown as Record<string, unknown>[];
    },
    download.stillAllowed,
  );
}
