import { defineEntity, p, type EntitySchema, type InferEntity } from '@mikro-orm/core';
import { versionedTimestamps } from './common';

export const ACCOUNT_KINDS = ['carrier', 'reseller', 'customer'] as const;
export const ACCOUNT_STATUSES = ['active', 'suspended'] as const;

/**
 * One node of the account tree (DESIGN §1). `path` is the materialized path of ids from
 * the root carrier down to this account, each followed by '/', e.g. `c1/r1/r2/`; a
 * subtree is the indexed prefix scan `path LIKE 'c1/r1/%'`. `parent` is typed loosely
 * (`{ id }`): a self-reference would make the inferred entity type circular.
 */
export const Account = defineEntity({
  name: 'Account',
  tableName: 'account',
  // Declared here as well as in the migration, so a generated migration keeps them.
  indexes: [
    {
      name: 'account_path_prefix_index',
      // `path LIKE 'prefix%'` uses it whatever the database collation is.
      expression:
        'create unique index "account_path_prefix_index" on "account" ("path" text_pattern_ops)',
    },
  ],
  checks: [
    {
      name: 'account_tree_shape_check',
      // Carriers are roots, everything else has a parent; the path ends with the
      // account's own id. Written as PostgreSQL prints it back (`~~` is LIKE), so the
      // schema comparator sees no change.
      expression: `(kind = 'carrier') = (parent_id is null) and depth >= 0 and path ~~ ('%' || id::text || '/')`,
    },
  ],
  properties: {
    id: p.uuid().primary(),
    kind: p.enum([...ACCOUNT_KINDS]),
    name: p.string().length(200),
    email: p.string().length(320).nullable(),
    parent: () =>
      p
        .manyToOne(Account as EntitySchema<{ id: string }>)
        .nullable()
        .deleteRule('restrict')
        .index(),
    path: p.text(),
    depth: p.smallint(),
    status: p.enum([...ACCOUNT_STATUSES]).default('active'),
    /**
     * Suspended: the path of the account whose person suspended it, which (or one above
     * it) alone may resume it (update-sub-account.ts `assertMayResume`).
     */
    suspendedByPath: p.text().nullable(),
    /** ISO 4217, chosen at creation (default: the parent's) and fixed afterwards. */
    currency: p.string().length(3),
    creditLimit: p.decimal('string').precision(18).scale(6).nullable(),
    /** The sum of the account's ledger entries, moved with them (services/ledger). */
    balance: p.decimal('string').precision(18).scale(6).default('0'),
    /**
     * Its own credit is used up: a credit limit is set and balance + limit <= 0. Set and
     * cleared in the transaction that moves the balance or the limit; what is below it
     * is blocked too (effective, like suspension: account-dto.ts).
     */
    creditBlocked: p.boolean().default(false),
    /**
     * Set by its parent's side: when a movement takes available credit (balance + limit)
     * from above this to at or below it, both sides are told (services/ledger).
     */
    warningThreshold: p.decimal('string').precision(18).scale(6).nullable(),
    /**
     * Since when the account is on its path: set by a customer's transfer (null: since it
     * was made). A call that started before it is of the customer's time under its old
     * parent: never rated on the new chain (services/usage/rate-batch.ts, `moved`).
     */
    placedAt: p.datetime().nullable(),
    ...versionedTimestamps(),
  },
});

export type TAccount = InferEntity<typeof Account>;
export type TAccountKind = (typeof ACCOUNT_KINDS)[number];
