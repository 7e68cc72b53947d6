import type { TActor } from '@/lib/server/authz/actor';
import type { TImpersonationInfo } from '@/lib/shared/schemas/impersonation';

export function toImpersonationInfo(actor: TActor): TImpersonationInfo | null {
  const view = actor.impersonation;
  if (!view) return null;
  return {
    id: view.id,
    impersonator: {
      id: view.impersonator.id,
      name: view.impersonator.name,
      email: view.impersonator.email,
    },
    reason: view.reason,
    expiresAt: view.expiresAt.toISOString(),
  };
}
