import type { TGrant } from '@/lib/shared/permissions';
import type { TSubAccountKind } from './account-scope';

/** Resellers and customers share one table and one set of use cases; these differ. */
export const SUB_ACCOUNT = {
  reseller: { resource: 'resellers', label: 'reseller' },
  customer: { resource: 'customers', label: 'customer' },
} as const satisfies Record<TSubAccountKind, { resource: string; label: string }>;

export function grantFor(
  kind: TSubAccountKind,
  action: 'read' | 'create' | 'update' | 'delete',
): TGrant {
  return `${SUB_ACCOUNT[kind].resource}:${action}`;
}
