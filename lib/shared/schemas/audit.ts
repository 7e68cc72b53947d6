import { z } from 'zod';
import { ZId, ZInstant, ZPageQuery, ZSort } from './common';

/** Every resource the change log records. */
export const LOGGED_RESOURCES = [
  'carriers',
  'resellers',
  'customers',
  'users',
  'groups',
  'tokens',
  'sessions',
  'impersonation',
  'cards',
  'assignments',
  // Issue 19: an account's brand (entity id: the account's), audited, never live.
  'brands',
  // Issue 19: an account's monthly statements, live to its side and above.
  'statements',
] as const;
export type TLoggedResource = (typeof LOGGED_RESOURCES)[number];

export const ZAuditQuery = ZPageQuery.extend({
  resource: z.enum(LOGGED_RESOURCES).optional(),
  entityId: ZId.optional(),
  op: z.enum(['created', 'updated', 'deleted']).optional(),
  /** One account's activity: the account itself and everything in its subtree (404 outside scope). */
  accountId: ZId.optional(),
  /**
   * One person's doing: what that user did, or did while viewing as someone else. Only a
   * user the caller may read (404 otherwise: the audit names no one else either).
   */
  actorId: ZId.optional(),
  /** From this instant on (inclusive). */
  from: ZInstant('must be an ISO 8601 time').optional(),
  /** Before this instant (exclusive). */
  to: ZInstant('must be an ISO 8601 time').optional(),
  /** Absent: newest first (`-at`). `resource` sorts by resource, newest first within one. */
  sort: ZSort(['at', 'resource']),
});
export type TAuditQuery = z.infer<typeof ZAuditQuery>;

/** `GET /audit/export`: the same filters, every entry, oldest first. */
export const ZAuditExportQuery = ZAuditQuery.omit({ limit: true, cursor: true, sort: true });
export type TAuditExportQuery = z.infer<typeof ZAuditExportQuery>;

/** The audit export's columns (`GET /audit/export`). */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'at',
  'resource',
  'entityId',
  'op',
  'version',
  'description',
  'actor',
  'actorEmail',
  'impersonator',
  'impersonatorEmail',
  'detail',
  'before',
  'after',
] as const;

const ZPersonOrAccount = z.union([
  z.object({ kind: z.literal('user'), id: z.string(), name: z.string(), email: z.string() }),
  /** A person is named only to viewers who may read that user; others see the account. */
  z.object({ kind: z.literal('account'), name: z.string() }),
]);

export const ZAuditEntryDto = z.object({
  seq: z.number().int(),
  at: z.string(),
  resource: z.string(),
  entityId: z.string(),
  op: z.enum(['created', 'updated', 'deleted']),
  version: z.number().int().nullable(),
  actor: ZPersonOrAccount,
  impersonator: ZPersonOrAccount.nullable(),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  summary: z.record(z.string(), z.unknown()).nullable(),
  /**
   * `withheld`: the viewer may not read this resource there (DESIGN §1: `<resource>:read`
   * and the same projection as the live events), so before, after and summary are null.
   */
  detail: z.enum(['shown', 'withheld']),
});
export type TAuditEntryDto = z.infer<typeof ZAuditEntryDto>;
