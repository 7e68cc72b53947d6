/**
 * The grant catalog as the grant migrations saw it, frozen here rather than read from
 * lib/shared/permissions (a migration must keep meaning what it meant when it ran), and
 * the statements they share: a group holding the whole catalog as it was (a carrier's
 * administrators) gains the new grants, so its catalog stays whole and its admins can
 * hand them on; every other group keeps its grants (the subset rule: nobody is handed a
 * grant its group's owner did not choose). The change-log guard steps aside for these
 * rewrites, as for the log's own (Migration20261202100000).
 */

/** Resource × action, as it stood through issue 19. */
const MATRIX = [
  'resellers',
  'customers',
  'users',
  'groups',
  'cards',
  'rates',
  'assignments',
  'audit',
].flatMap((resource) =>
  ['read', 'create', 'update', 'delete'].map((action) => `${resource}:${action}`),
);

/** Before issue 17's money grants (Migration20261205300000). */
export const CATALOG_BEFORE_MONEY = [...MATRIX, 'impersonation:start'];
/** Before issue 18's usage and switch grants (Migration20261207100000, …07200000). */
export const CATALOG_BEFORE_USAGE = [...CATALOG_BEFORE_MONEY, 'payments:create', 'ledger:read'];
/** Before issue 19's brand grants (Migration20261209100000). */
export const CATALOG_BEFORE_BRANDS = [
  ...CATALOG_BEFORE_USAGE,
  'calls:authorize',
  'usage:create',
  'usage:read',
];
/** Before issue 19's statement grants (Migration20261211100000). */
export const CATALOG_BEFORE_STATEMENTS = [...CATALOG_BEFORE_BRANDS, 'brand:read', 'brand:update'];
/** Before the ledger's corrections (Migration20261224200000). */
export const CATALOG_BEFORE_ADJUSTMENTS = [
  ...CATALOG_BEFORE_STATEMENTS,
  'statements:read',
  'statements:create',
];

const textArray = (values: readonly string[]) =>
  `array[${values.map((v) => `'${v}'`).join(', ')}]::text[]`;

const guarded = (statement: string) => [
  `alter table "user_group" disable trigger user_group_change_log_required;`,
  statement,
  `alter table "user_group" enable trigger user_group_change_log_required;`,
];

/** Every group holding all of `before` gains `added` (once). */
export function widenWholeCatalogGroups(
  before: readonly string[],
  added: readonly string[],
): string[] {
  return guarded(
    `update "user_group" set "grants" = "grants" || ${textArray(added)} where "grants" @> ${textArray(before)} and not "grants" && ${textArray(added)};`,
  );
}

/** `added` taken back from every group (a migration's down). */
export function withdrawGrants(added: readonly string[]): string[] {
  return guarded(
    `update "user_group" set "grants" = array(select g from unnest("grants") g where g <> all(${textArray(added)}));`,
  );
}
