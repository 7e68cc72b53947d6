import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan, can } from '@/lib/server/authz/can';
import { escapeLike, withinSql } from '@/lib/server/authz/scope';
import { directQuery } from '@/lib/server/db/direct-query';
import { invalidInput } from '@/lib/server/errors/domain-error';
import { atScale } from '@/lib/server/services/accounts/account-dto';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { ancestorIds } from '@/lib/server/services/accounts/account-tree';
import type { TPage } from '@/lib/shared/schemas/common';
import { reasonSql } from './unrated-reason';
import { windowSql } from '@/lib/server/services/paging';
import { csvStream, type TDownload } from '@/lib/server/services/csv';
import { callMoney } from '@/lib/shared/traffic';
import {
  USAGE_EXPORT_COLUMNS,
  type TUnratedReason,
  type TUsageExportQuery,
  type TUsageLevelDto,
  type TUsageListQuery,
  type TUsageRecordDto,
  type TUsageStatus,
} from '@/lib/shared/schemas/usage';

interface TRecordRow {
  id: string;
  cdr_id: string;
  account_id: string;
  account_name: string | null;
  number: string;
  started_at: string;
  seconds: number;
  status: TUsageStatus;
  reason: TUnratedReason | null;
  received_at: string;
  rated_at: string | null;
  priced_at: string | null;
  levels: (Omit<TUsageLevelDto, 'amount'> & { amount: string })[];
}

/**
 * `GET /usage`: the call records whose customer lies in the caller's subtree (its path
 * when rated: a customer moved away since stays with the side that billed it; with
 * `accountId`, that account's subtree and its own calls filed anywhere the caller sees), newest
 * received first, paged by id. Each shows the levels whose payer is the caller's own
 * account or below it (`visibleLevelsSql`): a reseller sees what its customers paid and
 * what it paid, never what its parent paid above it.
 */
export async function listUsage(
  em: EntityManager,
  actor: TActor,
  query: TUsageListQuery,
): Promise<TPage<TUsageRecordDto>> {
  assertCan(actor, 'usage:read');
  const cursor = query.cursor ?? null;
  if (cursor !== null && !/^[1-9]\d{0,17}$/.test(cursor)) {
    throw invalidInput({ cursor: 'is not a cursor this API gave out' });
  }
  const { filters, params } = await usageFilter(em, actor, query);
  if (cursor !== null) {
    filters.push('r.id < ?::bigint');
    params.push(cursor);
  }
  const rows = await readUsageRows(em, actor, filters, params, 'desc', query.limit + 1);
  const items = rows.slice(0, query.limit);
  return { items, nextCursor: rows.length > query.limit ? items.at(-1)!.id : null };
}

/**
 * `GET /usage/export`: the calls `GET /usage` lists with the same filters, as CSV, oldest
 * received first, each call's money as the exporter reads it (`callMoney`). Scope and
 * filters are decided before the first byte, and so is the last record: calls received
 * while the file is read are not in it (a re-rate meanwhile shows in the rows not yet
 * read).
 */
export async function exportUsage(
  em: EntityManager,
  actor: TActor,
  query: TUsageExportQuery,
  download: TDownload,
): Promise<ReadableStream<Uint8Array>> {
  assertCan(actor, 'usage:read');
  const { filters, params } = await usageFilter(em, actor, query);
  const [ceiling] = await em.execute<{ last: string | null }[]>(
    `select max(r.id)::text as last from usage_record r where ${filters.join(' and ')}`,
    params,
  );
  const last = ceiling?.last ?? '0';
  let after = '0';
  return csvStream(
    USAGE_EXPORT_COLUMNS,
    async () => {
      if (after === last) return null;
      const rows = await readUsageRows(
        em,
        actor,
        [...filters, 'r.id > ?::bigint', 'r.id <= ?::bigint'],
        [...params, after, last],
        'asc',
        download.batch ?? EXPORT_BATCH,
      );
      if (!rows.length) return null;
      after = rows.at(-1)!.id;
      return rows.map((call) => usageCsvRow(call, actor.account.id));
    },
    download.stillAllowed,
  );
}

const EXPORT_BATCH = 500;

/** One call as the export's row: amounts as raw decimals beside their currencies. */
function usageCsvRow(
  call: TUsageRecordDto,
  viewerAccountId: string,
): Record<(typeof USAGE_EXPORT_COLUMNS)[number], unknown> {
  const { price, revenue, cost, margin } = callMoney(call, viewerAccountId);
  // The destination and billed length as the level the viewer knows best tells them.
  const named = price ?? revenue ?? cost;
  return {
    id: call.id,
    cdrId: call.cdrId,
    startedAt: call.startedAt,
    accountId: call.accountId,
    account: call.accountName ?? '',
    number: call.number,
    seconds: call.seconds,
    status: call.status,
    reason: call.reason ?? '',
    destination: named?.destination ?? '',
    billedSeconds: named?.billedSeconds ?? '',
    price: price?.amount ?? '',
    priceCurrency: price?.currency ?? '',
    revenue: revenue?.amount ?? '',
    revenueCurrency: revenue?.currency ?? '',
    cost: cost?.amount ?? '',
    costCurrency: cost?.currency ?? '',
    margin: margin ?? '',
    receivedAt: call.receivedAt,
    pricedAt: call.pricedAt ?? '',
  };
}

/**
 * The SQL of the calls' scope and filters (`r`: usage_record): the caller's subtree;
 * `accountId` must be in scope (else 404), `reason` is the reason as this viewer reads it.
 */
async function usageFilter(
  em: EntityManager,
  actor: TActor,
  query: TUsageExportQuery,
): Promise<{ filters: string[]; params: unknown[] }> {
  const scope = withinSql('r.path', actor.account.path);
  const filters = [scope.sql];
  const params: unknown[] = [...scope.params];
  if (query.accountId) {
    const { account } = await readAccountInScope(em, actor, query.accountId, { within: true });
    // Its subtree's calls, and its own wherever they are filed: a customer transferred
    // since has its earlier calls under its old parent's path (or a late one under the
    // poster's), which the caller's scope above still decides whether it may see.
    const subtree = withinSql('r.path', account.path);
    filters.push(`(${subtree.sql} or r.account_id = ?::uuid)`);
    params.push(...subtree.params, account.id);
  }
  if (query.under) {
    const { account } = await readAccountInScope(em, actor, query.under, { within: true });
    const filed = withinSql('r.path', account.path);
    filters.push(filed.sql);
    params.push(...filed.params);
  }
  if (query.status) {
    filters.push('r.status = ?');
    params.push(query.status);
  }
  if (query.reason) {
    // By the reason as this viewer reads it: a filter on the stored one would tell
    // which of its `no_route` calls are a card's trouble above it.
    filters.push(`${reasonSql('r')} = ?`);
    params.push(viewerDepth(actor), query.reason);
  }
  const window = windowSql('r.started_at', query);
  filters.push(...window.conditions);
  params.push(...window.params);
  if (query.number) {
    filters.push('r.number like ?');
    params.push(`${escapeLike(query.number)}%`);
  }
  return { filters, params };
}

/** Calls matching `filters`, by id in `order`, each with the levels the viewer may see. */
async function readUsageRows(
  em: EntityManager,
  actor: TActor,
  filters: string[],
  params: unknown[],
  order: 'asc' | 'desc',
  limit: number,
): Promise<TUsageRecordDto[]> {
  const depth = viewerDepth(actor);
  const named = withinSql('a.path', actor.account.path);
  const rows = await directQuery<TRecordRow>(
    em,
    `select r.id::text as id, r.cdr_id, r.account_id, a.name as account_name, r.number,
            r.started_at, r.seconds, r.status, ${reasonSql('r')} as reason, r.received_at,
            r.rated_at, r.priced_at,
            coalesce((select json_agg(json_build_object(
                        'level', c.level, 'payerId', c.payer_id, 'counterpartyId', c.counterparty_id,
                        'cardId', c.card_id, 'prefix', c.prefix, 'destination', c.destination,
                        'billedSeconds', c.billed_seconds, 'amount', c.amount::text,
                        'currency', c.currency) order by c.level)
                        from usage_charge c where c.record_id = r.id and ${visibleLevelsSql('c')}),
                     '[]'::json) as levels
       from usage_record r
       left join account a on a.id = r.account_id and ${named.sql}
                          -- Its own people know their account; others name a customer
                          -- with customers:read only, as its list does.
                          and (a.id = ?::uuid or ?::boolean)
      where ${filters.join(' and ')}
      order by r.id ${order} limit ?`,
    [
      depth,
      depth,
      ...named.params,
      actor.account.id,
      can(actor, 'customers:read'),
      ...params,
      limit,
    ],
  );
  return rows.map(toUsageRecordDto);
}

/** The viewer's depth in the tree (a carrier 0): levels paid at or below it are its to see. */
export function viewerDepth(actor: TActor): number {
  return ancestorIds(actor.account.path).length - 1;
}

/**
 * A charge the viewer may see: its payer is the viewer's account or below it. Every
 * payer of a call lies on the call's path, and the call is in the viewer's subtree, so
 * "at or below" is "at the viewer's depth or deeper" (`?`: `viewerDepth`).
 */
export function visibleLevelsSql(alias: string): string {
  return `${alias}.payer_depth >= ?`;
}

function toUsageRecordDto(row: TRecordRow): TUsageRecordDto {
  return {
    id: row.id,
    cdrId: row.cdr_id,
    accountId: row.account_id,
    accountName: row.account_name,
    number: row.number,
    startedAt: new Date(row.started_at).toISOString(),
    seconds: row.seconds,
    status: row.status,
    reason: row.reason,
    receivedAt: new Date(row.received_at).toISOString(),
    ratedAt: row.rated_at ? new Date(row.rated_at).toISOString() : null,
    pricedAt: row.priced_at ? new Date(row.priced_at).toISOString() : null,
    levels: row.levels.map((level) => ({ ...level, amount: atScale(level.amount) })),
  };
}
