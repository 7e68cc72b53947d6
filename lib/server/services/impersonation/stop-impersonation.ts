import type { EntityManager } from '@mikro-orm/postgresql';
import { Impersonation, User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';

/** Ends the real actor's open view; audited like the start. 404 when none is open. */
export async function stopImpersonation(em: EntityManager, real: TActor): Promise<void> {
  await mutate(em, real, async (tx, record) => {
    const row = await tx.findOne(Impersonation, { impersonatorUserId: real.userId, endedAt: null });
    if (!row) throw notFound('impersonation');
    row.endedAt = new Date();
    const target = await tx.findOne(User, { id: row.targetUserId }, { populate: ['account'] });
    await tx.flush();
    record({
      resource: 'impersonation',
      entityId: row.id,
      op: 'deleted',
      version: null,
      before: { targetUserId: row.targetUserId, targetEmail: target?.email, reason: row.reason },
      after: null,
      scopeBefore: target?.account.path ?? real.account.path,
      scopeAfter: null,
    });
  });
}
