import type { EntityManager } from '@mikro-orm/postgresql';
import { Impersonation, User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { databaseClock } from '@/lib/server/db/clock';

/**
 * Ends the real actor's open view (every one, should an older start have left two);
 * audited like the start. 404 when none is open.
 */
export async function stopImpersonation(em: EntityManager, real: TActor): Promise<void> {
  await mutate(em, real, async (tx, record) => {
    // Held as a start holds it (start-impersonation.ts): a start and a stop at once end
    // in the order they took it.
    await tx.execute('select 1 from app_user where id = ? for no key update', [real.userId]);
    const rows = await tx.find(Impersonation, { impersonatorUserId: real.userId, endedAt: null });
    if (!rows.length) throw notFound('impersonation');
    const now = await databaseClock(tx);
    for (const row of rows) {
      row.endedAt = now > row.startedAt ? now : row.startedAt;
      const target = await tx.findOne(User, { id: row.targetUserId }, { populate: ['account'] });
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
    }
    await tx.flush();
  });
}
