import { z } from 'zod';
import { ZId, ZInstant } from './common';
import { ZDialledNumber } from './rates';

/**
 * `POST /authorize` (issue 18): may this customer's call to `number` go, and for how
 * long? `at` prices it with the card revisions live at that instant (absent: now);
 * status and credit are always as they are now.
 */
export const ZAuthorizeRequest = z.strictObject({
  accountId: ZId,
  number: ZDialledNumber,
  at: ZInstant('must be an ISO date-time').optional(),
});
export type TAuthorizeRequest = z.infer<typeof ZAuthorizeRequest>;

/**
 * Why a call may not go, in the order they are looked for (the first found is given):
 * a level of the chain suspended or blocked for credit (effective: anything above the
 * customer blocks it too), a level without a card to price it or with one in another
 * currency than its own (rating leaves such a call unrated: `currency_mismatch`), its
 * longest prefix blocked or missing, or its credit too small for even the shortest billed
 * call.
 */
export const AUTHORIZE_REASONS = [
  'account_suspended',
  'credit_blocked',
  'no_card',
  'currency_mismatch',
  'blocked_prefix',
  'no_route',
  'insufficient_credit',
  /** At an instant before the customer was transferred: its old parent's call. */
  'moved',
] as const;
export type TAuthorizeReason = (typeof AUTHORIZE_REASONS)[number];

/**
 * The answer. `maxSeconds`: the longest call every level can pay for (0 when refused;
 * at most `MAX_CALL_SECONDS`). `rate` (per minute, the customer's card's precision) and
 * `currency` are the customer's own; `rate` is null when its card has no open route.
 * `refusedBy` names the level that refuses — `level` counted up from the customer (0),
 * with its account — or is `"above"` when that level is above the caller's own account:
 * a reseller's token learns that something above it refuses, never what its parent's or
 * the carrier's cards or accounts hold (a card's missing, blocked or absent route above
 * reads `no_route`). `maxSeconds` is bounded by the levels in the caller's own scope; a
 * level above it bounds nothing it is told (how long that level's credit lasts would give
 * away its buy prices and spend) and only refuses, when it cannot pay the first charged
 * interval. A carrier's token has every level in scope: its switch gets the whole chain's
 * bound. It says how long, never whose credit sets it.
 */
export const ZAuthorization = z.object({
  allowed: z.boolean(),
  reason: z.enum(AUTHORIZE_REASONS).optional(),
  refusedBy: z
    .union([
      z.object({ level: z.number().int().min(0), accountId: z.string() }),
      z.literal('above'),
    ])
    .optional(),
  maxSeconds: z.number().int().min(0),
  rate: z.string().nullable(),
  currency: z.string(),
});
export type TAuthorization = z.infer<typeof ZAuthorization>;
