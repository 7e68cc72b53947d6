import { z } from 'zod';
import { sayAmountProblem, ZId, ZInstant, ZPageQuery, ZNameText, ZText, ZVersion } from './common';
import { ZLiveAt } from './revisions';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce
    .number(`must be a whole number of seconds`)
    .int('must be a whole number of seconds')
    .min(min, `must be ${min} to ${max}`)
    .max(max, `must be ${min} to ${max}`)
    .default(fallback);

/**
 * One rate row as the API and CSV import take it (DESIGN §3 "rates"): money as decimal
 * strings, increments in seconds (60/60 unless given), grace 0, not blocked.
 */
/**
 * The most cards a derivation chain holds, the top (not derived) card included: a derive or
 * a change of parents that would make a longer one is refused (409 `chain_too_deep`).
 * With ZPrice below and markups of at most 1000 % plus 999999.999999 per level, the 6th
 * card's prices stay below 1.8e11, inside the stored numeric(18,6) (below 1e12); a 7th
 * could reach 1.95e12.
 */
export const MAX_CHAIN_LEVELS = 6;

/**
 * A price per minute, fee or markup amount: up to 6 integer digits. Bounded so that a
 * chain of derived cards (percent ≤ 1000 at each of up to MAX_CHAIN_LEVELS levels) always
 * fits the stored numeric(18,6).
 */
export const ZPrice = ZText('must be a decimal string such as "0.0123"')
  .trim()
  .superRefine(sayAmountProblem({ digits: 6, decimals: 6, example: '0.0123' }))
  .regex(
    /^\d{1,6}(\.\d{1,6})?$/,
    'must be a decimal string such as "0.0123" (below 1000000, up to 6 decimals)',
  );

export const ZPrefix = ZText('is required')
  .trim()
  .regex(/^\d{1,20}$/, 'must be 1 to 20 digits');

/**
 * A prefix a row is written with: the digits of an E.164 number's start. A dialled number
 * loses its "+" or "00" before it is matched (ZDialledNumber), so a row written "0044"
 * would never price a call, nor a markup rule or an override so written match one. Only
 * writing refuses it: a row stored so before can still be named to remove it (ZRateKey).
 */
export const ZRowPrefix = ZPrefix.refine(
  (value) => !value.startsWith('00'),
  'must not start with 00: write the country code without it (44, not 0044)',
);

/**
 * To the millisecond at most: calls start at milliseconds, and rating reads a row's time
 * so; two rows of a prefix within one millisecond would tie there while SQL (the trace,
 * authorize) still tells them apart.
 */
const ZEffectiveFrom = ZInstant('must be an ISO date-time').refine(
  (value) => !/\.\d{4,}/.test(value),
  'must be to the millisecond at most (3 decimals of a second)',
);

export const ZRateInput = z.strictObject({
  prefix: ZRowPrefix,
  destination: ZNameText(120),
  rate: ZPrice,
  connectionFee: ZPrice.default('0'),
  initialIncrement: seconds(1, 3600, 60),
  increment: seconds(1, 3600, 60),
  graceSeconds: seconds(0, 600, 0),
  /**
   * A call shorter than this (out of grace) is billed as this long; absent or 0: none.
   * Optional, not defaulted: a row read back shows it only when it has one.
   */
  minimumSeconds: seconds(0, 3600, 0).unwrap().optional(),
  effectiveFrom: ZEffectiveFrom.optional(),
  blocked: z.boolean('must be true or false').default(false),
});
export type TRateInput = z.output<typeof ZRateInput>;

/** A row of the card by what names it: its prefix, and the time it takes effect (absent: none). */
export const ZRateKey = z.strictObject({
  prefix: ZPrefix,
  effectiveFrom: ZEffectiveFrom.optional(),
});
export type TRateKey = z.output<typeof ZRateKey>;

/**
 * The CSV columns, in the order export writes them (the JSON field names, so an export
 * imports back as it was); the first three are required.
 */
export const RATE_CSV_COLUMNS = [
  'prefix',
  'destination',
  'rate',
  'connectionFee',
  'initialIncrement',
  'increment',
  'graceSeconds',
  'effectiveFrom',
  'blocked',
  // Last, so files written before it existed keep their column positions.
  'minimumSeconds',
] as const;

/** `PUT /cards/{id}/rates`: the card's whole rate set, future-dated rows included. */
export const ZRatesPut = z.strictObject({
  rates: z.array(ZRateInput).max(200_000, 'at most 200000 rows per request; import a CSV'),
  /** When the set goes live (a revision, issue 16): absent, now. */
  liveAt: ZLiveAt.optional(),
  /**
   * The card's version the new set was made from: another write since is 409 with the
   * card as it is, not overwritten. Absent, the set replaces whatever is there.
   */
  version: ZVersion.optional(),
});

/** At most this many rows are added, changed or removed by one `PATCH /cards/{id}/rates`. */
export const RATES_PATCH_MAX = 1000;

/**
 * `PATCH /cards/{id}/rates`: a few rows changed by hand, the rest of the set kept — rows
 * added or replaced (`upsert`, by prefix and effective time) and rows taken out
 * (`remove`), as the card's next revision.
 */
/**
 * A row of `PATCH /cards/{id}/rates`: as `ZRateInput`, or dated `"now"` — from the moment
 * the change is written, by the database's clock. That is how terms in force change: a
 * row whose date has passed cannot be changed at its date (a revision is not
 * retroactive), and an undated row does not apply over a dated one.
 */
export const ZRatePatchRow = ZRateInput.extend({
  effectiveFrom: z.union([z.literal('now'), ZEffectiveFrom]).optional(),
});
export type TRatePatchRow = z.output<typeof ZRatePatchRow>;

export const ZRatesPatch = z
  .strictObject({
    upsert: z
      .array(ZRatePatchRow)
      .max(RATES_PATCH_MAX, `at most ${RATES_PATCH_MAX} rows; import a CSV for more`)
      .default([]),
    remove: z
      .array(ZRateKey)
      .max(RATES_PATCH_MAX, `at most ${RATES_PATCH_MAX} rows; import a CSV for more`)
      .default([]),
    liveAt: ZLiveAt.optional(),
    /** As `ZRatesPut.version`: the card's version the change was made from. */
    version: ZVersion.optional(),
  })
  .refine((body) => body.upsert.length + body.remove.length > 0, {
    message: 'must name a rate to add, change or remove',
    path: ['upsert'],
  });
export type TRatesPatch = z.output<typeof ZRatesPatch>;

export const ZRatesListQuery = ZPageQuery.extend({
  /** Rows whose prefix starts with these digits. */
  prefix: ZText()
    .trim()
    .regex(/^\d{0,20}$/, 'must be up to 20 digits')
    .optional(),
  /** Owner view of a derived card: only the rows the margin check flags. */
  losing: z.enum(['true', 'false']).optional(),
});

export const ZImportQuery = z.object({
  mode: z.enum(['replace', 'merge'], 'must be "replace" or "merge"').default('replace'),
  /** When the set goes live (a revision, issue 16): absent, now. */
  liveAt: ZLiveAt.optional(),
  /** As `ZRatesPut.version`: the card's version the file was made from. */
  version: z.coerce
    .number('must be a whole number')
    .int('must be a whole number')
    .positive('must be a whole number')
    .optional(),
});

/** A rate row as read; `overridden` and `losing` only in the owner's view of a derived card. */
export const ZRateDto = z.object({
  id: z.string(),
  prefix: z.string(),
  destination: z.string(),
  rate: z.string(),
  connectionFee: z.string(),
  initialIncrement: z.number().int(),
  increment: z.number().int(),
  graceSeconds: z.number().int(),
  effectiveFrom: z.string().nullable(),
  blocked: z.boolean(),
  overridden: z.boolean().optional(),
  losing: z.boolean().optional(),
  /** Minimum duration in seconds, when the row has one. */
  minimumSeconds: z.number().int().optional(),
  /** The owner's view of a card following several parents: the parent card that priced the row. */
  pricedBy: z.string().nullable().optional(),
});
export type TRateDto = z.infer<typeof ZRateDto>;

/**
 * A dialled number as people and switches write it: "+44 1481 700123", "(+44)
 * 1481-700.123", and with the international prefix "00" — all are the digits of the
 * E.164 number, which is what prefixes match.
 */
export const ZDialledNumber = ZText('is required')
  .trim()
  .transform((value) => value.replace(/[\s().-]/g, '').replace(/^(\+|00)/, ''))
  .pipe(
    z
      .string()
      .regex(
        /^\d{1,32}$/,
        'must be a dialled number: digits, an optional +, spaces, dashes or brackets',
      ),
  );

export const ZLookupQuery = z.object({
  accountId: ZId,
  number: ZDialledNumber,
  cardId: ZId.optional(),
  /** Price at this instant: the revisions live then, at every level (absent: now). */
  at: ZInstant('must be an ISO date-time').optional(),
  /** The sample call length priced at each level. */
  seconds: z.coerce
    .number()
    .int('must be a whole number of seconds')
    .min(1, 'must be 1 to 86400')
    .max(86_400, 'must be 1 to 86400')
    .default(60),
});

/** One level of a price trace (`GET /rates/lookup`), top (buy) first. */
export const ZLookupLevel = z.object({
  /** The card's owner, to those who see the owner's view; null to an assignee. */
  accountId: z.string().nullable(),
  cardId: z.string(),
  cardName: z.string(),
  currency: z.string(),
  relation: z.enum(['owner', 'assignee']),
  /** The longest matching prefix effective now, or null: the number is not priced here. */
  prefix: z.string().nullable(),
  destination: z.string().nullable(),
  rate: z.string().nullable(),
  connectionFee: z.string().nullable(),
  initialIncrement: z.number().int().nullable(),
  increment: z.number().int().nullable(),
  /** Minimum duration (0: none): a shorter billed call is billed as this long. */
  minimumSeconds: z.number().int().nullable(),
  blocked: z.boolean(),
  billedSeconds: z.number().int().nullable(),
  /** The price of a call of the sample length at this level, rounded the card's way. */
  amount: z.string().nullable(),
  /** This level's amount minus the level above it (what this step earns); null at the top. */
  margin: z.string().nullable(),
  /**
   * A card following several parents: the parent whose row priced this one (the level
   * above), as the owner sees it; null on a card with one parent or none, and to an assignee.
   */
  pricedBy: z.object({ cardId: z.string(), cardName: z.string() }).nullable(),
});
export type TLookupLevel = z.infer<typeof ZLookupLevel>;

/**
 * `GET /rates/lookup`: one chain per card the account holds or owns; `levels` is the
 * first — chains whose own card prices the number first, the card held by assignment
 * before the account's own, then by card name.
 */
export const ZLookup = z.object({
  number: z.string(),
  seconds: z.number().int(),
  levels: z
    .array(ZLookupLevel)
    .describe(
      "The first chain: one whose own card prices the number first, the card held by assignment before the account's own, then by card name.",
    ),
  chains: z.array(z.object({ cardId: z.string(), levels: z.array(ZLookupLevel) })),
  movedAt: z
    .string()
    .optional()
    .describe(
      'Asked at an instant before the account was moved under its parent (a customer transfer): when it moved. A call then was its old parent’s, which rating leaves unrated `moved` and authorize refuses, so no chain prices it here.',
    ),
});
export type TLookup = z.infer<typeof ZLookup>;
