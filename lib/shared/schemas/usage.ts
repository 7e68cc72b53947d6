import { z } from 'zod';
import { ZId, ZInstant, ZPageQuery, ZText } from './common';
import { ZIdempotencyKey } from './ledger';
import { ZDialledNumber } from './rates';

/**
 * Usage (issue 18 "Rating"): call records (CDRs) from the carrier's switch, rated at
 * every level of the customer's chain and posted to the ledger. The contract the traffic
 * dashboard reads; names here are stable.
 */

/** Records one `POST /usage` takes (JSON or CSV). */
export const USAGE_MAX_RECORDS = 10_000;
/** The longest call a record may carry: a day. */
export const USAGE_MAX_SECONDS = 86_400;

/**
 * Why a record could not be rated. Stored with it, listed, and re-ratable once fixed:
 * - `unknown_account`: not a customer in the poster's scope;
 * - `account_suspended`: the customer or an account above it was suspended at the call's
 *   start (one made before a suspension, posted or re-rated after it, is charged);
 * - `credit_blocked`: a level's payer (or an account above) was blocked for credit at the
 *   call's start — already, or by an earlier call of the same batch;
 * - `no_card`: the customer holds no card;
 * - `no_route`: a card of the chain has no rate for the number at the call's start;
 * - `blocked_prefix`: the longest matching rate of a card is blocked;
 * - `currency_mismatch`: a card's currency is not its payer's;
 * - `moved`: the call is from the customer's time under another parent (it started before
 *   the transfer took effect, or it is filed under the old parent's path): never priced
 *   on the new parent's chain nor shown to it, and never rated again (`{all: true}`
 *   re-rates leave it).
 */
export const UNRATED_REASONS = [
  'unknown_account',
  'account_suspended',
  'credit_blocked',
  'no_card',
  'no_route',
  'blocked_prefix',
  'currency_mismatch',
  'moved',
] as const;
export type TUnratedReason = (typeof UNRATED_REASONS)[number];

export const USAGE_STATUSES = ['rated', 'unrated'] as const;
export type TUsageStatus = (typeof USAGE_STATUSES)[number];

const ZCallInstant = ZInstant('must be an ISO 8601 time with offset');

/**
 * How far ahead of the panel's clock a call may say it started (clocks differ a little):
 * a revision that goes live within it may already price calls, so it is not cancelled.
 */
export const USAGE_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * One call record. `id` is the switch's own id for the call, unique per poster (the
 * account whose token sends it): a record sent again is a duplicate and counts once.
 * `seconds` is the billable duration (0: not connected, billed nothing).
 */
export const ZUsageRecordInput = z.strictObject({
  id: ZText('is required').trim().min(1, 'is required').max(100, 'must be at most 100 characters'),
  accountId: ZId,
  number: ZDialledNumber,
  startedAt: ZCallInstant,
  seconds: z
    .number('must be a whole number of seconds')
    .int('must be a whole number of seconds')
    .min(0, `must be 0 to ${USAGE_MAX_SECONDS}`)
    .max(USAGE_MAX_SECONDS, `must be 0 to ${USAGE_MAX_SECONDS}`),
});
export type TUsageRecordInput = z.output<typeof ZUsageRecordInput>;

/** The CSV form's header row (any order; all five required). */
export const USAGE_CSV_COLUMNS = ['id', 'accountId', 'number', 'startedAt', 'seconds'] as const;

/**
 * `POST /usage` as JSON (`text/csv` with `USAGE_CSV_COLUMNS` as its header takes the same
 * records). More than `USAGE_MAX_RECORDS` is 413 `too_many_records`.
 */
export const ZUsagePost = z.strictObject({
  records: z
    .array(ZUsageRecordInput, 'must be a list of call records')
    .min(1, 'must hold at least one record')
    .max(USAGE_MAX_RECORDS, `must hold at most ${USAGE_MAX_RECORDS} records`),
});
export type TUsagePost = z.output<typeof ZUsagePost>;

export const USAGE_OUTCOMES = ['rated', 'unrated', 'duplicate'] as const;

/** What happened to one record of the request, in the request's order. */
export const ZUsageOutcome = z.object({
  /** The record's `id` as sent. */
  id: z.string(),
  outcome: z.enum(USAGE_OUTCOMES),
  /** Why it is unrated (an unrated record, or the stored state of a duplicate). */
  reason: z.enum(UNRATED_REASONS).nullable(),
  /** The stored record (`GET /usage` items' `id`); the first one for a duplicate. */
  recordId: z.string(),
});
export type TUsageOutcome = z.infer<typeof ZUsageOutcome>;

/** Counts of unrated records by reason (reasons that did not occur are absent). */
export const ZUnratedCounts = z.partialRecord(z.enum(UNRATED_REASONS), z.number().int());

/**
 * `POST /usage` and `POST /usage/rerate`: counts and each record's outcome. `rated +
 * unrated + duplicates` is the number of records sent (re-rating: selected).
 */
export const ZUsagePosted = z.object({
  /** The batch's id: its ledger entries' reference names it. */
  batchId: z.string(),
  rated: z.number().int(),
  unrated: z.number().int(),
  unratedByReason: ZUnratedCounts,
  duplicates: z.number().int(),
  records: z.array(ZUsageOutcome),
});
export type TUsagePosted = z.infer<typeof ZUsagePosted>;

/**
 * `POST /usage/rerate`: the unrated records to try again, by id, or every one in scope.
 * It moves money, so `idempotencyKey` names the attempt (as for payments): a retry with
 * the same key answers the first attempt's result instead of rating what is unrated by
 * then; the same key with another request is 409.
 */
export const ZUsageRerate = z.union(
  [
    z.strictObject({
      ids: z
        .array(z.string().regex(/^[1-9]\d{0,17}$/, 'must be a usage record id'))
        .min(1, 'must name at least one record')
        .max(USAGE_MAX_RECORDS, `must name at most ${USAGE_MAX_RECORDS} records`),
      idempotencyKey: ZIdempotencyKey,
    }),
    z.strictObject({
      all: z.literal(true, 'must be true'),
      /** Only records of this account's subtree. */
      accountId: ZId.optional(),
      idempotencyKey: ZIdempotencyKey,
    }),
  ],
  'must be {"ids": [...], "idempotencyKey"} or {"all": true, "idempotencyKey"}',
);
export type TUsageRerate = z.output<typeof ZUsageRerate>;

/** `POST /usage/rerate`'s answer: the first attempt's, and whether this is a retry of it. */
export const ZUsageRerated = ZUsagePosted.extend({
  /** True when the key was seen before: nothing was rated now, the first answer is repeated. */
  replayed: z.boolean(),
});
export type TUsageRerated = z.infer<typeof ZUsageRerated>;

/** `GET /usage`: newest received first; filters narrow it. */
export const ZUsageListQuery = ZPageQuery.extend({
  /**
   * Calls of this account's subtree, and its own filed elsewhere before a transfer where
   * the caller may see them (an account in scope; else 404).
   */
  accountId: ZId.optional(),
  /**
   * Only calls filed under this account's subtree (an account in scope; else 404): a
   * drill-down from a reseller to a customer shows the calls billed through that reseller,
   * not those of the customer after it moved away.
   */
  under: ZId.optional(),
  status: z.enum(USAGE_STATUSES, 'must be rated or unrated').optional(),
  reason: z.enum(UNRATED_REASONS, `must be one of ${UNRATED_REASONS.join(', ')}`).optional(),
  /** Calls started at or after `from`, before `to`. */
  from: ZCallInstant.optional(),
  to: ZCallInstant.optional(),
  /** Dialled numbers starting with these digits. */
  number: ZText()
    .trim()
    .regex(/^\d{1,32}$/, 'must be the leading digits of a number')
    .optional(),
});
export type TUsageListQuery = z.output<typeof ZUsageListQuery>;

/** `GET /usage/export`: the list's filters, every matching call, oldest received first. */
export const ZUsageExportQuery = ZUsageListQuery.omit({ limit: true, cursor: true });
export type TUsageExportQuery = z.output<typeof ZUsageExportQuery>;

/**
 * The calls export's columns: each call's money as the exporter reads it (`callMoney`,
 * lib/shared/traffic.ts) — the customer's price, what was paid to the exporter, what it
 * paid, their margin — each amount beside its currency, as raw decimals.
 */
export const USAGE_EXPORT_COLUMNS = [
  'id',
  'cdrId',
  'startedAt',
  'accountId',
  'account',
  'number',
  'seconds',
  'status',
  'reason',
  'destination',
  'billedSeconds',
  'price',
  'priceCurrency',
  'revenue',
  'revenueCurrency',
  'cost',
  'costCurrency',
  'margin',
  'receivedAt',
  // Last, so a reader of the earlier columns by position is not moved.
  'pricedAt',
] as const;

/**
 * One level of a rated call, as the viewer may see it: a level is shown only when its
 * payer is the viewer's own account or below it (a reseller sees its customers' price
 * and its own cost, never the cost above it). `counterpartyId` null: the payer's own
 * provider cost (the top of the chain).
 */
export const ZUsageLevelDto = z.object({
  level: z.number().int(),
  payerId: z.string(),
  counterpartyId: z.string().nullable(),
  cardId: z.string(),
  prefix: z.string(),
  destination: z.string(),
  billedSeconds: z.number().int(),
  amount: z.string(),
  currency: z.string(),
});
export type TUsageLevelDto = z.infer<typeof ZUsageLevelDto>;

export const ZUsageRecordDto = z.object({
  id: z.string(),
  /** The switch's id for the call. */
  cdrId: z.string(),
  accountId: z.string(),
  /** The customer's name (null: not an account the viewer sees). */
  accountName: z.string().nullable(),
  number: z.string(),
  startedAt: z.string(),
  seconds: z.number().int(),
  status: z.enum(USAGE_STATUSES),
  reason: z.enum(UNRATED_REASONS).nullable(),
  receivedAt: z.string(),
  ratedAt: z.string().nullable(),
  /**
   * When its cards priced it, if not at its start: a call unrated for its card (no card,
   * no route, a blocked prefix, another currency) and re-rated after the fix is priced by
   * the cards as they stood at the re-rate. Null: at its start.
   */
  pricedAt: z.string().nullable(),
  levels: z.array(ZUsageLevelDto),
});
export type TUsageRecordDto = z.infer<typeof ZUsageRecordDto>;

export const USAGE_SUMMARY_BY = ['account', 'destination', 'hour', 'day'] as const;
export type TUsageSummaryBy = (typeof USAGE_SUMMARY_BY)[number];

/**
 * `GET /usage/summary`: the calls of `parentId`'s subtree (default the caller's own
 * account) in `[from, to)` of their start, grouped `by`.
 */
export const ZUsageSummaryQuery = z.object({
  by: z.enum(USAGE_SUMMARY_BY, `must be one of ${USAGE_SUMMARY_BY.join(', ')}`).default('account'),
  parentId: ZId.optional(),
  from: ZCallInstant.optional(),
  to: ZCallInstant.optional(),
});
export type TUsageSummaryQuery = z.output<typeof ZUsageSummaryQuery>;

/**
 * One group of calls. For `by=account` one row per direct child of the parent that had
 * calls (and per currency its calls were charged in): `revenue` is what the child paid
 * the parent (the level the child pays), `cost` what the parent paid for the same calls
 * (the level the parent pays: its buy price, or the carrier's provider cost), `margin`
 * their difference (null when they are in different currencies). The same measures by
 * destination (the name on the child's level) and by the hour or day the calls started
 * (UTC). `unrated` counts the calls that could not be rated. Money as decimal strings.
 */
export const ZUsageSummaryRow = z.object({
  /** The child's id, the destination, or the bucket's start (ISO). */
  key: z.string(),
  /** The child's name, the destination, or the bucket's start. */
  name: z.string(),
  /** `by=account`: the child's kind. */
  kind: z.enum(['reseller', 'customer']).nullable(),
  calls: z.number().int(),
  seconds: z.number().int(),
  revenue: z.string(),
  cost: z.string(),
  margin: z.string().nullable(),
  unrated: z.number().int(),
  /** The revenue's currency (null: nothing was rated). */
  currency: z.string().nullable(),
  /** The cost's currency: the parent's (null: nothing was rated). */
  costCurrency: z.string().nullable(),
});
export type TUsageSummaryRow = z.infer<typeof ZUsageSummaryRow>;

export const ZUsageSummary = z.object({
  by: z.enum(USAGE_SUMMARY_BY),
  parentId: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  rows: z.array(ZUsageSummaryRow),
  /**
   * Calls filed under the parent itself in the window, counted in no row: sent for no
   * account below it (`unknown_account`), or a customer's from before its transfer
   * (`moved`) — all unrated. 0 for a customer (its own calls are its Calls).
   */
  unfiled: z.number().int(),
});
export type TUsageSummary = z.infer<typeof ZUsageSummary>;
