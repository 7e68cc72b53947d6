import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiToken } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { toTokenDto } from './token-dto';

/** Revokes one of the caller's own tokens; anyone else's is 404. */
export async function revokeToken(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  await mutate(em, actor, async (tx, record) => {
    const row = await tx.findOne(ApiToken, { id: unverifiedId, user: actor.userId });
    if (!row) throw notFound('token');
    const before = toTokenDto(row);
    tx.remove(row);
    record({
      resource: 'tokens',
      entityId: row.id,
      op: 'deleted',
      version: null,
      before: { ...before },
      after: null,
      scopeBefore: actor.account.path,
      scopeAfter: null,
    });
  });
}
