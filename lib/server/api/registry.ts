import { z } from 'zod';
import {
  ZAccountBulkImpact,
  ZAccountBulkImpactQuery,
  ZAccountBulkStatus,
  ZAccountExportQuery,
  ZAccountListQuery,
  ZCustomerCreate,
  ZCustomerDto,
  ZCustomerPatch,
  ZResellerCreate,
  ZResellerDto,
  ZResellerPatch,
} from '@/lib/shared/schemas/accounts';
import { ZAuditEntryDto, ZAuditExportQuery, ZAuditQuery } from '@/lib/shared/schemas/audit';
import {
  BRAND_MAX_HOSTNAMES,
  LOGO_MAX_BYTES,
  LOGO_TYPES,
  ZBrandDto,
  ZBrandPut,
  ZBrandView,
} from '@/lib/shared/schemas/brands';
import { ZAuthorization, ZAuthorizeRequest } from '@/lib/shared/schemas/authorize';
import {
  ZAssignmentBulk,
  ZAssignmentCreate,
  ZAssignmentDto,
  ZAssignmentListQuery,
  ZCardAssignedDto,
  ZCardCreate,
  ZCardDerive,
  ZCardListQuery,
  ZCardOwnerDto,
  ZCardPatch,
  ZMarginQuery,
  ZMarginReport,
  ZRatesImported,
  ZRatesWritten,
  ZTransfer,
  ZTransferPreview,
  ZTransferQuery,
} from '@/lib/shared/schemas/cards';
import { ZErrorBody, ZId, ZPageOf, ZPageQuery } from '@/lib/shared/schemas/common';
import {
  ZDashboardAttention,
  ZDashboardCounts,
  ZExposurePage,
  ZExposureQuery,
} from '@/lib/shared/schemas/dashboard';
import {
  ZGroupCreate,
  ZGroupDto,
  ZGroupListQuery,
  ZGroupPatch,
  ZUseOnlyGroupDto,
} from '@/lib/shared/schemas/groups';
import { ZImpersonationStart, ZImpersonationStarted } from '@/lib/shared/schemas/impersonation';
import { ZMeDto } from '@/lib/shared/schemas/me';
import {
  ZMfaConfirm,
  ZMfaDisable,
  ZMfaEnrolment,
  ZMfaRecoveryCodes,
  ZMfaStart,
  ZMfaStatus,
} from '@/lib/shared/schemas/mfa';
import {
  ZImportQuery,
  ZLookup,
  ZLookupQuery,
  ZRateDto,
  ZRatesListQuery,
  ZRatesPatch,
  ZRatesPut,
  RATES_PATCH_MAX,
} from '@/lib/shared/schemas/rates';
import {
  ZNotificationListQuery,
  ZNotificationPage,
  ZNotificationsRead,
  ZNotificationsReadResult,
} from '@/lib/shared/schemas/notifications';
import {
  ZRevisionDiff,
  ZRevisionDiffQuery,
  ZRevisionDto,
  ZRevisionListQuery,
  ZRevisionParams,
  ZRollbackBody,
} from '@/lib/shared/schemas/revisions';
import { ZTokenCreate, ZTokenDto, ZTokenIssued } from '@/lib/shared/schemas/tokens';
import {
  ZPasswordChange,
  ZUserAccess,
  ZUserCreate,
  ZUserDto,
  ZUserListQuery,
  ZUserManageability,
  ZUserPatch,
} from '@/lib/shared/schemas/users';
import { ZEventsPage, ZEventsQuery } from '@/lib/shared/live/events';
import {
  ZBalanceDto,
  ZLedgerEntryDto,
  ZLedgerExportQuery,
  ZLedgerQuery,
  ZAdjustmentCreate,
  ZPaymentCreate,
  ZPaymentRecorded,
} from '@/lib/shared/schemas/ledger';
import {
  ZAccountStatementsQuery,
  ZStatementCreate,
  ZStatementDto,
  ZStatementListQuery,
} from '@/lib/shared/schemas/statements';
import {
  USAGE_MAX_RECORDS,
  ZUsageListQuery,
  ZUsageExportQuery,
  ZUsagePost,
  ZUsagePosted,
  ZUsageRecordDto,
  ZUsageRerate,
  ZUsageRerated,
  ZUsageSummary,
  ZUsageSummaryQuery,
} from '@/lib/shared/schemas/usage';

/**
 * Every /api/v1 route in one table (issue 14): its path in OpenAPI spelling (`{id}` for
 * a segment), the methods its route file exports, what each takes (path, query and body
 * schemas — the very ones the handler validates with) and answers (a schema per success
 * status). The OpenAPI document, the router's JSON 404/405, the metrics' route labels,
 * the fuzz test's endpoints and the integration tests' response checks all read it; a
 * unit test holds it to the route files under app/api/v1.
 */

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type THttpMethod = (typeof HTTP_METHODS)[number];

/**
 * A success answer: a JSON body's schema, a CSV body, an image (a brand's logo, one of
 * `LOGO_TYPES`), a PDF file (a statement), or no body (`null`, for 204).
 */
export type TSuccessBody = z.ZodType | 'text/csv' | 'image' | 'application/pdf' | null;

export interface TOperation {
  summary: string;
  /** The grant checked first; outside the caller's scope the answer is 404. */
  grant?: string;
  /** The path parameters (`{id}`), as `idParam` reads them. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON request body. */
  body?: z.ZodType;
  /** A text/csv request body (the rates import); with `body` too, either (`POST /usage`). */
  csvBody?: boolean;
  /** A raw image request body of one of these media types (a brand's logo). */
  imageBody?: readonly string[];
  /** Success statuses and their bodies; errors are `ZErrorBody` (see `declaredResponse`). */
  responses: Partial<Record<200 | 201 | 204, TSuccessBody>>;
  /** No credential needed. */
  public?: boolean;
  /** May answer 429 with Retry-After (public operations always may). */
  throttled?: boolean;
  /** Error statuses of its own, with why (beyond those every operation may answer). */
  errors?: Readonly<Record<number, string>>;
}

type TRoute = Partial<Record<THttpMethod, TOperation>>;

const ZIdParams = z.object({ id: ZId });
/** A logo's public address: the SHA-256 of its bytes, lower-case hex. */
const ZLogoParams = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256, 64 lower-case hex digits'),
});
/** The OpenAPI document (`GET /openapi.json`): its frame; the paths are this very table. */
const ZOpenApiDocument = z
  .object({
    openapi: z.literal('3.1.0'),
    info: z.object({ title: z.string(), version: z.string() }).loose(),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .loose();
const ZGroupAny = z.union([ZGroupDto, ZUseOnlyGroupDto]);
const ZCardAny = z.union([ZCardOwnerDto, ZCardAssignedDto]);

/** `GET /resellers/export` and `/customers/export`: the list as CSV. */
function accountExport(name: 'resellers' | 'customers') {
  return {
    GET: {
      summary: `The ${name} list in scope as CSV (its filters and sort; raw decimal strings)`,
      grant: `${name}:read`,
      query: ZAccountExportQuery,
      responses: { 200: 'text/csv' },
    },
  } as const satisfies TRoute;
}

/** `POST /resellers/bulk` and `/customers/bulk`: suspend or resume several at once. */
function accountBulk(name: 'resellers' | 'customers', dto: z.ZodType) {
  return {
    POST: {
      summary: `Suspend or resume ${name} in one transaction: any one out of scope is 404 and nothing is written; one already so is left as it is`,
      grant: `${name}:update`,
      body: ZAccountBulkStatus,
      responses: { 200: z.object({ items: z.array(dto) }) },
    },
  } as const satisfies TRoute;
}

/** `POST /resellers/bulk/impact` and `/customers/bulk/impact`: what a suspend reaches. */
function accountBulkImpact(name: 'resellers' | 'customers') {
  return {
    POST: {
      summary: `Count what suspending these ${name} changes: those not suspended already, and the resellers, customers and active users below them that have access now (a read; a body for a long list). Any one out of scope is 404`,
      grant: `${name}:update`,
      body: ZAccountBulkImpactQuery,
      responses: { 200: ZAccountBulkImpact },
    },
  } as const satisfies TRoute;
}

/** The five operations of a resource collection and its items. */
function crud<
  TName extends string,
  TList extends z.ZodObject,
  TCreate extends z.ZodType,
  TPatch extends z.ZodType,
>(name: TName, schemas: { dto: z.ZodType; list: TList; create: TCreate; patch: TPatch }) {
  return {
    collection: {
      GET: {
        summary: `List ${name} in scope`,
        grant: `${name}:read`,
        query: schemas.list,
        responses: { 200: ZPageOf(schemas.dto) },
      },
      POST: {
        summary: `Create one of ${name}`,
        grant: `${name}:create`,
        body: schemas.create,
        responses: { 201: schemas.dto },
      },
    },
    item: {
      GET: {
        summary: `Read one of ${name}`,
        grant: `${name}:read`,
        params: ZIdParams,
        responses: { 200: schemas.dto },
      },
      PATCH: {
        summary: `Update (version required; 409 when stale)`,
        grant: `${name}:update`,
        params: ZIdParams,
        body: schemas.patch,
        responses: { 200: schemas.dto },
      },
      DELETE: {
        summary: `Delete (409 listing dependants)`,
        grant: `${name}:delete`,
        params: ZIdParams,
        responses: { 204: null },
      },
    },
  } as const satisfies { collection: TRoute; item: TRoute };
}

const resellers = crud('resellers', {
  dto: ZResellerDto,
  list: ZAccountListQuery,
  create: ZResellerCreate,
  patch: ZResellerPatch,
});
const customers = crud('customers', {
  dto: ZCustomerDto,
  list: ZAccountListQuery,
  create: ZCustomerCreate,
  patch: ZCustomerPatch,
});
const users = crud('users', {
  dto: ZUserDto,
  list: ZUserListQuery,
  create: ZUserCreate,
  patch: ZUserPatch,
});
const groups = crud('groups', {
  dto: ZGroupAny,
  list: ZGroupListQuery,
  create: ZGroupCreate,
  patch: ZGroupPatch,
});
const cards = crud('cards', {
  dto: ZCardAny,
  list: ZCardListQuery,
  create: ZCardCreate,
  patch: ZCardPatch,
});

export const API_REGISTRY = {
  '/openapi.json': {
    GET: {
      summary: 'This document',
      responses: { 200: ZOpenApiDocument },
      public: true,
    },
  },
  '/auth/token': {
    POST: {
      summary:
        'Trade email and password (and `otp` when the user has MFA on: 401 `otp_required`) for a bearer token (throttled)',
      body: ZTokenCreate,
      responses: { 201: ZTokenIssued },
      public: true,
    },
  },
  '/me': { GET: { summary: 'Who the caller is', responses: { 200: ZMeDto } } },
  '/me/password': {
    POST: {
      summary: 'Change one’s own password (wrong current passwords are throttled)',
      body: ZPasswordChange,
      responses: { 204: null },
      throttled: true,
    },
  },
  '/me/mfa': {
    GET: { summary: 'The caller’s MFA state', responses: { 200: ZMfaStatus } },
    POST: {
      summary:
        'Start TOTP enrolment with the current password: a new secret (pending until confirmed), its URI and QR code',
      body: ZMfaStart,
      responses: { 201: ZMfaEnrolment },
      throttled: true,
    },
    DELETE: {
      summary:
        'Turn one’s MFA off with a current code, a recovery code or the password (403 `mfa_required` when the group requires it)',
      body: ZMfaDisable,
      responses: { 204: null },
      throttled: true,
    },
  },
  '/me/mfa/confirm': {
    POST: {
      summary:
        'Turn MFA on with a first code; answers 10 recovery codes, this once (wrong codes throttled per user)',
      body: ZMfaConfirm,
      responses: { 200: ZMfaRecoveryCodes },
      throttled: true,
    },
  },
  '/tokens': {
    GET: {
      summary: 'The caller’s own tokens, oldest first',
      query: ZPageQuery,
      responses: { 200: ZPageOf(ZTokenDto) },
    },
  },
  '/tokens/{id}': {
    DELETE: {
      summary: 'Revoke one of the caller’s tokens',
      params: ZIdParams,
      responses: { 204: null },
    },
  },
  '/notifications': {
    GET: {
      summary:
        'The caller’s own notices, newest first, with its unread count (during a view-as: the viewed user’s)',
      query: ZNotificationListQuery,
      responses: { 200: ZNotificationPage },
    },
  },
  '/notifications/read': {
    POST: {
      summary:
        'Mark some of the caller’s notices read (`ids`; one not the caller’s is 404 and nothing changes) or `all`',
      body: ZNotificationsRead,
      responses: { 200: ZNotificationsReadResult },
    },
  },
  '/resellers': resellers.collection,
  '/resellers/{id}': resellers.item,
  '/resellers/export': accountExport('resellers'),
  '/resellers/bulk': accountBulk('resellers', ZResellerDto),
  '/resellers/bulk/impact': accountBulkImpact('resellers'),
  '/customers': customers.collection,
  '/customers/export': accountExport('customers'),
  '/customers/bulk': accountBulk('customers', ZCustomerDto),
  '/customers/bulk/impact': accountBulkImpact('customers'),
  '/customers/{id}': customers.item,
  '/customers/{id}/transfer': {
    POST: {
      summary:
        'Move a customer to another account in scope with the card it gets there; its balance is kept (carried from the old parent’s books to the new one’s, converted at `rate` between currencies) or `settle`d with the old parent — a balance that is not zero, or a conversion, moves money, so it also needs `payments:create` and an `idempotencyKey` (`dryRun=true`: what it would change, the old parent’s margin on sample calls included, nothing written)',
      grant: 'customers:update',
      params: ZIdParams,
      query: ZTransferQuery,
      body: ZTransfer,
      responses: { 200: z.union([ZCustomerDto, ZTransferPreview]) },
      errors: {
        409: '`has_dependants`: the customer has users, groups, cards or a brand of its own (a transfer does not move them yet); `currency_mismatch`; `currency_changed`: the customer is no longer in `fromCurrency`',
      },
    },
  },
  '/accounts/{id}/payments': {
    POST: {
      summary:
        'Record a payment from an account below (its parent side); the balance moves in the same transaction. A retried `idempotencyKey` counts once (200, the first entry); the same key with another body is 409',
      grant: 'payments:create',
      params: ZIdParams,
      body: ZPaymentCreate,
      responses: { 201: ZPaymentRecorded, 200: ZPaymentRecorded },
      errors: {
        403: '`own_account`: an account does not record payments to itself (or a missing grant)',
        409: '`idempotency_conflict`: the key was used for another request (`current`: the entry it recorded); `balance_out_of_range`; `currency_changed`: the account is no longer in `currency`',
      },
    },
  },
  '/accounts/{id}/adjustments': {
    POST: {
      summary:
        'Correct the balance of an account below (its parent side): a `credit_note` (positive `amount`) or a signed `adjustment` (negative debits it, and may block it for credit), with its `reason`; a new ledger entry, in the same transaction as the balance. Keyed like a payment: a retried `idempotencyKey` counts once (200), the same key with another body is 409',
      grant: 'adjustments:create',
      params: ZIdParams,
      body: ZAdjustmentCreate,
      responses: { 201: ZPaymentRecorded, 200: ZPaymentRecorded },
      errors: {
        403: '`own_account`: an account does not correct its own balance (or a missing grant)',
        409: '`idempotency_conflict`: the key was used for another request (`current`: the entry it recorded); `balance_out_of_range`; `currency_changed`: the account is no longer in `currency`',
      },
    },
  },
  '/accounts/{id}/ledger': {
    GET: {
      summary:
        'The account’s ledger, newest first (its own side and above — above it, only what moved on the caller’s books or below, so not a customer’s time under a former parent; `kind`, `from`, `to` filter)',
      grant: 'ledger:read',
      params: ZIdParams,
      query: ZLedgerQuery,
      responses: { 200: ZPageOf(ZLedgerEntryDto) },
    },
  },
  '/accounts/{id}/ledger/export': {
    GET: {
      summary:
        'The account’s ledger as CSV with the list’s filters, oldest first (raw decimal strings; who recorded each as the list names them)',
      grant: 'ledger:read',
      params: ZIdParams,
      query: ZLedgerExportQuery,
      responses: { 200: 'text/csv' },
    },
  },
  '/accounts/{id}/balance': {
    GET: {
      summary: 'The account’s balance, credit limit and available credit, in its currency',
      grant: 'ledger:read',
      params: ZIdParams,
      responses: { 200: ZBalanceDto },
    },
  },
  '/accounts/{id}/brand': {
    GET: {
      summary:
        'The account’s own brand (null: none) and `effective`, the brand that applies to it: its own, else the nearest above it (`accountId` named only when the caller may see that account), else the product’s default',
      grant: 'brand:read',
      params: ZIdParams,
      responses: { 200: ZBrandView },
    },
    PUT: {
      summary: `Set the account’s whole brand (its own side or a parent’s): display name, primary colour (at least 4.5:1 with white text), accent colour (at least 3:1 on white), support email and https URL, and up to ${BRAND_MAX_HOSTNAMES} hostnames, each unique across the installation and none of the panel’s own (\`PUBLIC_URL\`’s, \`PANEL_HOSTNAMES\`: 400 naming it). \`version\`: the brand’s as read, absent for a first one`,
      grant: 'brand:update',
      params: ZIdParams,
      body: ZBrandPut,
      responses: { 200: ZBrandDto, 201: ZBrandDto },
      errors: {
        409: '`hostname_taken`: another account’s brand has one of the hostnames (not said whose); `conflict`: a stale `version`, with the current brand',
      },
    },
    DELETE: {
      summary:
        'Remove the account’s brand, its hostnames and its logo: the brand above it applies again',
      grant: 'brand:update',
      params: ZIdParams,
      responses: { 204: null },
    },
  },
  '/accounts/{id}/brand/logo': {
    PUT: {
      summary: `Set the logo of the account’s brand (who may: as for its brand), the image itself as the body: ${LOGO_TYPES.join(', ')}, at most ${LOGO_MAX_BYTES} bytes (413 beyond). The bytes must be of the type sent (400 naming \`body\` otherwise); an SVG is sanitised (scripts, event handlers, foreign content and external references removed) before it is stored. The brand’s version moves; its \`logoUrl\` names the logo’s public address`,
      grant: 'brand:update',
      params: ZIdParams,
      imageBody: LOGO_TYPES,
      responses: { 200: ZBrandDto },
      errors: {
        409: '`no_brand`: the account has no brand of its own; set the brand first',
        413: `The image is larger than ${LOGO_MAX_BYTES} bytes`,
        415: `The Content-Type is not one of ${LOGO_TYPES.join(', ')}`,
      },
    },
    DELETE: {
      summary: 'Remove the logo of the account’s brand (404 when it has none)',
      grant: 'brand:update',
      params: ZIdParams,
      responses: { 204: null },
      errors: { 409: '`no_brand`: the account has no brand of its own' },
    },
  },
  '/logos/{sha256}': {
    GET: {
      summary:
        'A brand’s logo by the SHA-256 of its bytes (a brand’s `logoUrl`), with its stored type; public, so a sign-in page can show it, and immutable (cached for a year). Served inert: `nosniff` and a sandboxing Content-Security-Policy',
      params: ZLogoParams,
      responses: { 200: 'image' },
      public: true,
    },
  },
  '/accounts/{id}/statements': {
    GET: {
      summary:
        'The account’s statements, in issue order (its own side and above; a sibling is 404)',
      grant: 'statements:read',
      params: ZIdParams,
      query: ZAccountStatementsQuery,
      responses: { 200: ZPageOf(ZStatementDto) },
    },
    POST: {
      summary:
        'Issue the account’s statement for a month (`period`: `YYYY-MM`, UTC; not one still to come) from its ledger as it stands: opening balance, usage by destination, payments, credit notes, adjustments and closing balance in its currency, as a PDF in the name and brand of its parent. For an account below the caller’s. Final once issued; issuing the month again numbers a new statement (1, 2, … per account). A retried `idempotencyKey` answers the first (200); the same key for another month is 409',
      grant: 'statements:create',
      params: ZIdParams,
      body: ZStatementCreate,
      responses: { 201: ZStatementDto, 200: ZStatementDto },
      errors: {
        409: '`idempotency_conflict`: the key was used for another month; `currency_changed`: a transfer converted the account’s balance within the month; `period_before_transfer`: the month holds movements from before the account came under its parent',
      },
    },
  },
  '/statements': {
    GET: {
      summary:
        'Statements the caller reads — its own account’s, and those issued under a parent at or below it wherever the account is now — in issue order (`accountId`: one account it reads)',
      grant: 'statements:read',
      query: ZStatementListQuery,
      responses: { 200: ZPageOf(ZStatementDto) },
    },
  },
  '/statements/{id}': {
    GET: {
      summary: 'One statement, with its figures',
      grant: 'statements:read',
      params: ZIdParams,
      responses: { 200: ZStatementDto },
    },
  },
  '/statements/{id}/pdf': {
    GET: {
      summary: 'The statement’s PDF as issued (an attachment)',
      grant: 'statements:read',
      params: ZIdParams,
      responses: { 200: 'application/pdf' },
    },
  },
  '/usage': {
    GET: {
      summary:
        'Call records in scope, newest received first, each with the levels the caller may see (its own and those below it: a reseller sees its customers’ price and its own cost, never the cost above it); `accountId` (a subtree), `status`, `reason`, `from`/`to` (start), `number` (leading digits)',
      grant: 'usage:read',
      query: ZUsageListQuery,
      responses: { 200: ZPageOf(ZUsageRecordDto) },
    },
    POST: {
      summary: `Rate up to ${USAGE_MAX_RECORDS} call records (JSON \`{records}\`, or text/csv with the header \`id,accountId,number,startedAt,seconds\`) at every level of each customer’s chain with the rates live at the call’s start, and post them to the ledger in one transaction. A record id the same poster (the caller’s account) sent before is a duplicate and counts once; one that cannot be rated is stored as unrated with its reason`,
      grant: 'usage:create',
      body: ZUsagePost,
      csvBody: true,
      responses: { 200: ZUsagePosted },
      errors: {
        409: '`idempotency_conflict`: a record id sent before (or earlier in the batch) for another call, each named in `fields` (nothing written); `records_in_flight`: another request stored some of these record ids at the same moment (nothing written; send again); `balance_out_of_range`; `busy`: retry',
        413: `\`too_many_records\`: more than ${USAGE_MAX_RECORDS} records (or \`payload_too_large\`)`,
      },
    },
  },
  '/usage/export': {
    GET: {
      summary:
        'The calls `GET /usage` lists with the same filters as CSV, oldest received first: each call’s money as the caller reads it — `price` (what the customer paid), `revenue` (what was paid to the caller), `cost` (what the caller paid: its buy price, or a carrier’s provider cost), `margin` (revenue less cost, empty across currencies) — as raw decimal strings beside their currencies',
      grant: 'usage:read',
      query: ZUsageExportQuery,
      responses: { 200: 'text/csv' },
    },
  },
  '/usage/summary': {
    GET: {
      summary:
        'Calls, seconds, revenue, cost, margin and unrated calls of the subtree of `parentId` (default the caller’s account), `by` its direct children (`account`), `destination`, `hour` or `day`, for calls started in [`from`, `to`)',
      grant: 'usage:read',
      query: ZUsageSummaryQuery,
      responses: { 200: ZUsageSummary },
    },
  },
  '/usage/rerate': {
    POST: {
      summary:
        'Rate unrated records again (`ids`, or `all` in scope, at most 10,000 per call, oldest first): those that can be rated now are charged and posted; the others stay unrated with their reason now. Ids outside scope are 404 and nothing is done. A required `idempotencyKey` (8 to 100 characters, per the caller’s account) names the attempt: a retry with it answers the first attempt’s result (200, `replayed: true`, nothing rated again); the same key with another request is 409 `idempotency_conflict`',
      grant: 'usage:create',
      body: ZUsageRerate,
      responses: { 200: ZUsageRerated },
    },
  },
  '/users': users.collection,
  '/users/{id}': users.item,
  '/users/{id}/manageable': {
    GET: {
      summary:
        'Whether the caller may reset, disable, enable, delete or regroup the user: only when the user’s group holds nothing the caller lacks, and never itself',
      grant: 'users:read',
      params: ZIdParams,
      responses: { 200: ZUserManageability },
    },
  },
  '/users/{id}/mfa': {
    DELETE: {
      summary:
        'Reset the user’s MFA (same rule as a password reset); every session of the user ends',
      grant: 'users:update',
      params: ZIdParams,
      responses: { 200: ZUserDto },
    },
  },
  '/users/{id}/access': {
    GET: {
      summary:
        'The user’s effective permissions and the accounts and cards it can see (needs users:read and groups:read; a section the caller cannot read is withheld)',
      grant: 'users:read',
      params: ZIdParams,
      responses: { 200: ZUserAccess },
    },
  },
  '/groups': groups.collection,
  '/groups/{id}': groups.item,
  '/cards': {
    ...cards.collection,
    GET: {
      ...cards.collection.GET,
      // Each item carries its markup rules and overrides whole (list-cards.ts).
      summary:
        'List cards in scope; a page ends early (`nextCursor` set) once its cards hold 50,000 markup rules and overrides all told',
    },
  },
  '/cards/{id}': cards.item,
  '/cards/{id}/derive': {
    POST: {
      summary:
        'A customer card of the caller’s account whose rates follow this one (and any `moreParents`, compacted per prefix), marked up',
      grant: 'cards:create',
      params: ZIdParams,
      body: ZCardDerive,
      responses: { 201: ZCardOwnerDto },
    },
  },
  '/cards/{id}/margin': {
    GET: {
      summary:
        'Rows that lose money on some call length: a derived card’s against the parent row that priced each, a hand-built customer card’s against the cheapest of its `compareWith` provider cards. It shows buy and sell rates, so it needs `rates:read` as well (403 naming it)',
      grant: 'cards:read',
      params: ZIdParams,
      query: ZMarginQuery,
      responses: { 200: ZMarginReport },
    },
  },
  '/cards/{id}/rates': {
    GET: {
      summary: 'The card’s rates in prefix order (`prefix` narrows)',
      grant: 'rates:read',
      params: ZIdParams,
      query: ZRatesListQuery,
      responses: { 200: ZPageOf(ZRateDto) },
    },
    PUT: {
      summary: 'Replace the whole rate set (derived cards recompute in the same transaction)',
      grant: 'rates:update',
      params: ZIdParams,
      body: ZRatesPut,
      responses: { 200: ZRatesWritten },
    },
    PATCH: {
      summary: `Change a few rows, keep the rest: \`upsert\` adds rows or replaces those with the same prefix and effective time, \`remove\` takes rows out by prefix (and effective time, if dated) — up to ${RATES_PATCH_MAX} each; a row dated \`"now"\` takes effect from the moment it is written, by the database’s clock, which is how terms in force change — as the card’s next revision (\`liveAt\` to schedule it), derived cards recomputed in the same transaction. A row named twice, a removal of a row the card does not have or that is also given: 400 naming it, nothing written`,
      grant: 'rates:update',
      params: ZIdParams,
      body: ZRatesPatch,
      responses: { 200: ZRatesWritten },
      errors: {
        409: '`derived_card`: a derived card’s rates follow its parent; `conflict`: the card changed since `version` (`current`: the card as it is)',
      },
    },
  },
  '/cards/{id}/rates/import': {
    POST: {
      summary:
        'Import a rates CSV: a header row naming the export’s columns, `prefix,destination,rate` required, `connectionFee,initialIncrement,increment,graceSeconds,effectiveFrom,blocked,minimumSeconds` optional (empty cell: the default; `minimumSeconds` whole seconds 0–3600, 0 none). Nothing written if any line is bad; 400 lists them',
      grant: 'rates:update',
      params: ZIdParams,
      query: ZImportQuery,
      csvBody: true,
      responses: { 200: ZRatesImported },
    },
  },
  '/cards/{id}/revisions': {
    GET: {
      summary:
        'The card’s rate revisions, newest first: live, scheduled (with the date it goes live), superseded or cancelled',
      grant: 'rates:read',
      params: ZIdParams,
      query: ZRevisionListQuery,
      responses: { 200: ZPageOf(ZRevisionDto) },
    },
  },
  '/cards/{id}/revisions/{n}': {
    DELETE: {
      summary:
        'Cancel a scheduled revision (the latest one; derived cards’ revisions from it go too)',
      grant: 'rates:update',
      params: ZRevisionParams,
      responses: { 204: null },
      errors: {
        409: '`revision_live`: its date has come (calls may be rated at it: roll back instead); `revision_not_scheduled`: cancelled already, or a later revision follows it',
      },
    },
  },
  '/cards/{id}/revisions/{n}/diff': {
    GET: {
      summary:
        'A revision against the one before it: counts, and the rows (paged) that are new, removed, increased, decreased, changed or unchanged',
      grant: 'rates:read',
      params: ZRevisionParams,
      query: ZRevisionDiffQuery,
      responses: { 200: ZRevisionDiff },
    },
  },
  '/cards/{id}/revisions/{n}/rollback': {
    POST: {
      summary:
        'Schedule a copy of revision n as a new revision, live now or at `liveAt` (history is never rewritten)',
      grant: 'rates:update',
      params: ZRevisionParams,
      body: ZRollbackBody,
      responses: { 200: ZRevisionDto },
      errors: {
        409: 'A revision is scheduled later than liveAt, or too little notice of increases',
      },
    },
  },
  '/cards/{id}/rates/export': {
    GET: {
      summary: 'The rates as CSV, formula-like cells neutralized',
      grant: 'rates:read',
      params: ZIdParams,
      responses: { 200: 'text/csv' },
    },
  },
  '/assignments': {
    GET: {
      summary: 'Assignments of cards owned in scope',
      grant: 'assignments:read',
      query: ZAssignmentListQuery,
      responses: { 200: ZPageOf(ZAssignmentDto) },
    },
    POST: {
      summary: 'Assign a customer card to an account directly under its owner',
      grant: 'assignments:create',
      body: ZAssignmentCreate,
      responses: { 201: ZAssignmentDto },
    },
  },
  '/assignments/bulk': {
    POST: {
      summary:
        'Assign one customer card to several accounts in one transaction: any one refused refuses all, nothing written; an account holding the card already is left as it is',
      grant: 'assignments:create',
      body: ZAssignmentBulk,
      responses: { 200: z.object({ items: z.array(ZAssignmentDto) }) },
    },
  },
  '/assignments/{id}': {
    DELETE: {
      summary: 'Remove an assignment (409 while cards derived from it exist)',
      grant: 'assignments:delete',
      params: ZIdParams,
      responses: { 204: null },
    },
  },
  '/rates/lookup': {
    GET: {
      summary: 'Price trace: the longest-prefix rate at each visible level of the chain',
      grant: 'rates:read',
      query: ZLookupQuery,
      responses: { 200: ZLookup },
    },
  },
  '/authorize': {
    POST: {
      summary:
        'A switch’s question: may this customer’s call to `number` go, and for how long (`maxSeconds`: the tightest level’s credit, each level billed its way, at most 4 h)? Every level of the chain active, not blocked for credit, with a card and an open route (`at`: the revisions live then). A refusal names its reason and level, or `above` the caller’s own account',
      grant: 'calls:authorize',
      body: ZAuthorizeRequest,
      responses: { 200: ZAuthorization },
    },
  },
  '/dashboard': {
    GET: {
      summary: 'How many resellers, customers, users and cards the caller sees (null: no grant)',
      responses: { 200: ZDashboardCounts },
    },
  },
  '/dashboard/attention': {
    GET: {
      summary:
        'What needs attention in scope: losing cards, suspended accounts, active accounts out of credit (`creditBlocked`, with their balance), scheduled rate changes',
      responses: { 200: ZDashboardAttention },
    },
  },
  '/dashboard/exposure': {
    GET: {
      summary:
        'Credit exposure of the accounts directly below the caller’s: balance, limit, available, blocked (`sort`: available, balance, limit; `currency`: only the accounts kept in it — amounts are never converted, so rank within one; `currencies` lists those in scope, the most used first)',
      grant: 'ledger:read',
      query: ZExposureQuery,
      responses: { 200: ZExposurePage },
    },
  },
  '/audit': {
    GET: {
      summary: 'The audit trail within scope, newest first',
      grant: 'audit:read',
      query: ZAuditQuery,
      responses: { 200: ZPageOf(ZAuditEntryDto) },
    },
  },
  '/audit/export': {
    GET: {
      summary:
        'The audit trail within scope as CSV with the list’s filters, oldest first (each entry as the list shows it: what changed as JSON, empty where withheld)',
      grant: 'audit:read',
      query: ZAuditExportQuery,
      responses: { 200: 'text/csv' },
    },
  },
  '/impersonation': {
    POST: {
      summary: 'View as a user of a strictly lower account (read-only, time-limited)',
      grant: 'impersonation:start',
      body: ZImpersonationStart,
      responses: { 201: ZImpersonationStarted },
    },
    DELETE: { summary: 'Stop viewing as another user', responses: { 204: null } },
  },
  '/events': {
    GET: {
      summary:
        'Catch-up: the changes after `since` the caller would have received live, in seq order, and the `seq` to resume from (the twin of the socket’s `events:since`). A page may hold fewer items than `limit`, or none, before the head: follow `seq` until it stops moving. `since=0` holds nothing: a person created later is answered from its own creation on',
      query: ZEventsQuery,
      responses: { 200: ZEventsPage },
      errors: {
        410: '`resync_required`: `since` is older than the kept log or past its head, or the caller’s access changed since; fetch afresh',
      },
    },
  },
} as const satisfies Record<string, TRoute>;

export type TApiPath = keyof typeof API_REGISTRY;

/** Every operation of the table, in its order. */
export const API_OPERATION_LIST: readonly {
  path: TApiPath;
  method: THttpMethod;
  op: TOperation;
}[] = Object.entries(API_REGISTRY).flatMap(([path, route]) =>
  Object.entries(route as TRoute).map(([method, op]) => ({
    path: path as TApiPath,
    method: method as THttpMethod,
    op: op as TOperation,
  })),
);

/** Error statuses any operation may answer, whatever it is (HTTP's own and the wrapper's). */
export const COMMON_ERRORS: Readonly<Record<number, string>> = {
  400: 'Invalid input; `fields` names each bad field',
  401: 'No valid session or token',
  403: 'A missing grant, escalation, a read-only view, or a cookie write from another origin (`cross_origin`)',
  404: 'Not found or outside the caller’s scope',
  409: 'Stale version (with `current`) or blocked (with `dependants`)',
};

/** Refusals the transport may answer to any request, documented once in the overview. */
const TRANSPORT_ERRORS = [405, 413, 415, 503];

/** The error statuses an operation declares (besides the transport's). */
export function errorStatuses(op: TOperation): Record<number, string> {
  const throttled: Record<number, string> =
    op.public || op.throttled ? { 429: 'Throttled; see Retry-After' } : {};
  return { ...COMMON_ERRORS, ...throttled, ...op.errors };
}

const isParam = (segment: string) => segment.startsWith('{');

/** Literal segments win over `{id}` (or `{n}`): fewer parameters first. */
const ROUTES_BY_SPECIFICITY = (Object.keys(API_REGISTRY) as TApiPath[])
  .map((path) => ({ path, segments: path.split('/').slice(1) }))
  .sort((a, b) => a.segments.filter(isParam).length - b.segments.filter(isParam).length);

/** The path of the table that serves these (decoded) segments below /api/v1, or null. */
export function matchRoute(segments: readonly string[]): TApiPath | null {
  const match = ROUTES_BY_SPECIFICITY.find(
    (route) =>
      route.segments.length === segments.length &&
      route.segments.every((part, index) => isParam(part) || part === segments[index]),
  );
  return match?.path ?? null;
}

/** The path of the table an /api/v1 path (`/cards/6f…/rates?x=1`) is served by, or null. */
export function registryPathOf(concrete: string): TApiPath | null {
  return matchRoute(concrete.split('?')[0]!.split('/').slice(1));
}

/**
 * What an operation declares for a status: the success body (schema, CSV or none) or,
 * for an error status it or the transport may answer, `ZErrorBody`. Undefined when the
 * status is not one the operation declares.
 */
export function declaredResponse(
  op: TOperation,
  status: number,
): { body: TSuccessBody } | undefined {
  if (status in op.responses) return { body: op.responses[status as 200] ?? null };
  if (status in errorStatuses(op) || TRANSPORT_ERRORS.includes(status)) {
    return { body: ZErrorBody };
  }
  return undefined;
}
