import { z } from 'zod';
import {
  ZCustomerCreate,
  ZCustomerDto,
  ZCustomerPatch,
  ZResellerCreate,
  ZResellerDto,
  ZResellerPatch,
} from '@/lib/shared/schemas/accounts';
import { ZAuditEntryDto, ZAuditQuery } from '@/lib/shared/schemas/audit';
import { ZErrorBody, ZId, ZPageOf, ZPageQuery, ZText } from '@/lib/shared/schemas/common';
import {
  ZGroupCreate,
  ZGroupDto,
  ZGroupPatch,
  ZUseOnlyGroupDto,
} from '@/lib/shared/schemas/groups';
import { ZImpersonationStart } from '@/lib/shared/schemas/impersonation';
import { ZMeDto } from '@/lib/shared/schemas/me';
import {
  ZMfaConfirm,
  ZMfaDisable,
  ZMfaEnrolment,
  ZMfaRecoveryCodes,
  ZMfaStatus,
} from '@/lib/shared/schemas/mfa';
import {
  ZAssignmentCreate,
  ZAssignmentDto,
  ZAssignmentListQuery,
  ZCardAssignedDto,
  ZCardCreate,
  ZCardDerive,
  ZCardListQuery,
  ZCardOwnerDto,
  ZCardPatch,
  ZTransfer,
} from '@/lib/shared/schemas/cards';
import { ZImportQuery, ZLookupQuery, ZRatesListQuery, ZRatesPut } from '@/lib/shared/schemas/rates';
import { ZTokenCreate, ZTokenDto, ZTokenIssued } from '@/lib/shared/schemas/tokens';
import {
  ZPasswordChange,
  ZUserCreate,
  ZUserDto,
  ZUserManageability,
  ZUserPatch,
} from '@/lib/shared/schemas/users';

/**
 * OpenAPI 3.1 for /api/v1, generated from the very zod schemas the handlers validate
 * with and the DTO schemas their answers follow, so the document cannot drift.
 */
interface TOperation {
  summary: string;
  grant?: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  ok: { status: 200 | 201 | 204; schema?: z.ZodType; csv?: boolean };
  /** A text/csv request body instead of JSON. */
  csvBody?: boolean;
  public?: boolean;
  /** May answer 429 with Retry-After (public operations always may). */
  throttled?: boolean;
}

const ZListQuery = ZPageQuery.extend({ q: ZText().optional(), parentId: ZId.optional() });
const ZGroupAny = z.union([ZGroupDto, ZUseOnlyGroupDto]);
const ZCardAny = z.union([ZCardOwnerDto, ZCardAssignedDto]);
const ZRateDto = z.object({
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
});
const ZRatesWritten = z.object({ card: ZCardOwnerDto, rows: z.number().int() });

const crud = (
  name: string,
  dto: z.ZodType,
  create: z.ZodType,
  patch: z.ZodType,
  list = ZPageQuery,
) => ({
  [`/${name}`]: {
    get: {
      summary: `List ${name} in scope`,
      grant: `${name}:read`,
      query: list,
      ok: { status: 200, schema: ZPageOf(dto) },
    },
    post: {
      summary: `Create one of ${name}`,
      grant: `${name}:create`,
      body: create,
      ok: { status: 201, schema: dto },
    },
  },
  [`/${name}/{id}`]: {
    get: {
      summary: `Read one of ${name}`,
      grant: `${name}:read`,
      ok: { status: 200, schema: dto },
    },
    patch: {
      summary: `Update (version required; 409 when stale)`,
      grant: `${name}:update`,
      body: patch,
      ok: { status: 200, schema: dto },
    },
    delete: {
      summary: `Delete (409 listing dependants)`,
      grant: `${name}:delete`,
      ok: { status: 204 },
    },
  },
});

const OPERATIONS: Record<string, Record<string, TOperation>> = {
  '/auth/token': {
    post: {
      summary:
        'Trade email and password (and `otp` when the user has MFA on: 401 `otp_required`) for a bearer token (throttled)',
      body: ZTokenCreate,
      ok: { status: 201, schema: ZTokenIssued },
      public: true,
    },
  },
  '/me': { get: { summary: 'Who the caller is', ok: { status: 200, schema: ZMeDto } } },
  '/me/password': {
    post: {
      summary: 'Change one’s own password (wrong current passwords are throttled)',
      body: ZPasswordChange,
      ok: { status: 204 },
      throttled: true,
    },
  },
  '/me/mfa': {
    get: { summary: 'The caller’s MFA state', ok: { status: 200, schema: ZMfaStatus } },
    post: {
      summary: 'Start TOTP enrolment: a new secret (pending until confirmed), its URI and QR code',
      ok: { status: 201, schema: ZMfaEnrolment },
    },
    delete: {
      summary:
        'Turn one’s MFA off with a current code, a recovery code or the password (403 `mfa_required` when the group requires it)',
      body: ZMfaDisable,
      ok: { status: 204 },
    },
  },
  '/me/mfa/confirm': {
    post: {
      summary: 'Turn MFA on with a first code; answers 10 recovery codes, this once',
      body: ZMfaConfirm,
      ok: { status: 200, schema: ZMfaRecoveryCodes },
    },
  },
  '/tokens': {
    get: { summary: 'The caller’s own tokens', ok: { status: 200, schema: ZPageOf(ZTokenDto) } },
  },
  '/tokens/{id}': { delete: { summary: 'Revoke one of the caller’s tokens', ok: { status: 204 } } },
  ...crud('resellers', ZResellerDto, ZResellerCreate, ZResellerPatch, ZListQuery),
  ...crud('customers', ZCustomerDto, ZCustomerCreate, ZCustomerPatch, ZListQuery),
  ...crud(
    'users',
    ZUserDto,
    ZUserCreate,
    ZUserPatch,
    ZPageQuery.extend({ accountId: ZId.optional() }),
  ),
  '/users/{id}/manageable': {
    get: {
      summary:
        'Whether the caller may reset, disable, enable, delete or regroup the user: only when the user’s group holds nothing the caller lacks, and never itself',
      grant: 'users:read',
      ok: { status: 200, schema: ZUserManageability },
    },
  },
  '/users/{id}/mfa': {
    delete: {
      summary:
        'Reset the user’s MFA (same rule as a password reset); every session of the user ends',
      grant: 'users:update',
      ok: { status: 200, schema: ZUserDto },
    },
  },
  '/users/{id}/access': {
    get: {
      summary:
        'The user’s effective permissions and the accounts and cards it can see (needs users:read and groups:read; a section the caller cannot read is withheld)',
      grant: 'users:read',
      ok: { status: 200 },
    },
  },
  ...crud('groups', ZGroupAny, ZGroupCreate, ZGroupPatch),
  ...crud('cards', ZCardAny, ZCardCreate, ZCardPatch, ZCardListQuery),
  '/cards/{id}/derive': {
    post: {
      summary: 'A customer card of the caller’s account whose rates follow this one, marked up',
      grant: 'cards:create',
      body: ZCardDerive,
      ok: { status: 201, schema: ZCardOwnerDto },
    },
  },
  '/cards/{id}/margin': {
    get: {
      summary: 'Rows of a derived card that lose money, priced at sample call lengths',
      grant: 'cards:read',
      query: z.object({ limit: z.number().int().optional(), cursor: ZText().optional() }),
      ok: { status: 200 },
    },
  },
  '/cards/{id}/rates': {
    get: {
      summary: 'The card’s rates in prefix order (`prefix` narrows)',
      grant: 'rates:read',
      query: ZRatesListQuery,
      ok: { status: 200, schema: ZPageOf(ZRateDto) },
    },
    put: {
      summary: 'Replace the whole rate set (derived cards recompute in the same transaction)',
      grant: 'rates:update',
      body: ZRatesPut,
      ok: { status: 200, schema: ZRatesWritten },
    },
  },
  '/cards/{id}/rates/import': {
    post: {
      summary: 'Import a rates CSV (nothing written if any line is bad; 400 lists them)',
      grant: 'rates:update',
      query: ZImportQuery,
      csvBody: true,
      ok: { status: 200, schema: ZRatesWritten },
    },
  },
  '/cards/{id}/rates/export': {
    get: {
      summary: 'The rates as CSV, formula-like cells neutralized',
      grant: 'rates:read',
      ok: { status: 200, csv: true },
    },
  },
  '/assignments': {
    get: {
      summary: 'Assignments of cards owned in scope',
      grant: 'assignments:read',
      query: ZAssignmentListQuery,
      ok: { status: 200, schema: ZPageOf(ZAssignmentDto) },
    },
    post: {
      summary: 'Assign a customer card to an account directly under its owner',
      grant: 'assignments:create',
      body: ZAssignmentCreate,
      ok: { status: 201, schema: ZAssignmentDto },
    },
  },
  '/assignments/{id}': {
    delete: {
      summary: 'Remove an assignment (409 while cards derived from it exist)',
      grant: 'assignments:delete',
      ok: { status: 204 },
    },
  },
  '/rates/lookup': {
    get: {
      summary: 'Price trace: the longest-prefix rate at each visible level of the chain',
      grant: 'rates:read',
      query: ZLookupQuery,
      ok: { status: 200 },
    },
  },
  '/customers/{id}/transfer': {
    post: {
      summary: 'Move a customer to another account in scope with the card it gets there',
      grant: 'customers:update',
      body: ZTransfer,
      ok: { status: 200, schema: ZCustomerDto },
    },
  },
  '/dashboard': {
    get: {
      summary: 'How many resellers, customers, users and cards the caller sees (null: no grant)',
      ok: { status: 200 },
    },
  },
  '/audit': {
    get: {
      summary: 'The audit trail within scope, newest first',
      grant: 'audit:read',
      query: ZAuditQuery,
      ok: { status: 200, schema: ZPageOf(ZAuditEntryDto) },
    },
  },
  '/impersonation': {
    post: {
      summary: 'View as a user of a strictly lower account (read-only, time-limited)',
      grant: 'impersonation:start',
      body: ZImpersonationStart,
      ok: { status: 201 },
    },
    delete: { summary: 'Stop viewing as another user', ok: { status: 204 } },
  },
};

const schemaOf = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

function operation(path: string, method: string, op: TOperation) {
  const parameters = [
    ...(path.includes('{id}')
      ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }]
      : []),
    ...Object.entries(op.query?.shape ?? {}).map(([name, field]) => ({
      name,
      in: 'query',
      required: !(field as z.ZodType).safeParse(undefined).success,
      schema: schemaOf(field as z.ZodType, 'input'),
    })),
  ];
  const error = {
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    operationId: `${method}${path
      .replace(/[{}]/g, '')
      .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
      .replace(/\W/g, '')}`,
    summary: op.summary,
    ...(op.grant
      ? { description: `Requires the grant \`${op.grant}\`. Outside the caller's scope: 404.` }
      : {}),
    ...(op.public ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.csvBody
      ? {
          requestBody: {
            required: true,
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
        }
      : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(op.body, 'input') } },
          },
        }
      : {}),
    responses: {
      [op.ok.status]: op.ok.csv
        ? { description: 'OK', content: { 'text/csv': { schema: { type: 'string' } } } }
        : op.ok.schema
          ? {
              description: 'OK',
              content: { 'application/json': { schema: schemaOf(op.ok.schema, 'output') } },
            }
          : { description: 'Done' },
      400: { description: 'Invalid input; `fields` names each bad field', ...error },
      401: { description: 'No valid session or token', ...error },
      403: {
        description:
          'A missing grant, escalation, a read-only view, or a cookie write from another origin (`cross_origin`)',
        ...error,
      },
      404: { description: 'Not found or outside the caller’s scope', ...error },
      409: {
        description: 'Stale version (with `current`) or blocked (with `dependants`)',
        ...error,
      },
      ...(op.public || op.throttled
        ? { 429: { description: 'Throttled; see Retry-After', ...error } }
        : {}),
    },
  };
}

/** Every v1 path, as OpenAPI names it (`/cards/{id}/rates`): the bounded route labels of metrics. */
export const API_PATHS: readonly string[] = Object.keys(OPERATIONS);

/** The methods each documented path serves (upper case), for the router's 404 and 405. */
export const API_OPERATIONS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(OPERATIONS).map(([path, methods]) => [
    path,
    Object.keys(methods).map((method) => method.toUpperCase()),
  ]),
);

export function buildOpenApi() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    paths[path] = Object.fromEntries(
      Object.entries(methods).map(([method, op]) => [method, operation(path, method, op)]),
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Reseller Panel API',
      version: '1',
      description:
        'Money travels as decimal strings. Lists are paged with `limit` and `cursor`. ' +
        'Text never holds a NUL or another control character (400 naming the field). ' +
        'A path not listed here answers 404 `not_found`; a method a path does not serve ' +
        'answers 405 `method_not_allowed` with `Allow`.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from POST /auth/token' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'next-auth.session-token',
          description:
            "The panel's session. A write with it must name the panel's origin in Origin (or Referer) and send JSON (text/csv on the rates import): 403 `cross_origin`, 415 `unsupported_media_type` otherwise.",
        },
      },
      schemas: { Error: schemaOf(ZErrorBody, 'output') },
    },
    paths,
  };
}
