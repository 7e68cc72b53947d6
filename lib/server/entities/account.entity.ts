import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const ACCOUNT_KINDS = ['carrier', 'reseller', 'customer'] as const;
export const ACCOUNT_STATUSES = ['active', 'suspended'] as const;

/**
 * One node of the account tree (DESIGN §1). `path` is the materialized path of ids from
 * the root carrier down to this account, each followed by '/', e.g. `c1/r1/r2/`; a
 * subtree is the indexed prefix scan `path LIKE 'c1/r1/%'` (text_pattern_ops index in
 * the migration). `parentId` is a plain column with a foreign key so the tree can be
 * walked without loading relations.
 */
export const Account = defineEntity({
  name: 'Account',
  tableName: 'account',
  properties: {
    id: p.uuid().primary(),
    kind: p.enum([...ACCOUNT_KINDS]),
    name: p.string().length(200),
    email: p.string().length(320).nullable(),
    parentId: p.uuid().nullable().index(),
    path: p.text(),
    depth: p.smallint(),
    status: p.enum([...ACCOUNT_STATUSES]).default('active'),
    creditLimit: p.decimal('string').precision(18).scale(6).nullable(),
    version: p.integer().version(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type TAccount = InferEntity<typeof Account>;
export type TAccountKind = (typeof ACCOUNT_KINDS)[number];
