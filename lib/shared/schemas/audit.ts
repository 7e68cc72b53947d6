import { z } from 'zod';
import { ZId, ZPageQuery } from './common';

/** Every resource the change log records. */
export const LOGGED_RESOURCES = [
  'carriers',
  'resellers',
  'customers',
  'users',
  'groups',
  'tokens',
  'impersonation',
] as const;
export type TLoggedResource = (typeof LOGGED_RESOURCES)[number];

export const ZAuditQuery = ZPageQuery.extend({
  resource: z.enum(LOGGED_RESOURCES).optional(),
  entityId: ZId.optional(),
  op: z.enum(['created', 'updated', 'deleted']).optional(),
});
export type TAuditQuery = z.infer<typeof ZAuditQuery>;

export interface TAuditEntryDto {
  seq: number;
  at: string;
  resource: string;
  entityId: string;
  op: 'created' | 'updated' | 'deleted';
  version: number | null;
  /** A person is named only to viewers who may read that user; others see the account. */
  actor:
    { kind: 'user'; id: string; name: string; email: string } | { kind: 'account'; name: string };
  impersonator:
    | { kind: 'user'; id: string; name: string; email: string }
    | { kind: 'account'; name: string }
    | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
}
