import type { EntityManager } from '@mikro-orm/postgresql';
import { Impersonation, User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { notFound } from '@/lib/server/errors/domain-error';
import { mutate, type TChange } from '@/lib/server/live/change-log';
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
    const ended = await endViews(tx, real, await databaseClock(tx), record);
    if (!ended) throw notFound('impersonation');
  });
}

/**
 * Ends every view `real` has open at `now` (the database's clock; the caller holds the
 * person's row), as a stop and a new start both do: one still running ends now, with a
 * stop recorded where its target's account reads the audit (DESIGN: start and stop are
 * visible to the impersonated account); one already expired is closed at its expiry,
 * unrecorded — its start said when it ends, and it was not stopped. Answers how many.
 */
export async function endViews(
  tx: EntityManager,
  real: Pick<TActor, 'userId'> & { account: { path: string } },
  now: Date,
  record: (change: TChange) => void,
): Promise<number> {
  const rows = await tx.find(Impersonation, { impersonatorUserId: real.userId, endedAt: null });
  for (const row of rows) {
    if (row.expiresAt <= now) {
      row.endedAt = row.expiresAt > row.startedAt ? row.expiresAt : row.startedAt;
      continue;
    }
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
  return rows.length;
}

/**
 * People who no longer hold `impersonation:start` (a group changed or edited) or were
 * disabled: their open views end now, a stop recorded for each as for a stop of their
 * own. The door had only paused such a view: it came back, unannounced, with the grant
 * or the person back.
 */
export async function endViewsOf(
  tx: EntityManager,
  people: readonly { userId: string; account: { path: string } }[],
  record: (change: TChange) => void,
): Promise<void> {
  if (!people.length) return;
  const now = await databaseClock(tx);
  for (const person of people) await endViews(tx, person, now, record);
}

/**
 * A person deleted while someone views as them: the views on them end now, a stop
 * recorded where their account reads the audit (read before they go: their row is
 * removed in the same transaction), as a stop by the person viewing would be.
 */
export async function endViewsOn(
  tx: EntityManager,
  target: { userId: string; email: string; account: { path: string } },
  record: (change: TChange) => void,
): Promise<void> {
  const rows = await tx.find(Impersonation, { targetUserId: target.userId, endedAt: null });
  if (!rows.length) return;
  const now = await databaseClock(tx);
  const { email } = target;
  for (const row of rows) {
    const running = row.expiresAt > now;
    row.endedAt = running ? (now > row.startedAt ? now : row.startedAt) : row.expiresAt;
    if (!running) continue;
    record({
      resource: 'impersonation',
      entityId: row.id,
      op: 'deleted',
      version: null,
      before: { targetUserId: row.targetUserId, targetEmail: email, reason: row.reason },
      after: null,
      scopeBefore: target.account.path,
      scopeAfter: null,
    });
  }
  await tx.flush();
}
