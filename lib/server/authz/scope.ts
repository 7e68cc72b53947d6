import type { TActor } from './actor';

/**
 * Visibility in one rule (DESIGN §1): an entity has a *scope path* — the account path
 * under which it lives — and a viewer sees it when the viewer's account path is a prefix
 * of that path and the group grants `<resource>:read`. Scope paths:
 * - an account (reseller, customer): its parent's path, so a reseller's own users see
 *   its sub-accounts but not the reseller itself (that is `/me`), and an account never
 *   sees a sibling or an ancestor;
 * - a user or a group: its account's path.
 *
 * The subtree rule lives here alone, in each dialect it is asked in:
 * - TypeScript: `isWithin` (the account itself or under it), `isBelow` (strictly under);
 * - SQL text: `withinSql`, `belowSql` (a path column inside a subtree, an indexed prefix
 *   scan), `holdsSql` (a path column that is the given path or one of its ancestors),
 *   `onPathSql` (an account id column naming the account at a path, or an ancestor);
 * - MikroORM: `withinFilter`, `belowFilter` (on a path), `holdingFilter`, `aboveFilter`
 *   (on an account: the rule read the other way round), and `scopeFor` per kind.
 * Paths end with '/', so a sibling whose id shares characters (`r1/` and `r10/`) is never
 * a prefix. tests/integration/scope-rule.test.ts holds the dialects to each other.
 */

/** The subtree rule: `path` is `ancestorPath` itself or lies anywhere under it. */
export function isWithin(ancestorPath: string, path: string | null | undefined): boolean {
  return typeof path === 'string' && path.startsWith(ancestorPath);
}

/** Strictly under `ancestorPath`: a descendant, never the account itself. */
export function isBelow(ancestorPath: string, path: string | null | undefined): boolean {
  return (
    typeof path === 'string' && path.length > ancestorPath.length && isWithin(ancestorPath, path)
  );
}

/** A piece of SQL with its `?` parameters, in order. */
export interface TSqlFragment {
  sql: string;
  params: string[];
}

/**
 * `column` (SQL text naming a path) is within the subtree: `LIKE 'prefix%'`, which the
 * `text_pattern_ops` indexes on account paths and change-log scopes serve. The ancestor's
 * path may be SQL giving one (another row's path column, a subquery) with its
 * parameters: then `starts_with`, the rule as it reads, for a row already found by key
 * (the switch's authorization reads its caller's path in the same statement).
 */
export function withinSql(column: string, ancestorPath: string | TSqlFragment): TSqlFragment {
  if (typeof ancestorPath !== 'string') {
    return { sql: `starts_with(${column}, ${ancestorPath.sql})`, params: ancestorPath.params };
  }
  return { sql: `${column} like ?`, params: [withinPattern(ancestorPath)] };
}

/**
 * Who reads a movement on an account's books (a ledger entry, a statement made of them):
 * a viewer at or above the other side of it — the parent the account had when it moved
 * (`counterpartyColumn`, an account id; null for a carrier's own) — or the account's own
 * people, of what moved on their parent's books now. So after a transfer the new parent
 * reads what moved on its own books, never what the customer did under the old one (its
 * prices, its payments, its statements) — not even through a user it makes in the
 * customer: a customer with people is never transferred, so the people it has after a
 * transfer are all of the new side's making.
 */
export function booksSql(
  viewer: { id: string; path: string },
  accountColumn: string,
  counterpartyColumn: string,
): TSqlFragment {
  const within = withinSql('books.path', viewer.path);
  // '' for a carrier, which has no parent: its own movements name no counterparty.
  const parentId = ancestorPrefixes(viewer.path).at(-2)?.[0] ?? '';
  return {
    sql: `((${accountColumn} = ? and ${counterpartyColumn} is not distinct from nullif(?, '')::uuid)
             or exists (select 1 from account books
                         where books.id = ${counterpartyColumn} and ${within.sql}))`,
    params: [viewer.id, parentId, ...within.params],
  };
}

/** `column` is strictly below `ancestorPath`: at least one character after the prefix. */
export function belowSql(column: string, ancestorPath: string): TSqlFragment {
  return { sql: `${column} like ?`, params: [belowPattern(ancestorPath)] };
}

/**
 * `column` holds `path` or an ancestor of it: the rule read the other way round (a group
 * or card owned above the viewer). Literal, so nothing in `column` needs escaping.
 */
export function holdsSql(column: string, path: string): TSqlFragment {
  return { sql: `starts_with(?, ${column})`, params: [path] };
}

/**
 * `idColumn` (a uuid column) names an account on `path` — the account there or one of
 * its ancestors: the ids on a path are exactly those accounts, so no account is read and
 * the primary key serves the `= any(uuid[])`. `path` is a path, or SQL giving one (such
 * as another row's path column) with its parameters.
 */
export function onPathSql(idColumn: string, path: string | TSqlFragment): TSqlFragment {
  const given = typeof path === 'string' ? { sql: '?', params: [path] } : path;
  return {
    sql: `${idColumn} = any(string_to_array(rtrim(${given.sql}, '/'), '/')::uuid[])`,
    params: given.params,
  };
}

/** A MikroORM condition on a path property: within the subtree. */
export function withinFilter(ancestorPath: string): { $like: string } {
  return { $like: withinPattern(ancestorPath) };
}

/** A MikroORM condition on a path property: strictly below. */
export function belowFilter(ancestorPath: string): { $like: string } {
  return { $like: belowPattern(ancestorPath) };
}

/**
 * A MikroORM condition on an account: it is the account at `path` or one of its
 * ancestors. The ids on the path are exactly those accounts (the tree's shape is checked
 * by the database), so this is a primary-key lookup rather than a scan.
 */
export function holdingFilter(path: string): { id: { $in: string[] } } {
  return { id: { $in: ancestorPrefixes(path).map(([id]) => id) } };
}

/** A MikroORM condition on an account: strictly above the account at `path`. */
export function aboveFilter(path: string): { id: { $in: string[] } } {
  return {
    id: {
      $in: ancestorPrefixes(path)
        .map(([id]) => id)
        .slice(0, -1),
    },
  };
}

function withinPattern(ancestorPath: string): string {
  return escapeLike(ancestorPath) + '%';
}

function belowPattern(ancestorPath: string): string {
  return escapeLike(ancestorPath) + '_%';
}

/** An account's parent's path: its own, less its last step ('' for a carrier). */
export function parentPathOf(account: { path: string; id: string }): string {
  return account.path.slice(0, account.path.length - account.id.length - 1);
}

/** The scope path of an account: its parent's path (carriers have none). */
export function accountScopePath(account: { path: string; id: string }): string | null {
  const parentPath = parentPathOf(account);
  return parentPath === '' ? null : parentPath;
}

/**
 * The carrier (tenant) a path belongs to: the tree's root, the first id on the path.
 * Its log position (lib/server/live/change-log.ts) is kept per carrier.
 */
export function carrierIdOf(path: string): string {
  return path.slice(0, path.indexOf('/'));
}

/** Makes `value` match itself alone in a `LIKE` pattern (the default escape is `\`). */
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
  const path = actor.account.path;
  switch (kind) {
    case 'reseller':
    case 'customer':
      return { kind, path: belowFilter(path) };
    case 'user':
    case 'group':
      return { account: { path: withinFilter(path) } };
    case 'account':
      return { path: withinFilter(path) };
  }
}

/** Each account on a scope path with its own path: `a/b/` → [[a, 'a/'], [b, 'a/b/']]. */
export function ancestorPrefixes(scopePath: string | null): [string, string][] {
  if (!scopePath) return [];
  const ids = scopePath.split('/').filter(Boolean);
  return ids.map((id, index) => [id, ids.slice(0, index + 1).join('/') + '/']);
}
