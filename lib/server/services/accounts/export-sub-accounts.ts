import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { csvCell } from '@/lib/server/services/rates/rates-csv';
import type { TAccountListQuery } from '@/lib/shared/schemas/accounts';
import type { TSubAccountKind } from './account-scope';
import { findSubAccountPage, subAccountDtos } from './list-sub-accounts';
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
 * sort, streamed in keyset batches (the same page query as the list, so the scope is the
 * list's), every cell neutralized against spreadsheet formulas. The grant is checked
 * before the first byte; memory stays one batch's, however long the export.
 */
export function exportSubAccounts(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  query: Omit<TAccountListQuery, 'limit' | 'cursor'>,
): ReadableStream<Uint8Array> {
  assertCan(actor, grantFor(kind, 'read'));
  const columns = ACCOUNT_CSV_COLUMNS[kind];
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let done = false;
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(columns.join(',') + '\r\n'));
        return;
      }
      if (done) {
        controller.close();
        return;
      }
      // Each batch in a context of its own: the request's would keep every account read
      // (with its snapshot) until the download ends, the whole subtree for a long export.
      const batch = em.fork();
      const page = await findSubAccountPage(batch, actor, kind, {
        ...query,
        limit: BATCH,
        cursor,
      });
      cursor = page.nextCursor ?? undefined;
      done = !page.nextCursor;
      const dtos = (await subAccountDtos(batch, page.rows)) as unknown as Record<string, unknown>[];
      if (!dtos.length) {
        controller.close();
        return;
      }
      const text = dtos
        .map((dto) => columns.map((column) => csvCell(String(dto[column] ?? ''))).join(','))
        .join('\r\n');
      controller.enqueue(encoder.encode(text + '\r\n'));
    },
  });
}
