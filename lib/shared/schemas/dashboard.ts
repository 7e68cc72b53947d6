import { z } from 'zod';
import { ZCurrency, ZPageOf, ZPageQuery, ZSort } from './common';
import { UNRATED_REASONS } from './usage';

/** `GET /dashboard`: how many of each the caller sees; null where its group grants no read. */
export const ZDashboardCounts = z.object({
  resellers: z.number().int().nullable(),
  customers: z.number().int().nullable(),
  users: z.number().int().nullable(),
  cards: z.number().int().nullable(),
});
export type TDashboardCounts = z.infer<typeof ZDashboardCounts>;

/** A short list of what needs attention, and how many there are in all. */
const ZAttentionList = <T extends z.ZodType>(item: T) =>
  z.object({ total: z.number().int(), items: z.array(item) });

/**
 * `GET /dashboard/attention`: what the overview leads with, in the caller's scope —
 * cards of the owner's side with losing rows (margin alerts), suspended accounts, active
 * accounts whose own credit ran out (calls refused for them and everything below), and
 * rate changes scheduled for later (rows with a future effective-from), and calls below
 * it left unrated that a re-rate may still charge (not `moved`), by reason as the caller
 * reads it. Null where the caller's group does not grant the read.
 */
export const ZDashboardAttention = z.object({
  losingCards: ZAttentionList(
    z.object({ id: z.string(), name: z.string(), losingRates: z.number().int() }),
  ).nullable(),
  suspended: ZAttentionList(
    z.object({ id: z.string(), kind: z.enum(['reseller', 'customer']), name: z.string() }),
  ).nullable(),
  creditBlocked: ZAttentionList(
    z.object({
      id: z.string(),
      kind: z.enum(['reseller', 'customer']),
      name: z.string(),
      balance: z.string(),
      currency: z.string(),
    }),
  ).nullable(),
  scheduled: ZAttentionList(
    z.object({
      cardId: z.string(),
      name: z.string(),
      rows: z.number().int(),
      next: z.string(),
    }),
  ).nullable(),
  /** `total`: unrated calls in all; each reason with its calls, the most first. */
  unrated: ZAttentionList(
    z.object({ reason: z.enum(UNRATED_REASONS), calls: z.number().int() }),
  ).nullable(),
});
export type TDashboardAttention = z.infer<typeof ZDashboardAttention>;

/** `GET /dashboard/exposure`: by available credit (default: the most exposed first), paged. */
export const EXPOSURE_SORT_KEYS = ['available', 'balance', 'limit'] as const;
export const ZExposureQuery = ZPageQuery.extend({
  sort: ZSort(EXPOSURE_SORT_KEYS),
  /**
   * Only the accounts kept in this currency: amounts in different currencies are never
   * converted, so "the most exposed first" ranks within one currency.
   */
  currency: ZCurrency.optional(),
});
export type TExposureQuery = z.infer<typeof ZExposureQuery>;

/**
 * One account directly below the caller's: money as its ledger keeps it, in its own
 * currency (decimal strings). `available` is balance + limit (no limit: the balance,
 * though nothing bounds it; sorted by available, such accounts come after all others);
 * `creditBlocked` its own credit used up, `creditBlock` effective (as on account DTOs).
 */
export const ZExposureRow = z.object({
  id: z.string(),
  kind: z.enum(['reseller', 'customer']),
  name: z.string(),
  currency: z.string(),
  balance: z.string(),
  creditLimit: z.string().nullable(),
  available: z.string(),
  warningThreshold: z.string().nullable(),
  creditBlocked: z.boolean(),
  creditBlock: z.enum(['own', 'above']).nullable(),
});
export type TExposureRow = z.infer<typeof ZExposureRow>;

/**
 * A page of exposure, with the currencies the accounts in scope are kept in (whatever the
 * `currency` filter), those with the most accounts first: more than one, and a reader
 * picks one to rank within.
 */
export const ZExposurePage = ZPageOf(ZExposureRow).extend({
  currencies: z.array(z.string()),
});
export type TExposurePage = z.infer<typeof ZExposurePage>;
