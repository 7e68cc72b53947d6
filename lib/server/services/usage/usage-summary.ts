import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan, can } from '@/lib/server/authz/can';
import { belowSql, withinSql } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import { atScale } from '@/lib/server/services/accounts/account-dto';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { windowSql } from '@/lib/server/services/paging';
import { Money } from '@/lib/shared/pricing/money';
import type {
  TUsageSummary,
  TUsageSummaryQuery,
  TUsageSummaryRow,
} from '@/lib/shared/schemas/usage';

interface TGroupRow {
  key: string;
  currency: string | null;
  cost_currency: string | null;
  calls: number;
  seconds: string;
  revenue: string;
  cost: string;
  unrated: number;
}

/** The group key of a call, per `by` (UTC buckets for time). */
const KEYS: Record<TUsageSummaryQuery['by'], string> = {
  account: `child::text`,
  destination: `coalesce(destination, '')`,
  hour: `to_char(date_trunc('hour', started_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
  day: `to_char(date_trunc('day', started_at at time zone 'UTC'), 'YYYY-MM-DD"T"00:00:00"Z"')`,
};

/**
 * `GET /usage/summary`: the traffic of a parent's subtree (the caller's own account, or
 * an account in its scope), by direct child, destination, hour or day. For each call
 * below the parent, `revenue` is the level paid by the parent's child on the call's path
 * (what the parent earned) and `cost` the level the parent itself paid (its buy price,
 * or a carrier's provider cost): both payers are at or below the caller, so every
 * measure is one the caller may see. A call of the parent's own (a customer) has no
 * child and is not counted; one filed under a reseller or carrier itself (for no
 * account below it, or a customer's from before its transfer) is counted as `unfiled`.
 */
export async function usageSummary(
  em: EntityManager,
  actor: TActor,
  query: TUsageSummaryQuery,
): Promise<TUsageSummary> {
  assertCan(actor, 'usage:read');
  const parent =
    query.parentId && query.parentId !== actor.account.id
      ? (await readAccountInScope(em, actor, query.parentId, { within: true })).account
      : { id: actor.account.id, path: actor.account.path, kind: actor.account.kind };
  const below = belowSql('r.path', parent.path);
  const started = windowSql('r.started_at', query);
  const window = started.conditions.map((condition) => `and ${condition}`);
  const params: unknown[] = [parent.path.length + 1, ...below.params, ...started.params];
  const rows = await directQuery<TGroupRow>(
    em,
    `with calls as (
       select r.id, r.status, r.seconds, r.started_at,
              split_part(substr(r.path, ?), '/', 1)::uuid as child
         from usage_record r
        where ${below.sql} ${window.join(' ')}),
     priced as (
       select calls.*, rev.amount as revenue, rev.currency, rev.destination,
              cost.amount as cost, cost.currency as cost_currency
         from calls
         left join usage_charge rev on rev.record_id = calls.id and rev.payer_id = calls.child
         left join usage_charge cost on cost.record_id = calls.id and cost.payer_id = ?::uuid)
     select ${KEYS[query.by]} as key, currency, cost_currency,
            count(*) filter (where status = 'rated')::int as calls,
            coalesce(sum(seconds) filter (where status = 'rated'), 0)::text as seconds,
            coalesce(sum(revenue), 0)::text as revenue, coalesce(sum(cost), 0)::text as cost,
            count(*) filter (where status = 'unrated')::int as unrated
       from priced group by 1, 2, 3`,
    [...params, parent.id],
  );
  const grouped = mergeUnrated(rows);
  const named = withinSql('path', actor.account.path);
  // And only to a reader of that kind of account (as the exposure list asks): usage:read
  // alone tells calls and money by an account's id, not which reseller or customer it is.
  const kinds = (['reseller', 'customer'] as const).filter((kind) => can(actor, `${kind}s:read`));
  const names =
    query.by === 'account' && grouped.length && kinds.length
      ? new Map(
          // Named only while in the caller's scope: a call stays with the side that
          // rated it, and its customer, moved away since, is another reseller's now.
          (
            await directQuery<{ id: string; name: string; kind: 'reseller' | 'customer' }>(
              em,
              `select id::text as id, name, kind from account
                where id = any(?::uuid[]) and ${named.sql} and kind = any(?::text[])`,
              [
                pgArray([...new Set(grouped.map((row) => row.key))]),
                ...named.params,
                pgArray([...kinds]),
              ],
            )
          ).map((row) => [row.id, row]),
        )
      : null;
  const result: TUsageSummaryRow[] = grouped.map((row) => {
    const account = names?.get(row.key);
    const comparable = row.cost_currency === null || row.cost_currency === row.currency;
    return {
      key: row.key,
      name: account?.name ?? row.key,
      kind: account?.kind ?? null,
      calls: row.calls,
      seconds: Number(row.seconds),
      revenue: atScale(row.revenue),
      cost: atScale(row.cost),
      margin:
        comparable && row.currency !== null
          ? new Money(row.revenue).minus(row.cost).toFixed(6)
          : null,
      unrated: row.unrated,
      currency: row.currency,
      costCurrency: row.cost_currency,
    };
  });
  result.sort((a, b) =>
    query.by === 'hour' || query.by === 'day'
      ? a.key.localeCompare(b.key)
      : b.calls - a.calls || b.unrated - a.unrated || a.name.localeCompare(b.name),
  );
  // Filed under the parent itself: its posters' calls for no account below, and late ones
  // of a customer moved away. Needs attention counts them; the tiles do too.
  const [unfiled] =
    parent.kind === 'customer'
      ? [{ n: 0 }]
      : await directQuery<{ n: number }>(
          em,
          `select count(*)::int as n from usage_record r where r.path = ? ${window.join(' ')}`,
          [parent.path, ...started.params],
        );
  return {
    by: query.by,
    parentId: parent.id,
    unfiled: unfiled?.n ?? 0,
    from: query.from ? new Date(query.from).toISOString() : null,
    to: query.to ? new Date(query.to).toISOString() : null,
    rows: result,
  };
}

/**
 * Unrated calls carry no charge, so no currency (nor does a call whose child level is
 * missing): their counts join the group's row in a currency (the first, should a group
 * hold calls in two); a group with none stays a row of its own.
 */
function mergeUnrated(rows: TGroupRow[]): TGroupRow[] {
  const byKey = new Map<string, TGroupRow[]>();
  for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
  return [...byKey.values()].flatMap((group) => {
    const rated = group.filter((row) => row.currency !== null);
    const loose = group.filter((row) => row.currency === null);
    if (!rated.length || !loose.length) return group;
    const [first, ...rest] = rated;
    const merged = loose.reduce(
      (into, row) => ({
        ...into,
        calls: into.calls + row.calls,
        seconds: String(Number(into.seconds) + Number(row.seconds)),
        unrated: into.unrated + row.unrated,
        ...(row.cost_currency !== null && row.cost_currency === into.cost_currency
          ? { cost: new Money(into.cost).plus(row.cost).toFixed(6) }
          : {}),
      }),
      first!,
    );
    return [merged, ...rest];
  });
}
