import { z } from 'zod';
import { sayAmountProblem, ZCurrency, ZInstant, ZMoney, ZPageQuery, ZText } from './common';

/** What moves money (issue 17); `usage` comes with call billing. */
export const LEDGER_KINDS = ['payment', 'credit_note', 'adjustment', 'usage'] as const;
export type TLedgerKind = (typeof LEDGER_KINDS)[number];

/** A positive amount: ZMoney (no sign, at most 6 decimals) and not zero. */
export const ZPositiveMoney = ZMoney.refine(
  (value) => /[1-9]/.test(value),
  'must be more than zero',
);

/**
 * The key a client names one attempt of a write that moves money by (DESIGN §1 "Money"):
 * a retry with the same key answers the first attempt, another request with it is 409.
 */
export const ZIdempotencyKey = ZText('is required')
  .trim()
  .min(8, 'must be 8 to 100 characters')
  .max(100, 'must be 8 to 100 characters');

/**
 * `POST /accounts/{id}/payments`: recorded by the account's parent side, in the
 * account's currency. `idempotencyKey` names the attempt: a retry with the same key
 * counts once (and must carry the same amount and reference, else 409).
 */
export const ZPaymentCreate = z.strictObject({
  amount: ZPositiveMoney,
  /**
   * The currency `amount` is in, as the caller saw the account: refused (409
   * `currency_changed`) when the account is in another by the time the payment is
   * written — a transfer to another currency in between would otherwise take the
   * amount as the new currency's. Optional; the panel's form always sends it.
   */
  currency: ZCurrency.optional(),
  reference: ZText().trim().max(200, 'is too long').optional(),
  idempotencyKey: ZIdempotencyKey,
});
export type TPaymentCreate = z.infer<typeof ZPaymentCreate>;

/** The kinds a correction posts: a credit note credits; an adjustment goes either way. */
export const CORRECTION_KINDS = ['credit_note', 'adjustment'] as const;

/**
 * `POST /accounts/{id}/adjustments`: a correction of the account's balance by its parent
 * side, in the account's currency — a credit note (a positive `amount`: a disputed call
 * given back) or an adjustment (signed: a negative one debits the account, a payment typed
 * wrong is taken back by it). The ledger is never edited: a correction is a new entry,
 * with its `reason` (kept as the entry's reference). Keyed like a payment.
 */
export const ZAdjustmentCreate = z
  .strictObject({
    kind: z.enum(CORRECTION_KINDS, `must be one of ${CORRECTION_KINDS.join(', ')}`),
    amount: ZText('must be a decimal string such as "-12.50"')
      .trim()
      .superRefine(sayAmountProblem({ digits: 12, decimals: 6, signed: true, example: '-12.50' }))
      .regex(
        /^-?\d{1,12}(\.\d{1,6})?$/,
        'must be a decimal string such as "-12.50" (up to 6 decimals)',
      )
      .refine((value) => /[1-9]/.test(value), 'must not be zero'),
    currency: ZPaymentCreate.shape.currency,
    reason: ZText('is required').trim().min(1, 'is required').max(200, 'is too long'),
    idempotencyKey: ZIdempotencyKey,
  })
  .superRefine((value, ctx) => {
    if (value.kind === 'credit_note' && value.amount.startsWith('-')) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: 'must be more than zero for a credit note (an adjustment may debit)',
      });
    }
  });
export type TAdjustmentCreate = z.infer<typeof ZAdjustmentCreate>;

/** `GET /accounts/{id}/ledger`: newest first, by kind and a time window. */
export const ZLedgerQuery = ZPageQuery.extend({
  kind: z.enum(LEDGER_KINDS, `must be one of ${LEDGER_KINDS.join(', ')}`).optional(),
  from: ZInstant('must be an ISO 8601 time').optional(),
  to: ZInstant('must be an ISO 8601 time').optional(),
});
export type TLedgerQuery = z.infer<typeof ZLedgerQuery>;

/** `GET /accounts/{id}/ledger/export`: the same filters, every entry. */
export const ZLedgerExportQuery = ZLedgerQuery.omit({ limit: true, cursor: true });
export type TLedgerExportQuery = z.infer<typeof ZLedgerExportQuery>;

/** The ledger export's columns, oldest first: a statement a spreadsheet can sum. */
export const LEDGER_CSV_COLUMNS = [
  'id',
  'createdAt',
  'kind',
  'amount',
  'currency',
  'balanceAfter',
  'reference',
  'by',
  'counterpartyId',
] as const;

const ZPersonOrAccount = z.union([
  z.object({ kind: z.literal('user'), id: z.string(), name: z.string(), email: z.string() }),
  /** A person is named only to viewers who may read that user; others see the account. */
  z.object({ kind: z.literal('account'), name: z.string() }),
]);

/**
 * One movement as the account's side sees it: `amount` credits the account (negative:
 * debits it) and is the opposite on the counterparty's books (its parent's; null for a
 * carrier's own). Decimal strings in `currency`.
 */
export const ZLedgerEntryDto = z.object({
  id: z.string(),
  accountId: z.string(),
  counterpartyId: z.string().nullable(),
  kind: z.enum(LEDGER_KINDS),
  amount: z.string(),
  currency: z.string(),
  balanceAfter: z.string(),
  reference: z.string().nullable(),
  by: ZPersonOrAccount,
  createdAt: z.string(),
});
export type TLedgerEntryDto = z.infer<typeof ZLedgerEntryDto>;

/**
 * `GET /accounts/{id}/balance`: kept with the ledger, never recomputed. `available` is
 * balance + credit limit (no limit: the balance alone, prepaid).
 */
export const ZBalanceDto = z.object({
  accountId: z.string(),
  currency: z.string(),
  balance: z.string(),
  creditLimit: z.string().nullable(),
  available: z.string(),
  /** Its own credit is used up (a limit is set and available <= 0). */
  creditBlocked: z.boolean(),
  /** Calls are refused for credit: its own (`own`) or an account's above it (`above`). */
  creditBlock: z.enum(['own', 'above']).nullable(),
  /** Available credit under which its people are told it runs low; null for none. */
  warningThreshold: z.string().nullable(),
  version: z.number().int(),
});
export type TBalanceDto = z.infer<typeof ZBalanceDto>;

/** A payment's answer: the entry (the first one, for a retry) and the balance now. */
export const ZPaymentRecorded = z.object({
  entry: ZLedgerEntryDto,
  balance: ZBalanceDto,
  /** True when the key was seen before: nothing new was written. */
  replayed: z.boolean(),
});
export type TPaymentRecorded = z.infer<typeof ZPaymentRecorded>;
