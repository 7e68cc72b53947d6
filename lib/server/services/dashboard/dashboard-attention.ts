import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { can } from '@/lib/server/authz/can';
import { ownedCardSql } from '@/lib/server/authz/card-relation';
import { belowSql, onPathSql, withinSql } from '@/lib/server/authz/scope';
import { reasonSql } from '@/lib/server/services/usage/unrated-reason';
import { viewerDepth } from '@/lib/server/services/usage/list-usage';
import { RERATABLE_SQL } from '@/lib/server/services/usage/rerate-usage';
import type { TUnratedReason } from '@/lib/shared/schemas/usage';
import { atScale } from '@/lib/server/services/accounts/account-dto';
import type { TDashboardAttention } from '@/lib/shared/schemas/dashboard';

/** How many of each the overview names; the total says how many more there are. */
const SHOWN = 5;

/**
 * `GET /dashboard/attention`: what needs the viewer first, each read with its scope in
 * the query — the cards of its side (its own and those below it) whose rows lose money,
 * the accounts below it that are suspended, those still active whose own credit ran out
 * (every call of theirs and of what is below them is refused until paid), and the cards
 * of its side with rate rows that take effect later. A kind its group does not grant
 * reading is null, and all are for a customer: it owns no card and has no account below
 * it, so none can apply.
 */
export async function dashboardAttention(
  em: EntityManager,
  actor: TActor,
): Promise<TDashboardAttention> {
  if (actor.account.kind === 'customer') {
    return {
      losingCards: null,
      suspended: null,
      creditBlocked: null,
      scheduled: null,
      unrated: null,
    };
  }
  const readsAccounts = can(actor, 'resellers:read') || can(actor, 'customers:read');
  const [losingCards, suspended, creditBlocked, scheduled, unrated] = await Promise.all([
    can(actor, 'cards:read') ? losing(em, actor) : null,
    readsAccounts ? suspendedBelow(em, actor) : null,
    readsAccounts ? creditBlockedBelow(em, actor) : null,
    can(actor, 'cards:read') && can(actor, 'rates:read') ? scheduledRates(em, actor) : null,
    can(actor, 'usage:read') ? unratedBelow(em, actor) : null,
  ]);
  return { losingCards, suspended, creditBlocked, scheduled, unrated };
}

/**
 * Calls in the viewer's subtree left unrated, by reason as `GET /usage` tells it to this
 * viewer (a card's trouble above it reads `no_route`): money no one has been charged,
 * waiting for a fix and a re-rate: those a re-rate would take (`RERATABLE_SQL`), not a
 * call from before its customer's transfer, which is nothing to act on.
 * Read through the unrated records' partial index.
 */
async function unratedBelow(em: EntityManager, actor: TActor) {
  const scope = withinSql('r.path', actor.account.path);
  const rows = await em.execute<{ reason: TUnratedReason; calls: string }[]>(
    `select reason, count(*) as calls
       from (select ${reasonSql('r')} as reason from usage_record r
              where ${RERATABLE_SQL} and ${scope.sql}) unrated
      group by reason order by count(*) desc, reason`,
    [viewerDepth(actor), ...scope.params],
  );
  const items = rows.map((row) => ({ reason: row.reason, calls: Number(row.calls) }));
  return { total: items.reduce((sum, item) => sum + item.calls, 0), items };
}

async function losing(em: EntityManager, actor: TActor) {
  const owned = ownedCardSql(actor);
  const rows = await em.execute<
    { id: string; name: string; losing_rates: number; total: string }[]
  >(
    `select c.id::text as id, c.name, c.losing_rates, count(*) over () as total
       from card c join account o on o.id = c.owner_id
      where ${owned.sql} and c.losing_rates > 0
      order by c.losing_rates desc, c.name limit ?`,
    [...owned.params, SHOWN],
  );
  return {
    total: Number(rows[0]?.total ?? 0),
    items: rows.map((row) => ({
      id: row.id,
      name: row.name,
      losingRates: Number(row.losing_rates),
    })),
  };
}

async function suspendedBelow(em: EntityManager, actor: TActor) {
  const kinds = (['reseller', 'customer'] as const).filter((kind) => can(actor, `${kind}s:read`));
  const below = belowSql('a.path', actor.account.path);
  const rows = await em.execute<
    { id: string; kind: 'reseller' | 'customer'; name: string; total: string }[]
  >(
    `select a.id::text as id, a.kind, a.name, count(*) over () as total
       from account a
      where ${below.sql} and a.status = 'suspended' and a.kind in (${kinds.map(() => '?').join(', ')})
      order by a.updated_at desc limit ?`,
    [...below.params, ...kinds, SHOWN],
  );
  return {
    total: Number(rows[0]?.total ?? 0),
    items: rows.map(({ id, kind, name }) => ({ id, kind, name })),
  };
}

/**
 * Accounts below, not suspended themselves nor by an account above them, whose own
 * balance and limit left no credit (`credit_blocked`, kept by the ledger as balances
 * move): suspended ones are listed as suspended instead. By name: the card keeps its
 * order while calls move the balances (an order by the latest change reshuffled it at
 * call rate).
 */
async function creditBlockedBelow(em: EntityManager, actor: TActor) {
  const kinds = (['reseller', 'customer'] as const).filter((kind) => can(actor, `${kind}s:read`));
  const below = belowSql('a.path', actor.account.path);
  const suspendedOnPath = onPathSql('up.id', { sql: 'a.path', params: [] });
  const rows = await em.execute<
    {
      id: string;
      kind: 'reseller' | 'customer';
      name: string;
      balance: string;
      currency: string;
      total: string;
    }[]
  >(
    `select a.id::text as id, a.kind, a.name, a.balance::text as balance, a.currency,
            count(*) over () as total
       from account a
      where ${below.sql} and a.credit_blocked
        and a.kind in (${kinds.map(() => '?').join(', ')})
        and not exists (select 1 from account up
                         where ${suspendedOnPath.sql} and up.status = 'suspended')
      order by a.name, a.id limit ?`,
    [...below.params, ...kinds, SHOWN],
  );
  return {
    total: Number(rows[0]?.total ?? 0),
    items: rows.map(({ id, kind, name, balance, currency }) => ({
      id,
      kind,
      name,
      balance: atScale(balance),
      currency,
    })),
  };
}

async function scheduledRates(em: EntityManager, actor: TActor) {
  const owned = ownedCardSql(actor);
  // A card's rows dated ahead of its live set: open ones (`rate_history_open_dated`), and
  // rows a scheduled revision closes (few). Read by index from now on, never the card's
  // whole history (a reseller's re-imports of 250k rows made this 57 times slower); the
  // first date of every card below, the rows counted for the cards shown alone.
  const dated = (select: string, each = '') => `
      (select ${select} from rate_history h
        where h.card_id = c.id and h.to_rev is null and h.effective_from > now()
          and h.from_rev <= c.live_revision ${each})
      union all
      (select ${select} from rate_history h
        where h.card_id = c.id and h.to_rev > c.live_revision and h.effective_from > now()
          and h.from_rev <= c.live_revision ${each})`;
  const rows = await em.execute<
    { id: string; name: string; rows: string; next: string | Date; total: string }[]
  >(
    // Two ways a card's rates change later: rows of its live set dated ahead, and a
    // revision scheduled (`liveAt`) — its changed rows (README "Revisions"). Both count.
    `select l.id::text as id, l.name, l.total, l.next,
            l.revision_rows + (select count(*) from (${dated('1')}) n) as rows
       from (select c.id, c.name, v.rows as revision_rows, least(d.next, v.next) as next,
                    count(*) over () as total
               from card c join account o on o.id = c.owner_id
               join lateral (select min(x.next) as next
                               from (${dated('h.effective_from as next', 'order by h.effective_from limit 1')}) x) d
                 on true
               join lateral (select coalesce(sum(v.added + v.removed + v.increased + v.decreased
                                                 + v.changed), 0) as rows,
                                    min(v.live_at) as next
                               from rate_revision v
                              where v.card_id = c.id and v.applied_at is null
                                and v.cancelled_at is null and v.live_at > now()) v on true
              where ${owned.sql} and (d.next is not null or v.next is not null)
              order by least(d.next, v.next) limit ?) l
       join card c on c.id = l.id
      order by l.next`,
    [...owned.params, SHOWN],
  );
  return {
    total: Number(rows[0]?.total ?? 0),
    items: rows.map((row) => ({
      cardId: row.id,
      name: row.name,
      rows: Number(row.rows),
      next: new Date(row.next).toISOString(),
    })),
  };
}
