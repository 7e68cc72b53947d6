import type { TActor } from '@/lib/server/authz/actor';
import type { TMeDto } from '@/lib/shared/schemas/me';
import { toImpersonationInfo } from '@/lib/server/services/impersonation/impersonation-info';

/** Who the caller is, as the server sees it now (DESIGN §3 `GET /me`). */
export function toMeDto(actor: TActor): TMeDto {
  return {
    user: {
      id: actor.userId,
      email: actor.email,
      name: actor.name,
      mustChangePassword: actor.mustChangePassword,
    },
    account: {
      id: actor.account.id,
      name: actor.account.name,
      kind: actor.account.kind,
      // An actor is made only for an account active with all above it (evaluateActor).
      status: 'active',
    },
    group: actor.group,
    grants: actor.grants,
    mfa: actor.mfa,
    impersonation: toImpersonationInfo(actor),
  };
}
