import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { evaluateUserAccess } from '@/lib/server/authz/actor';
import { assertCan, can } from '@/lib/server/authz/can';
import { groupRelation } from '@/lib/server/authz/group-relation';
import type { TGrant } from '@/lib/shared/permissions';
import type { TAccessSection, TUserAccess } from '@/lib/shared/schemas/users';
import { dashboardCounts } from '@/lib/server/services/dashboard/dashboard-counts';
import { listSubAccounts } from '@/lib/server/services/accounts/list-sub-accounts';
import { listCards } from '@/lib/server/services/cards/list-cards';
import { findScopedUser } from './user-access';

/** How many of each the explanation lists; the totals are always exact. */
export const ACCESS_LIST_LIMIT = 200;

/**
 * "Check what your reseller sees" without signing in as them (DESIGN §1 "Groups are
 * explainable"). The user's own actor is built exactly as a request of theirs would be,
 * and the same list and count services answer for it — nothing here decides visibility.
 * The viewer must be able to read the user and groups; a section the viewer could not
 * read itself is withheld, so explaining never shows more than the viewer's own panel.
 */
export async function explainAccess(
  em: EntityManager,
  viewer: TActor,
  unverifiedUserId: string,
): Promise<TUserAccess> {
  assertCan(viewer, 'users:read');
  assertCan(viewer, 'groups:read');
  const user = await findScopedUser(em, viewer, unverifiedUserId);
  await em.populate(user, ['group.account']);
  const evaluated = await evaluateUserAccess(em, user.id);
  // The user's group may belong to an account above the viewer: shown only to a viewer
  // with a relation to it (owner, or use-only to those who may assign it), like
  // `GET /groups/{id}` — otherwise neither its name nor its grants.
  const groupVisible = groupRelation(viewer, user.group) !== null;
  const base = {
    user: { id: user.id, email: user.email, name: user.name },
    account: { id: user.account.id, name: user.account.name, kind: user.account.kind },
    group: groupVisible ? { id: user.group.id, name: user.group.name } : null,
    mustChangePassword: user.mustChangePassword,
  };
  if (!evaluated || 'denied' in evaluated) {
    return {
      ...base,
      denied: evaluated?.denied ?? 'no_group',
      grants: [],
      resellers: withheld(viewer, 'resellers:read') ?? notGranted(),
      customers: withheld(viewer, 'customers:read') ?? notGranted(),
      cards: withheld(viewer, 'cards:read') ?? notGranted(),
    };
  }
  if (!groupVisible) {
    // Which sections hold a list, and which say "not granted", is the group's grants told
    // another way: withheld as the grants are (`GET /groups/{id}` answers 404).
    const hidden = { hiddenFrom: 'group' } as const;
    return {
      ...base,
      denied: null,
      grants: null,
      resellers: hidden,
      customers: hidden,
      cards: hidden,
    };
  }
  const target = evaluated.actor;
  const counts = await dashboardCounts(em, target);
  const limit = ACCESS_LIST_LIMIT;
  const accounts = async (kind: 'reseller' | 'customer') => {
    const page = await listSubAccounts(em, target, kind, { limit });
    return page.items.map(({ id, name, parentId, status }) => ({ id, name, parentId, status }));
  };
  const cards = async () => {
    const page = await listCards(em, target, { limit });
    return page.items.map(({ id, name, kind, relation }) => ({ id, name, kind, relation }));
  };
  return {
    ...base,
    denied: null,
    grants: target.grants,
    resellers: await section(viewer, target, 'resellers:read', counts.resellers, () =>
      accounts('reseller'),
    ),
    customers: await section(viewer, target, 'customers:read', counts.customers, () =>
      accounts('customer'),
    ),
    cards: await section(viewer, target, 'cards:read', counts.cards, cards),
  };
}

function withheld(viewer: TActor, grant: TGrant) {
  return can(viewer, grant) ? null : ({ hiddenFrom: 'viewer', grant } as const);
}

async function section<TItem>(
  viewer: TActor,
  target: TActor,
  grant: TGrant,
  total: number | null,
  list: () => Promise<TItem[]>,
): Promise<TAccessSection<TItem>> {
  const hidden = withheld(viewer, grant);
  if (hidden) return hidden;
  if (!can(target, grant) || total === null) return notGranted();
  return { total, items: await list() };
}

function notGranted(): { total: 0; items: []; notGranted: true } {
  return { total: 0, items: [], notGranted: true };
}
