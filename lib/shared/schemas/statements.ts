import { z } from 'zod';
import { ZId, ZPageQuery, ZText } from './common';

/** A calendar month, UTC: `2026-12`. */
export const ZPeriod = ZText('is required')
  .trim()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month written YYYY-MM, such as "2026-12"');

/**
 * `POST /accounts/{id}/statements`: issue the account's statement for one month (UTC),
 * from its ledger as it stands. `idempotencyKey` names the attempt, as for payments: a
 * retry with the same key answers the first statement instead of numbering another.
 */
export const ZStatementCreate = z.strictObject({
  period: ZPeriod,
  idempotencyKey: ZText()
    .trim()
    .min(8, 'must be 8 to 100 characters')
    .max(100, 'must be 8 to 100 characters')
    .optional(),
});
export type TStatementCreate = z.infer<typeof ZStatementCreate>;

/** `GET /statements`: every statement in scope (`accountId`: one account's), oldest first. */
export const ZStatementListQuery = ZPageQuery.extend({
  accountId: ZId.optional(),
});
export type TStatementListQuery = z.infer<typeof ZStatementListQuery>;

/** `GET /accounts/{id}/statements`. */
export const ZAccountStatementsQuery = ZPageQuery;

/** Calls charged to the account for one destination in the period. */
export const ZStatementUsageLine = z.object({
  destination: z.string(),
  calls: z.number().int().nonnegative(),
  billedSeconds: z.number().int().nonnegative(),
  /** What the account was charged (positive), in the statement's currency. */
  amount: z.string(),
});
export type TStatementUsageLine = z.infer<typeof ZStatementUsageLine>;

/**
 * Who the statement is issued by: the account's parent, in its brand (its own, else the
 * nearest above it), as it stood when issued. Which account a brand comes from is not said.
 */
export const ZStatementIssuer = z.object({
  name: z.string(),
  supportEmail: z.string().nullable(),
  supportUrl: z.string().nullable(),
  primaryColor: z.string().nullable(),
  accentColor: z.string().nullable(),
});
export type TStatementIssuer = z.infer<typeof ZStatementIssuer>;

/**
 * One issued statement (final: never edited; issuing the month again numbers a new one).
 * Every amount is a decimal string in `currency`, signed as the ledger signs movements
 * (positive credits the account): opening + usage + payments + credit notes + adjustments
 * = closing, which is the ledger's balance after its last movement before `periodEnd`:
 * the next month's start, or, for a month issued before it ended, the instant.
 */
export const ZStatementDto = z.object({
  id: z.string(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  accountId: z.string(),
  accountName: z.string(),
  /** 1, 2, … per account. */
  number: z.number().int().positive(),
  period: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  currency: z.string(),
  openingBalance: z.string(),
  usageTotal: z.string(),
  paymentsTotal: z.string(),
  creditNotesTotal: z.string(),
  adjustmentsTotal: z.string(),
  closingBalance: z.string(),
  usage: z.array(ZStatementUsageLine),
  issuer: ZStatementIssuer,
  issuedAt: z.string(),
});
export type TStatementDto = z.infer<typeof ZStatementDto>;
