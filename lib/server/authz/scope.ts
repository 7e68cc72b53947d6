import type { TActor } from './actor';

/**
 * Visibility in one rule (DESIGN §1): an entity has a *scope path* — the account path
 * under which it lives — and a viewer sees it when the viewer's account path is a prefix
 * of that path and the group grants `<resource>:read`. Scope paths:
 * - an account (reseller, customer): its parent's path, so a reseller's own users see
 *   its sub-accounts but not the reseller itself (that is `/me`), and an account never
 *   sees a sibling or an ancestor;
 * - a user or a group: its account's path.
 * `isWithin` is the pure rule; `scopeFor` is the same rule as query filters, used by every
 * read and write query so a forgotten check matches no rows instead of leaking.
 */
export function isWithin(viewerPath: string, scopePath: string | null | undefined): boolean {
  return typeof scopePath === 'string' && scopePath.startsWith(viewerPath);
}

/** `LIKE` pattern matching every path in the actor's subtree, its own included. */
export function subtreePattern(actor: Pick<TActor, 'account'>): string {
  return escapeLike(actor.account.path) + '%';
}

/** The scope path of an account: its parent's path (carriers have none). */
export function accountScopePath(account: { path: string; id: string }): string | null {
  const parentPath = account.path.slice(0, account.path.length - account.id.length - 1);
  return parentPath === '' ? null : parentPath;
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => '\\' + char);
}

/** What a query is about, for `scopeFor`. */
export type TScopedKind = 'reseller' | 'customer' | 'user' | 'group' | 'account';

/**
 * THE filter every read and write of that kind includes (MikroORM `FilterQuery`):
 * - reseller / customer: strictly below the actor's account (its own is `/me`);
 * - user, group (owned): in the actor's account or below;
 * - account: the actor's account or below (a place to put a user or a group).
 * Combine with `$and` so the scope cannot be overwritten by another condition.
 */
export function scopeFor(
  actor: Pick<TActor, 'account'>,
  kind: TScopedKind,
): Record<string, unknown> {
  const inSubtree = { $like: subtreePattern(actor) };
  switch (kind) {
    case 'reseller':
    case 'customer':
      return { kind, path: inSubtree, id: { $ne: actor.account.id } };
    case 'user':
    case 'group':
      return { account: { path: inSubtree } };
    case 'account':
      return { path: inSubtree };
  }
}

/** Each account on a scope path with its own path: `a/b/` → [[a, 'a/'], [b, 'a/b/']]. */
export function ancestorPrefixes(scopePath: string | null): [string, string][] {
  if (!scopePath) return [];
  const ids = scopePath.split('/').filter(Boolean);
  return ids.map((id, index) => [id, ids.slice(0, index + 1).join('/') + '/']);
}
