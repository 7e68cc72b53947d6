import type { TActor } from '@/lib/server/authz/actor';
import { assertStillAdmitted, type TCredentialRef } from '@/lib/server/auth/door';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TDownload } from '@/lib/server/services/csv';

/**
 * A CSV download of a route: before each batch the request's credential goes through the
 * door again (`assertStillAdmitted`), so whoever loses the access it was started with
 * mid-download gets no further rows.
 */
export function downloadOf(ctx: {
  em: EntityManager;
  credential: TCredentialRef;
  actor: TActor;
}): TDownload {
  return { stillAllowed: () => assertStillAdmitted(ctx.em.fork(), ctx.credential, ctx.actor) };
}
