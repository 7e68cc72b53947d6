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
