import { z } from 'zod';
import { COMPACTIONS, RULE_MODES } from '@/lib/shared/pricing/markup';
import { MAX_DECIMALS, MIN_DECIMALS, ROUNDING_MODES } from '@/lib/shared/pricing/money';
import {
  CURSOR_MAX,
  sayAmountProblem,
  ZCurrency,
  ZEntityMeta,
  ZId,
  ZPageQuery,
  ZSort,
  ZNameText,
  ZText,
  ZVersion,
} from './common';
import { ZPrice, ZRowPrefix } from './rates';
import { ZRevisionRef } from './revisions';
import { ZIdempotencyKey } from './ledger';

export const ZDecimals = z
  .number('must be a whole number from 4 to 6')
  .int('must be a whole number from 4 to 6')
  .min(MIN_DECIMALS, `must be ${MIN_DECIMALS} to ${MAX_DECIMALS}`)
  .max(MAX_DECIMALS, `must be ${MIN_DECIMALS} to ${MAX_DECIMALS}`);
export const ZRounding = z.enum(ROUNDING_MODES, `must be one of ${ROUNDING_MODES.join(', ')}`);

/** A markup percentage as a decimal string ("20", "7.5"): 0 to 1000, up to 6 decimals. */
const ZPercent = ZText('must be a decimal string such as "20"')
  .trim()
  // A markup is never negative (a card sells at its cost or above it): said so, since
  // "-10" is a decimal string too.
  .regex(
    /^\d{1,4}(\.\d{1,6})?$/,
    'must be a percentage from 0 to 1000, such as "20" (up to 6 decimals)',
  )
  .refine((value) => Number.parseFloat(value) <= 1000, 'must be at most 1000');

const ZCardName = ZNameText(200);

// Written prefixes, as a rate row's: one starting 00 would match no dialled number.
export const ZOverride = z.strictObject({ prefix: ZRowPrefix, rate: ZPrice });
export const ZOverrides = z
  .array(ZOverride)
  .max(10_000, 'at most 10000 overrides')
  .refine(
    (rows) => new Set(rows.map((row) => row.prefix)).size === rows.length,
    'names a prefix twice',
  );

const billingSeconds = (min: number, max: number) =>
  z
    .number('must be a whole number of seconds')
    .int('must be a whole number of seconds')
    .min(min, `must be ${min} to ${max}`)
    .max(max, `must be ${min} to ${max}`);

/**
 * A derived card's own billing structure (issue 16 §3): absent takes the parent's, row
 * by row; the bounds are a rate row's.
 */
const ZBillingFields = {
  initialIncrement: billingSeconds(1, 3600),
  increment: billingSeconds(1, 3600),
  graceSeconds: billingSeconds(0, 600),
  /** Minimum duration: a billed call shorter than it is billed as this long. */
  minimumSeconds: billingSeconds(0, 3600),
};

/**
 * Markup rules by prefix: a percentage (as `markupPercent`) or a price per minute (added,
 * or the absolute rate); each prefix once.
 */
export const ZMarkupRule = z
  .strictObject({
    prefix: ZRowPrefix,
    mode: z.enum(RULE_MODES, `must be one of ${RULE_MODES.join(', ')}`),
    value: ZText('is required').trim(),
  })
  .superRefine((rule, ctx) => {
    const parsed = (rule.mode === 'percent' ? ZPercent : ZPrice).safeParse(rule.value);
    if (!parsed.success) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: parsed.error.issues[0]?.message ?? 'is not valid',
      });
    }
  });
export const ZMarkupRules = z
  .array(ZMarkupRule)
  .max(10_000, 'at most 10000 rules')
  .refine(
    (rows) => new Set(rows.map((row) => row.prefix)).size === rows.length,
    'names a prefix twice',
  );

/** `POST /cards` (DESIGN §3): owned by the caller's account; currency fixed from now on. */
export const ZCardCreate = z.strictObject({
  name: ZCardName,
  currency: ZCurrency,
  kind: z.enum(['provider', 'customer'], 'must be "provider" or "customer"'),
  decimals: ZDecimals.default(MIN_DECIMALS),
  rounding: ZRounding.default('half_up'),
});
export type TCardCreate = z.infer<typeof ZCardCreate>;

export const ZCompaction = z.enum(COMPACTIONS, `must be one of ${COMPACTIONS.join(', ')}`);

/** `POST /cards/{id}/derive`: a customer card of the caller's account following `{id}`. */
export const ZCardDerive = z.strictObject({
  name: ZCardName,
  markupPercent: ZPercent.optional(),
  markupFixed: ZPrice.optional(),
  decimals: ZDecimals.optional(),
  rounding: ZRounding.optional(),
  overrides: ZOverrides.optional(),
  initialIncrement: ZBillingFields.initialIncrement.optional(),
  increment: ZBillingFields.increment.optional(),
  graceSeconds: ZBillingFields.graceSeconds.optional(),
  minimumSeconds: ZBillingFields.minimumSeconds.optional(),
  /** Percent and fixed markup apply to the connection fee too (fixed once per call). */
  markupFee: z.boolean('must be true or false').optional(),
  rules: ZMarkupRules.optional(),
  /**
   * More provider cards after `{id}`, in priority order (issue 16 §3): the card follows
   * them all, one row per prefix chosen by `compaction`. Same currency as `{id}`.
   */
  moreParents: z
    .array(ZId)
    .max(9, 'at most 9 more parents')
    .refine((ids) => new Set(ids).size === ids.length, 'names a card twice')
    .optional(),
  compaction: ZCompaction.optional(),
});
export type TCardDerive = z.infer<typeof ZCardDerive>;

/**
 * `PATCH /cards/{id}`: name and rounding on any card; the markup rule on a derived one
 * (its rates recompute). Currency and kind never change.
 */
export const ZCardPatch = z.strictObject({
  version: ZVersion,
  name: ZCardName.optional(),
  /** null (a derived card): its parent's, followed when the parent's changes. */
  decimals: ZDecimals.nullable().optional(),
  rounding: ZRounding.nullable().optional(),
  markupPercent: ZPercent.nullable().optional(),
  markupFixed: ZPrice.nullable().optional(),
  overrides: ZOverrides.nullable().optional(),
  /** null: back to the parent's. */
  initialIncrement: ZBillingFields.initialIncrement.nullable().optional(),
  increment: ZBillingFields.increment.nullable().optional(),
  graceSeconds: ZBillingFields.graceSeconds.nullable().optional(),
  minimumSeconds: ZBillingFields.minimumSeconds.nullable().optional(),
  /**
   * A customer card that is not derived: provider cards (same currency) whose cheapest
   * matching rate its rows must not sell below on any call length; null or [] for none.
   */
  compareWith: z
    .array(ZId)
    .max(10, 'at most 10 cards')
    .refine((ids) => new Set(ids).size === ids.length, 'names a card twice')
    .nullable()
    .optional(),
  markupFee: z.boolean('must be true or false').optional(),
  rules: ZMarkupRules.nullable().optional(),
  /**
   * A derived card's parents, replaced (priority order, the first the card's `parentId`):
   * the same rules as deriving — same currency, each visible and held by the card's
   * owner, none derived from this card. The rows are recomputed, live now.
   */
  parents: z
    .array(ZId)
    .min(1, 'names at least one card')
    .max(10, 'at most 10 parents')
    .refine((ids) => new Set(ids).size === ids.length, 'names a card twice')
    .optional(),
  /** With several parents: how their rows for one prefix become one. */
  compaction: ZCompaction.optional(),
  /** Hours of notice a rate revision raising any price must give; null for none. */
  minNoticeHours: z
    .number('must be a whole number of hours')
    .int('must be a whole number of hours')
    .min(0, 'must be 0 to 8760')
    .max(8760, 'must be 0 to 8760')
    .nullable()
    .optional(),
});
export type TCardPatch = z.infer<typeof ZCardPatch>;

export const ZCardListQuery = ZPageQuery.extend({
  /** `provider` includes cards assigned to the caller's account (its buy side). */
  kind: z.enum(['provider', 'customer']).optional(),
  ownerId: ZId.optional(),
  q: ZText().trim().max(200).optional(),
  sort: ZSort(['name', 'createdAt']),
  /** `assigned`: only the cards assigned to the caller's account; `owner`: only its own subtree's. */
  relation: z.enum(['owner', 'assigned']).optional(),
});

/** The owner's (and its ancestors') view: everything (DESIGN §1). */
export const ZCardOwnerDto = ZEntityMeta.extend({
  relation: z.literal('owner'),
  name: z.string(),
  currency: z.string(),
  kind: z.enum(['provider', 'customer']),
  decimals: z.number().int(),
  rounding: ZRounding,
  ownerId: z.string(),
  parentId: z.string().nullable(),
  /** Every parent, priority order (`parentId` first); empty on a card that is not derived. */
  parentIds: z.array(z.string()),
  /** How several parents' rows for a prefix become one (null with one parent). */
  compaction: ZCompaction.nullable(),
  /** A hand-built customer card: the provider cards its margin is assured against. */
  compareWith: z.array(z.string()),
  markup: z
    .object({
      percent: z.string().nullable(),
      fixed: z.string().nullable(),
      overrides: z.array(ZOverride),
      /** The markup applies to the connection fee too. */
      fee: z.boolean(),
      /** Its precision and rounding are its parent's, followed when those change. */
      decimalsFromParent: z.boolean(),
      roundingFromParent: z.boolean(),
      /** The card's own billing structure; null fields are the parent's, per row. */
      initialIncrement: z.number().int().nullable(),
      increment: z.number().int().nullable(),
      graceSeconds: z.number().int().nullable(),
      minimumSeconds: z.number().int().nullable(),
      /** Markup by prefix; the longest covering rule prices a row (an override before it). */
      rules: z.array(z.object({ prefix: z.string(), mode: z.enum(RULE_MODES), value: z.string() })),
    })
    .nullable(),
  rateCount: z.number().int(),
  losingRates: z.number().int(),
  /** Hours of notice a revision raising any price must give (null: none). */
  minNoticeHours: z.number().int().nullable(),
});
export type TCardOwnerDto = z.infer<typeof ZCardOwnerDto>;

/**
 * An assignee's view: name, currency and rates (its buy price) — never the parent, the
 * markup, the margin, nor who else holds the card. To the assignee it is a provider card.
 */
export const ZCardAssignedDto = ZEntityMeta.extend({
  relation: z.literal('assigned'),
  name: z.string(),
  currency: z.string(),
  kind: z.literal('provider'),
  decimals: z.number().int(),
  rateCount: z.number().int(),
});
export type TCardAssignedDto = z.infer<typeof ZCardAssignedDto>;
export type TCardDto = TCardOwnerDto | TCardAssignedDto;

/** The assignee's view of an owner's DTO: the one place that decides what it keeps. */
export function assignedView(card: TCardOwnerDto): TCardAssignedDto {
  return {
    id: card.id,
    version: card.version,
    createdAt: card.createdAt,
    updatedAt: card.updatedAt,
    relation: 'assigned',
    name: card.name,
    currency: card.currency,
    kind: 'provider',
    decimals: card.decimals,
    rateCount: card.rateCount,
  };
}

export const ZAssignmentCreate = z.strictObject({ cardId: ZId, accountId: ZId });
export const ZAssignmentListQuery = ZPageQuery.extend({
  cardId: ZId.optional(),
  accountId: ZId.optional(),
  sort: ZSort(['createdAt', 'cardName', 'accountName']),
});
/**
 * `POST /assignments/bulk`: one card to several accounts, all or nothing. An account
 * that holds the card already is left as it is (a repeat changes nothing).
 */
export const ZAssignmentBulk = z.strictObject({
  cardId: ZId,
  accountIds: z.array(ZId).min(1, 'names at least one account').max(500, 'at most 500 at once'),
});
/**
 * An assignment names the card and the account by id, and by their current names as
 * read with it (never stored on the assignment): a rename of either asks for the
 * assignment lists to be read again (`refetch` in its change's summary), as a rename of
 * an account does for its users' `accountName`.
 */
export const ZAssignmentDto = ZEntityMeta.extend({
  cardId: z.string(),
  cardName: z.string(),
  /** The card's currency: what the holder is billed in. */
  cardCurrency: z.string(),
  accountId: z.string(),
  accountName: z.string(),
  accountKind: z.enum(['reseller', 'customer']),
});
export type TAssignmentDto = z.infer<typeof ZAssignmentDto>;

/**
 * `rate`: how many units of the target's currency one unit of the customer's is worth,
 * when the target's currency differs (409 `currency_mismatch` without it). The customer
 * then takes the target's currency; its balance and credit limit are converted.
 */
export const ZTransfer = z.strictObject({
  toParentId: ZId,
  cardId: ZId,
  rate: ZText('must be a decimal string such as "1.0850"')
    .trim()
    .superRefine(sayAmountProblem({ digits: 6, decimals: 8, example: '1.0850' }))
    .regex(/^\d{1,6}(\.\d{1,8})?$/, 'must be a decimal string such as "1.0850" (up to 8 decimals)')
    .refine((value) => /[1-9]/.test(value), 'must be more than zero')
    .optional(),
  /**
   * The customer's balance: `keep` (the default) moves it with the customer — closed on
   * the old parent's books and opened on the new one's (two ledger adjustments), converted
   * at `rate` when the currency changes; `settle` closes it on the old parent's books
   * (one ledger adjustment) and the customer starts at zero under the new one.
   */
  balance: z.enum(['keep', 'settle'], 'must be keep or settle').optional(),
  /**
   * The customer's currency as the caller saw it, which `rate` converts from: refused
   * (409 `currency_changed`) when the customer is in another by the time it moves (an
   * earlier transfer converted it). Optional; the panel's wizard always sends it.
   */
  fromCurrency: ZCurrency.optional(),
  /**
   * Names the attempt: a retry with it answers what the first did. Required when the move
   * moves money — a balance that is not zero, kept or settled, or a conversion: ledger
   * movements (DESIGN §1 "Money"); the dry run writes nothing and needs none.
   */
  idempotencyKey: ZIdempotencyKey.optional(),
});
export type TTransfer = z.infer<typeof ZTransfer>;

/** `POST /customers/{id}/transfer?dryRun=true`: what the move would change, nothing written. */
export const ZTransferQuery = z.strictObject({
  dryRun: z.enum(['true', 'false'], 'must be true or false').optional(),
});

const ZSampleSide = z
  .object({
    /** The row that prices the destination (its longest matching prefix). */
    prefix: z.string(),
    rate: z.string(),
    /** What a 60 s call costs on it, at the card's precision and rounding. */
    price60: z.string(),
    /**
     * The card owner's margin on that call: its price less what the owner pays for it on
     * the card above (null when the caller may not see that card or it has no route).
     * On the old card this is what the old parent stops earning on the customer.
     */
    margin60: z.string().nullable(),
    billing: z.string(),
  })
  .nullable();

/**
 * The dry run's answer: the customer's card now and the one it would get, side by side
 * for a sample of destinations (null: the card does not reach it); the currency rule's
 * outcome; balance and credit limit after (null when refused); and the rate revisions
 * scheduled on the new card.
 */
export const ZTransferPreview = z.object({
  dryRun: z.literal(true),
  customerId: z.string(),
  from: z.object({
    parentId: z.string(),
    parentName: z.string(),
    card: z.object({ id: z.string(), name: z.string(), currency: z.string() }).nullable(),
  }),
  to: z.object({
    parentId: z.string(),
    parentName: z.string(),
    card: z.object({ id: z.string(), name: z.string(), currency: z.string() }),
    /**
     * The new parent is below the old one: the old parent stays above the customer in the
     * chain and goes on earning on its calls, so its margin now (`margin60`) is not lost.
     */
    belowOldParent: z.boolean(),
  }),
  currency: z.object({
    /** `kept`: same currency; `converted` at `rate`; `refused`: another currency, no rate. */
    outcome: z.enum(['kept', 'converted', 'refused']),
    from: z.string(),
    to: z.string(),
    rate: z.string().nullable(),
  }),
  balance: z.object({
    /** `kept` as it is, `converted` at the rate, `settled` with the old parent (to zero). */
    outcome: z.enum(['kept', 'converted', 'settled']),
    from: z.string(),
    to: z.string().nullable(),
  }),
  creditLimit: z.object({ from: z.string().nullable(), to: z.string().nullable() }),
  /** The caller lacks `rates:read`: `samples` and `scheduledRevisions` are left empty. */
  ratesWithheld: z.boolean(),
  samples: z.array(
    z.object({ prefix: z.string(), destination: z.string(), old: ZSampleSide, new: ZSampleSide }),
  ),
  scheduledRevisions: z.array(
    z.object({
      number: z.number().int(),
      liveAt: z.string(),
      increased: z.number().int(),
      decreased: z.number().int(),
      added: z.number().int(),
      removed: z.number().int(),
    }),
  ),
  /**
   * The customer's calls left unrated that a fix could still charge: after the move they
   * are of its time under the old parent (`moved`), never charged. Null without
   * `usage:read`.
   */
  unratedCalls: z.number().int().nullable(),
});
export type TTransferPreview = z.infer<typeof ZTransferPreview>;

/** `PUT /cards/{id}/rates`: the card as it is now and how many rows it holds. */
/**
 * A rate write: the card (its live counts: unchanged while the revision is scheduled),
 * and the revision it made.
 */
export const ZRatesWritten = z.object({
  card: ZCardOwnerDto,
  rows: z.number().int(),
  revision: ZRevisionRef,
});
export type TRatesWritten = z.infer<typeof ZRatesWritten>;
/** The CSV import: the same, and whether it replaced the set or merged into it. */
export const ZRatesImported = ZRatesWritten.extend({ mode: z.enum(['replace', 'merge']) });
export type TRatesImported = z.infer<typeof ZRatesImported>;

export const ZMarginQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1, 'must be 1 to 500')
    .max(500, 'must be 1 to 500')
    .default(100),
  // The rates list's cursor (margin-report.ts), as long as any page cursor.
  cursor: ZText().max(CURSOR_MAX).optional(),
});

const ZRateTerms = z.object({
  rate: z.string(),
  connectionFee: z.string(),
  initialIncrement: z.number().int(),
  increment: z.number().int(),
  graceSeconds: z.number().int(),
  /** Minimum duration in seconds (0: none). */
  minimumSeconds: z.number().int(),
});
const ZMarginSample = z.object({
  seconds: z.number().int(),
  buy: z.string(),
  sell: z.string(),
  margin: z.string(),
});

/**
 * One row of a derived card that loses money on some call length (the exact check,
 * lib/shared/pricing/markup.ts `marginCheck`): its first losing call, its worst loss, and
 * typical call lengths priced at both levels for reading.
 */
export const ZMarginRow = z.object({
  prefix: z.string(),
  destination: z.string(),
  /**
   * The card whose row is `buy` and that row's prefix: a derived card's parent (with
   * several, per row); for a card built by hand, the provider row it loses against,
   * which may be a longer prefix under the row's (its numbers sell at the row's price).
   */
  pricedBy: z.object({ cardId: z.string(), cardName: z.string(), prefix: z.string() }),
  effectiveFrom: z.string().nullable(),
  buy: ZRateTerms,
  sell: ZRateTerms,
  /** The shortest call (seconds) that sells below its buy price. */
  firstLosingSeconds: z.number().int().nullable(),
  /** The largest loss on one call, buy price − sell price (up to a day's call when the sell rate is below the buy rate). */
  worstLoss: z.string().nullable(),
  worstLossSeconds: z.number().int().nullable(),
  /** The sell rate per minute is below the buy rate: longer calls lose more. */
  sellsBelowBuyRate: z.boolean(),
  samples: z.array(ZMarginSample),
});
export type TMarginRow = z.infer<typeof ZMarginRow>;

/** `GET /cards/{id}/margin`: the losing rows of the owner's derived card, paged. */
export const ZMarginReport = z.object({
  cardId: z.string(),
  parentId: z.string().nullable(),
  total: z.number().int(),
  items: z.array(ZMarginRow),
  nextCursor: z.string().nullable(),
});
export type TMarginReport = z.infer<typeof ZMarginReport>;
