import { COMPACTIONS, type TMarkupRule } from '@/lib/shared/pricing/markup';
import { randomUUID } from 'node:crypto';
import { defineEntity, p, type EntitySchema, type InferEntity } from '@mikro-orm/core';
import { ROUNDING_MODES } from '@/lib/shared/pricing/money';
import { versionedTimestamps } from './common';
import { Account } from './account.entity';

export const CARD_KINDS = ['provider', 'customer'] as const;

/**
 * A rate card (DESIGN §1 "Rate cards"), owned by one account. `kind` is relative to its
 * owner: provider = what the owner buys, customer = what it sells and may assign. A
 * derived card has a `parent` and a markup rule; its rates are recomputed from the
 * parent's in the transaction that changes them (lib/server/services/cards/derive-sql.ts).
 * The card's version moves with its rate set too, so a rates change is an update of
 * the card in the change log (its rates are not logged row by row).
 */
export const Card = defineEntity({
  name: 'Card',
  tableName: 'card',
  checks: [
    { name: 'card_decimals_check', expression: '((decimals >= 4) AND (decimals <= 6))' },
    {
      name: 'card_min_notice_hours_check',
      expression: '((min_notice_hours >= 0) AND (min_notice_hours <= 8760))',
    },
    {
      name: 'card_notice_floor_hours_check',
      expression: '((notice_floor_hours >= 1) AND (notice_floor_hours <= 8760))',
    },
    // Never its own parent (Migration20261222100000).
    { name: 'card_not_own_parent', expression: '(parent_id <> id)' },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    owner: () => p.manyToOne(Account).deleteRule('restrict').index(),
    name: p.string().length(200),
    /** ISO 4217, fixed at creation. */
    currency: p.string().length(3),
    kind: p.enum([...CARD_KINDS]),
    decimals: p.smallint().default(4),
    rounding: p.enum([...ROUNDING_MODES]).default('half_up'),
    /**
     * A derived card whose derive or last edit did not set its precision (or rounding):
     * it follows its parent's, now and whenever that changes (rate-sets.ts
     * `followParentTerms`). False on a card that is not derived.
     */
    decimalsFromParent: p.boolean().default(false),
    roundingFromParent: p.boolean().default(false),
    parent: () =>
      p
        .manyToOne(Card as EntitySchema<{ id: string }>)
        .nullable()
        .deleteRule('restrict')
        .index(),
    markupPercent: p.decimal('string').precision(12).scale(6).nullable(),
    markupFixed: p.decimal('string').precision(18).scale(6).nullable(),
    /** Per-prefix sell rates replacing the marked-up one: `[{ prefix, rate }]`. */
    overrides: p.json<{ prefix: string; rate: string }[]>().nullable(),
    /**
     * Derived cards: their own billing structure (sell 60/60 on a 1/1 buy); null takes
     * the parent's, row by row.
     */
    billingInitialIncrement: p.integer().nullable(),
    billingIncrement: p.integer().nullable(),
    billingGraceSeconds: p.integer().nullable(),
    billingMinimumSeconds: p.integer().nullable(),
    /** Derived cards: the percent and fixed markup apply to the connection fee too. */
    markupFee: p.boolean().default(false),
    /**
     * Derived cards: markup by prefix, `[{ prefix, mode, value }]` — a prefix and everything
     * under it, the longest covering rule winning over the card-wide markup.
     */
    rules: p.json<TMarkupRule[]>().nullable(),
    /**
     * Derived cards following several parents (listed in `card_parent`, priority order):
     * how their rows for one prefix become one. Null with a single parent.
     */
    compaction: p.enum([...COMPACTIONS]).nullable(),
    /**
     * The parents after `parent`, priority order: what `card_parent` holds (its foreign
     * keys and the followers' traversal), kept here so a card reads without a join.
     */
    moreParents: p.json<string[]>().nullable(),
    /**
     * A customer card built by hand: the provider cards its margin report compares it
     * against (profit assurance, issue 16 §3).
     */
    compareWith: p.json<string[]>().nullable(),
    /** Kept by the rate writers, so a card reads without counting 100k rows. */
    rateCount: p.integer().default(0),
    /** Rows flagged by the margin check (derived cards). */
    losingRates: p.integer().default(0),
    /** Hours of notice a revision raising any price must give (none when null). */
    minNoticeHours: p.integer().nullable(),
    /**
     * A notice lowered still binds at its old hours until then (Migration20261223100000):
     * its holders were promised it.
     */
    noticeFloorHours: p.integer().nullable(),
    noticeFloorUntil: p.datetime().nullable(),
    /**
     * The revision live on the card (0: none yet): the `rate` view reads its rows from
     * `rate_history` (Migration20261220100000). Written by the rate writers in SQL only.
     */
    liveRevision: p.integer().default(0),
    ...versionedTimestamps(),
  },
});

export type TCard = InferEntity<typeof Card>;
export type TCardKind = (typeof CARD_KINDS)[number];

/**
 * A customer card given to an account directly under its owner (DESIGN §1
 * "Assignments"). A customer holds at most one (`exclusive`, a partial unique index); a
 * reseller may hold several, each once.
 */
export const CardAssignment = defineEntity({
  name: 'CardAssignment',
  tableName: 'card_assignment',
  uniques: [{ properties: ['card', 'account'] }],
  indexes: [
    {
      name: 'card_assignment_one_per_customer',
      expression:
        'create unique index "card_assignment_one_per_customer" on "card_assignment" ("account_id") where exclusive',
    },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    card: () => p.manyToOne(Card).deleteRule('restrict').index(),
    account: () => p.manyToOne(Account).deleteRule('restrict').index(),
    exclusive: p.boolean(),
    ...versionedTimestamps(),
  },
});

export type TCardAssignment = InferEntity<typeof CardAssignment>;
