import { z } from 'zod';
import { ZInstant, ZPageQuery } from './common';

/** Why a card got a revision. `initial`: the set it had when revisions began. */
export const REVISION_SOURCES = [
  'initial',
  'put',
  'import',
  'parent',
  'markup',
  'rollback',
] as const;
export type TRevisionSource = (typeof REVISION_SOURCES)[number];

/**
 * A revision's state, by its date: `live` the latest one whose date has come (applied by
 * the timer or about to be), `scheduled` waiting for its date, `superseded` live once and
 * replaced since, `cancelled` withdrawn before it went live.
 */
export const REVISION_STATES = ['live', 'scheduled', 'superseded', 'cancelled'] as const;
export type TRevisionState = (typeof REVISION_STATES)[number];

/** How a revision's rows compare with the revision before it, by prefix and effective time. */
export const REVISION_CHANGES = [
  'new',
  'removed',
  'increased',
  'decreased',
  'changed',
  'unchanged',
] as const;
export type TRevisionChange = (typeof REVISION_CHANGES)[number];

export const ZRevisionCounts = z.object({
  added: z.number().int(),
  removed: z.number().int(),
  increased: z.number().int(),
  decreased: z.number().int(),
  /** The rate is the same, another term (fee, increments, grace, blocking, name) is not. */
  changed: z.number().int(),
  unchanged: z.number().int(),
});
export type TRevisionCounts = z.infer<typeof ZRevisionCounts>;

/**
 * When a new rate set goes live: an ISO instant, not in the past (absent: now). "Not in
 * the past" is the database's to judge, by its clock, when the revision is written
 * (revisions.ts `recordRevision`: 400 naming `liveAt`): a panel process whose clock ran
 * ten minutes ahead refused a date five minutes ahead as past.
 */
export const ZLiveAt = ZInstant('must be an ISO date-time');

export const ZRevisionDto = z.object({
  number: z.number().int(),
  state: z.enum(REVISION_STATES),
  liveAt: z.string(),
  createdAt: z.string(),
  source: z.enum(REVISION_SOURCES),
  /** The revision it is compared with (the one before it, cancelled ones skipped). */
  previous: z.number().int().nullable(),
  /** A rollback: the revision it copies. */
  basedOn: z.number().int().nullable(),
  rows: z.number().int(),
  counts: ZRevisionCounts,
});
export type TRevisionDto = z.infer<typeof ZRevisionDto>;

export const ZRevisionParams = z.object({
  id: z.uuid('must be an id').toLowerCase(),
  n: z.coerce
    .number('must be a revision number')
    .int('must be a revision number')
    .min(1, 'must be a revision number')
    .max(2_147_483_647, 'must be a revision number'),
});

export const ZRevisionListQuery = ZPageQuery;

export const ZRevisionDiffQuery = ZPageQuery.extend({
  /** Up to 5000 rows a page: a diff is often read whole (a carrier's weekly deck changes thousands). */
  limit: z.coerce
    .number()
    .int()
    .min(1, 'must be 1 to 5000')
    .max(5000, 'must be 1 to 5000')
    .default(50),
  /** One kind of change; absent: every row that differs (all but `unchanged`). */
  change: z.enum(REVISION_CHANGES, `must be one of ${REVISION_CHANGES.join(', ')}`).optional(),
});

const ZRevisionTerms = z.object({
  destination: z.string(),
  rate: z.string(),
  connectionFee: z.string(),
  initialIncrement: z.number().int(),
  increment: z.number().int(),
  graceSeconds: z.number().int(),
  /** Minimum duration in seconds, when the row has one. */
  minimumSeconds: z.number().int().optional(),
  blocked: z.boolean(),
});

export const ZRevisionDiffRow = z.object({
  prefix: z.string(),
  effectiveFrom: z.string().nullable(),
  change: z.enum(REVISION_CHANGES),
  /** In the revision before; null for a new row. */
  before: ZRevisionTerms.nullable(),
  /** In this revision; null for a removed row. */
  after: ZRevisionTerms.nullable(),
});
export type TRevisionDiffRow = z.infer<typeof ZRevisionDiffRow>;

export const ZRevisionDiff = z.object({
  revision: ZRevisionDto,
  counts: ZRevisionCounts,
  items: z.array(ZRevisionDiffRow),
  nextCursor: z.string().nullable(),
});
export type TRevisionDiff = z.infer<typeof ZRevisionDiff>;

/** `POST /cards/{id}/revisions/{n}/rollback`: the copy goes live at `liveAt` (absent: now). */
export const ZRollbackBody = z.strictObject({ liveAt: ZLiveAt.optional() });

/** A write that made a revision: which, and when it goes live. */
export const ZRevisionRef = z.object({
  number: z.number().int(),
  liveAt: z.string(),
  state: z.enum(REVISION_STATES),
  counts: ZRevisionCounts,
});
export type TRevisionRef = z.infer<typeof ZRevisionRef>;
