import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan, can } from '@/lib/server/authz/can';
import { belowSql, onPathSql } from '@/lib/server/authz/scope';
import { notFound } from '@/lib/server/errors/domain-error';
import type { TAccountBulkImpact } from '@/lib/shared/schemas/accounts';
import type { TSubAccountKind } from './account-scope';
import { grantFor } from './sub-account-kinds';

/**
 * `POST /resellers/bulk/impact`, `/customers/bulk/impact`: what a bulk suspend of these
 * accounts reaches, for its confirmation ("Their 12 customers and 5 users lose access"):
 * the named accounts it writes (those not suspended themselves), and — each only if it
 * has access now (no suspended account on its path) — the accounts below them not named
 * themselves and the active users of all of these.
 * The same grant and scope as the suspend itself: one id out of scope is 404. Nothing
 * below an account in scope is outside the actor's scope, so the counts are exact. Each
 * count is of a kind the actor may not read unless it holds that kind's read grant: a
 * group that may suspend customers but not read users learns nothing of how many there
 * are (null, like the names `dependantsFor` withholds). A read; a body because the list of
 * ids can be long.
 */
export async function bulkImpact(
  em: EntityManager,
  actor: TActor,
  kind: TSubAccountKind,
  ids: string[],
): Promise<TAccountBulkImpact> {
  assertCan(actor, grantFor(kind, 'update'));
  const unique = [...new Set(ids)];
  const marks = unique.map(() => '?').join(', ');
  const scope = belowSql('a.path', actor.account.path);
  const named = await em.execute<{ id: string; status: string }[]>(
    `select a.id, a.status from account a where a.id in (${marks}) and a.kind = ? and ${scope.sql}`,
    [...unique, kind, ...scope.params],
  );
  if (named.length !== unique.length) throw notFound(kind);
  // What the suspend changes only: an account already suspended is left as it is, and
  // whatever has a suspended account on its path (itself included) has lost access
  // already — counting them would overstate what the confirmation says is lost.
  const active = (column: string) =>
    `not exists (select 1 from account s where s.status = 'suspended'
       and ${onPathSql('s.id', { sql: column, params: [] }).sql})`;
  // Below (or, for users, in) one of the named accounts: a prefix of its path (what is
  // below a named account suspended already fails `active`).
  const under = (column: string, strictly: boolean) =>
    `exists (select 1 from account n where n.id in (${marks})
       and starts_with(${column}, n.path)${strictly ? ` and ${column} <> n.path` : ''})`;
  const [below] = await em.execute<{ resellers: string; customers: string }[]>(
    `select count(*) filter (where d.kind = 'reseller') as resellers,
            count(*) filter (where d.kind = 'customer') as customers
       from account d where ${under('d.path', true)} and d.id not in (${marks})
        and ${active('d.path')}`,
    [...unique, ...unique],
  );
  const readsUsers = can(actor, 'users:read');
  const [people] = readsUsers
    ? await em.execute<{ users: string }[]>(
        `select count(*) as users from app_user u join account ua on ua.id = u.account_id
          where u.status = 'active' and ${under('ua.path', false)} and ${active('ua.path')}`,
        unique,
      )
    : [];
  // Nothing is ever below a customer: that zero tells nobody anything.
  const counted = (grant: 'resellers:read' | 'customers:read', count: string | undefined) =>
    kind === 'customer' || can(actor, grant) ? Number(count ?? 0) : null;
  return {
    accounts: named.filter((account) => account.status === 'active').length,
    resellers: counted('resellers:read', below?.resellers),
    customers: counted('customers:read', below?.customers),
    users: readsUsers ? Number(people?.users ?? 0) : null,
  };
}
