import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { can } from '@/lib/server/authz/can';
import { cardScopeSql } from '@/lib/server/authz/card-relation';
import { scopeFor } from '@/lib/server/authz/scope';
import type { TDashboardCounts } from '@/lib/shared/schemas/dashboard';

/**
 * `GET /dashboard`: how many resellers, customers, users and cards the actor sees — the
 * same scope rules as each list, counted; a resource its group does not grant is null.
 */
export async function dashboardCounts(em: EntityManager, actor: TActor): Promise<TDashboardCounts> {
  const accounts = (kind: 'reseller' | 'customer') =>
    can(actor, `${kind}s:read`) ? em.count(Account, scopeFor(actor, kind)) : null;
  const cards = async () => {
    if (!can(actor, 'cards:read')) return null;
    const scope = cardScopeSql(actor);
    const rows = await em.execute<{ count: string }[]>(
      `select count(*) as count from card c join account o on o.id = c.owner_id where ${scope.where}`,
      scope.params,
    );
    return Number(rows[0]?.count ?? 0);
  };
  const [resellers, customers, users, cardCount] = await Promise.all([
    accounts('reseller'),
    accounts('customer'),
    can(actor, 'users:read') ? em.count(User, scopeFor(actor, 'user')) : null,
    cards(),
  ]);
  return { resellers, customers, users, cards: cardCount };
}
