import type { TMeDto } from '@/lib/shared/schemas/me';

/**
 * The identity a page shows (lib/client/identity-scope.tsx keys the query cache by it):
 * the signed-in user, or `viewer>target` while a support user views the panel as
 * another. Shared, not client-only: the server-rendered layout computes it.
 */
export function identityOf(actor: {
  userId: string;
  impersonation?: { impersonator: { id: string } };
}): string {
  return actor.impersonation
    ? `${actor.impersonation.impersonator.id}>${actor.userId}`
    : actor.userId;
}

/**
 * What decides what a page may show and a socket may see: who (or whom it views as),
 * where, with which grants. The layout renders it into the live provider and the live
 * feed reads it from `hello` and `session.rescoped`, so the client can tell when the
 * server-rendered page has caught up with an access change (lib/client/live-cache.ts).
 */
export function accessOf(me: Pick<TMeDto, 'user' | 'account' | 'grants'>): string {
  return JSON.stringify([me.user.id, me.account.id, [...me.grants].sort()]);
}
