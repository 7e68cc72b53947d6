import { z } from 'zod';
import {
  ZCurrency,
  ZEmailAddress,
  ZEntityMeta,
  ZId,
  ZMoney,
  ZPageQuery,
  ZSort,
  ZNameText,
  ZText,
  ZVersion,
} from './common';

const ZName = ZNameText(200);

export const ZAccountStatus = z.enum(['active', 'suspended']);

export const ZResellerCreate = z.strictObject({
  name: ZName,
  email: ZEmailAddress,
  parentId: ZId.optional(),
  /** Absent: the parent's. Fixed once the account exists. */
  currency: ZCurrency.optional(),
  /** In its currency; 0 = prepaid; absent: no credit control. */
  creditLimit: ZMoney.optional(),
});
/** Accepted only to explain the refusal: an account's currency never changes (400). */
const ZFixedCurrency = ZCurrency.optional();
export const ZResellerPatch = z.strictObject({
  version: ZVersion,
  name: ZName.optional(),
  email: ZEmailAddress.optional(),
  status: ZAccountStatus.optional(),
  creditLimit: ZMoney.nullable().optional(),
  /** Available credit (in its currency) at or below which both sides are told; null: none. */
  warningThreshold: ZMoney.nullable().optional(),
  /** Accepted only to explain the refusal: a reseller's parent never changes (409). */
  parentId: ZId.optional(),
  currency: ZFixedCurrency,
});

export const ZCustomerCreate = z.strictObject({
  name: ZName,
  email: ZEmailAddress.optional(),
  parentId: ZId.optional(),
  currency: ZCurrency.optional(),
  creditLimit: ZMoney.optional(),
});
export const ZCustomerPatch = z.strictObject({
  version: ZVersion,
  name: ZName.optional(),
  email: ZEmailAddress.nullable().optional(),
  status: ZAccountStatus.optional(),
  creditLimit: ZMoney.nullable().optional(),
  /** Available credit (in its currency) at or below which both sides are told; null: none. */
  warningThreshold: ZMoney.nullable().optional(),
  /** A customer moves only through the transfer operation (409 otherwise). */
  parentId: ZId.optional(),
  currency: ZFixedCurrency,
});

export type TResellerCreate = z.infer<typeof ZResellerCreate>;
export type TResellerPatch = z.infer<typeof ZResellerPatch>;
export type TCustomerCreate = z.infer<typeof ZCustomerCreate>;
export type TCustomerPatch = z.infer<typeof ZCustomerPatch>;

/**
 * Blocked for credit (effective, like status): `own` when its balance + credit limit is
 * at or below zero, `above` when an account above it is so; null otherwise.
 */
export const ZCreditBlock = z.enum(['own', 'above']).nullable();

export const ZResellerDto = ZEntityMeta.extend({
  name: z.string(),
  email: z.string().nullable(),
  parentId: z.string(),
  /** The parent's name: the hierarchy column of the list. */
  parentName: z.string(),
  /** Effective: suspended when the account or any ancestor is. */
  status: ZAccountStatus,
  creditBlock: ZCreditBlock,
  depth: z.number().int(),
  /** ISO 4217: the currency of its cards and its ledger, fixed at creation. */
  currency: z.string(),
  /** In `currency`; null: no credit control. */
  creditLimit: z.string().nullable(),
  /** Its ledger's sum (decimal string, in `currency`). */
  balance: z.string(),
  /** Available credit at or below which its side and its parent's are told; null: none. */
  warningThreshold: z.string().nullable(),
});
export type TResellerDto = z.infer<typeof ZResellerDto>;

export const ZCustomerDto = ZEntityMeta.extend({
  name: z.string(),
  email: z.string().nullable(),
  parentId: z.string(),
  /** The owner's name (the account the customer is under). */
  parentName: z.string(),
  status: ZAccountStatus,
  creditBlock: ZCreditBlock,
  currency: z.string(),
  creditLimit: z.string().nullable(),
  balance: z.string(),
  warningThreshold: z.string().nullable(),
});
export type TCustomerDto = z.infer<typeof ZCustomerDto>;

export const ACCOUNT_SORT_KEYS = ['name', 'email', 'status', 'createdAt'] as const;

/** Most ids one list request names (`?ids=`): a page of the panel's longest list. */
export const MAX_LISTED_IDS = 100;

/**
 * `GET /resellers` and `GET /customers`: a name search, the parent to list under, the
 * accounts named by id, a sort.
 */
export const ZAccountListQuery = ZPageQuery.extend({
  q: ZText().trim().max(200).optional(),
  parentId: ZId.optional(),
  sort: ZSort(ACCOUNT_SORT_KEYS),
  /**
   * Only these accounts (comma-separated ids), those in scope: a list naming the owners
   * of its rows (the cards' Owner column) reads them in one request, not one each.
   */
  ids: ZText()
    .max(MAX_LISTED_IDS * 37, `names at most ${MAX_LISTED_IDS} accounts`)
    .transform((text) => (text === '' ? [] : text.split(',')))
    .pipe(
      z
        .array(ZId)
        .min(1, 'names at least one account')
        .max(MAX_LISTED_IDS, `names at most ${MAX_LISTED_IDS} accounts`),
    )
    .optional()
    .meta({
      description: `Only these accounts: their ids, comma-separated, at most ${MAX_LISTED_IDS}`,
    }),
});
export type TAccountListQuery = z.infer<typeof ZAccountListQuery>;

/** `GET /resellers/export`, `/customers/export`: the list's filters and sort, every row. */
export const ZAccountExportQuery = ZAccountListQuery.omit({ limit: true, cursor: true });

/** `POST /resellers/bulk`, `/customers/bulk`: suspend or resume the accounts named. */
export const ZAccountBulkStatus = z.strictObject({
  ids: z.array(ZId).min(1, 'names at least one account').max(500, 'at most 500 at once'),
  status: ZAccountStatus,
});
export type TAccountBulkStatus = z.infer<typeof ZAccountBulkStatus>;

/** `POST /resellers/bulk/impact`: the accounts a bulk suspend would name. */
export const ZAccountBulkImpactQuery = z.strictObject({
  ids: ZAccountBulkStatus.shape.ids,
});
/**
 * What suspending them changes, counted exactly on the server: the named accounts it
 * suspends (not those suspended already), and the resellers and customers below them
 * (each once, however the subtrees overlap) and the active users of all of those that
 * have access now and lose it — nothing already cut off by a suspended account above.
 */
export const ZAccountBulkImpact = z.object({
  accounts: z.number().int(),
  /** Null when the caller may not read that kind: it learns no count of it either. */
  resellers: z.number().int().nullable(),
  customers: z.number().int().nullable(),
  users: z.number().int().nullable(),
});
export type TAccountBulkImpact = z.infer<typeof ZAccountBulkImpact>;
