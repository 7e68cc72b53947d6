import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan, can } from '@/lib/server/authz/can';
import { belowSql } from '@/lib/server/authz/scope';
import { directQuery } from '@/lib/server/db/direct-query';
import { sortOf } from '@/lib/shared/schemas/common';
import type { TExposurePage, TExposureQuery } from '@/lib/shared/schemas/dashboard';
import {
  atScale,
  creditBlock,
  suspendedAncestors,
} from '@/lib/server/services/accounts/account-dto';
import { decodeKeyCursor, keyPageOf, type TKeySort } from '@/lib/server/services/paging';

/**
 * The sort keys as SQL over `account a`. Without a limit an account is never blocked for
 * credit: its available credit has no bound, so it sorts as NULL (after every account
 * that can run out, least available first), like its limit.
 */
const SORT_SQL = {
  available: 'a.balance + a.credit_limit',
  balance: 'a.balance',
  limit: 'a.credit_limit',
} as const;

interface TExposureSqlRow {
  id: string;
  kind: 'reseller' | 'customer';
  name: string;
  path: string;
  currency: string;
  balance: string;
  credit_limit: string | null;
  available: string;
  warning_threshold: string | null;
  credit_blocked: boolean;
  sort_value: string | null;
  total: string;
}

/**
 * `GET /dashboard/exposure` (issue 17): what the accounts directly below the caller's
 * owe or hold — a carrier's resellers (and its own customers), a reseller's customers and
 * sub-resellers — never a sibling's nor anything further down, which its own parent
 * watches. Needs `ledger:read`; each kind also its list's read grant. The most exposed
 * (least available) first unless sorted otherwise; keyset-paged under the sort. Amounts
 * are compared as numbers, never converted: `currency` keeps to the accounts in one, and
 * `currencies` says which there are.
 */
export async function dashboardExposure(
  em: EntityManager,
  actor: TActor,
  query: TExposureQuery,
): Promise<TExposurePage> {
  assertCan(actor, 'ledger:read');
  const kinds = (['reseller', 'customer'] as const).filter((kind) => can(actor, `${kind}s:read`));
  if (!kinds.length) return { items: [], nextCursor: null, total: 0, currencies: [] };
  const { key, dir } = sortOf(query.sort, 'available');
  const sort: TKeySort = { name: query.sort ?? 'available', dir };
  // The value goes into SQL as a numeric.
  const cursor = decodeKeyCursor(query.cursor, sort, { value: 'decimal' });
  const below = belowSql('a.path', actor.account.path);
  const inScope = `${below.sql} and a.parent_id = ? and a.kind in (${kinds.map(() => '?').join(', ')})`;
  const scopeParams: unknown[] = [...below.params, actor.account.id, ...kinds];
  const currencies = await directQuery<{ currency: string }>(
    em,
    `select a.currency from account a where ${inScope}
      group by a.currency order by count(*) desc, a.currency`,
    scopeParams,
  );
  const inCurrency = query.currency ? ' and a.currency = ?' : '';
  const params: unknown[] = [...scopeParams, ...(query.currency ? [query.currency] : [])];
  const order =
    dir === 'asc'
      ? 'e.sort_num asc nulls last, e.id asc'
      : 'e.sort_num desc nulls first, e.id desc';
  // The total counts every row in scope; the cursor only says where the page starts.
  const after = cursor ? afterSql(dir, cursor.value, cursor.id) : null;
  const rows = await directQuery<TExposureSqlRow>(
    em,
    `select e.*, e.sort_num::text as sort_value from (
       select a.id, a.kind, a.name, a.path, a.currency, a.balance, a.credit_limit,
              a.balance + coalesce(a.credit_limit, 0) as available, a.warning_threshold,
              a.credit_blocked, ${SORT_SQL[key]} as sort_num, count(*) over () as total
         from account a
        where ${inScope}${inCurrency}
     ) e
     ${after ? `where ${after.sql}` : ''}
     order by ${order} limit ?`,
    [...params, ...(after?.params ?? []), query.limit + 1],
  );
  const blocking = await suspendedAncestors(em, rows);
  const page = keyPageOf(rows, query.limit, sort, (row) => row.sort_value);
  return {
    items: page.items.map((row) => ({
      id: row.id,
      kind: row.kind,
      name: row.name,
      currency: row.currency,
      balance: atScale(row.balance),
      creditLimit: row.credit_limit === null ? null : atScale(row.credit_limit),
      available: atScale(row.available),
      warningThreshold: row.warning_threshold === null ? null : atScale(row.warning_threshold),
      creditBlocked: Boolean(row.credit_blocked),
      creditBlock: creditBlock(row, blocking),
    })),
    nextCursor: page.nextCursor,
    total: Number(rows[0]?.total ?? 0),
    currencies: currencies.map((row) => row.currency),
  };
}

/** Rows after the cursor in the page's order (NULLs last ascending, first descending). */
function afterSql(
  dir: 'asc' | 'desc',
  value: string | null,
  id: string,
): { sql: string; params: unknown[] } {
  const v = 'e.sort_num';
  if (dir === 'asc') {
    return value === null
      ? { sql: `(${v} is null and e.id > ?::uuid)`, params: [id] }
      : {
          sql: `(${v} > ?::numeric or (${v} = ?::numeric and e.id > ?::uuid) or ${v} is null)`,
          params: [value, value, id],
        };
  }
  return value === null
    ? { sql: `((${v} is null and e.id < ?::uuid) or ${v} is not null)`, params: [id] }
    : {
        sql: `(${v} < ?::numeric or (${v} = ?::numeric and e.id < ?::uuid))`,
        params: [value, value, id],
      };
}
