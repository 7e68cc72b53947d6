import type { EntityManager } from '@mikro-orm/postgresql';
import { Impersonation, User } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import type { TCredentialRef } from '@/lib/server/auth/door';
import { assertCan } from '@/lib/server/authz/can';
import { impersonationTargetScope } from '@/lib/server/authz/impersonation';
import { conflict, notFound } from '@/lib/server/errors/domain-error';
import { projectActor } from '@/lib/server/authz/actor-name';
import { mutate } from '@/lib/server/live/change-log';
import { databaseClock } from '@/lib/server/db/clock';
import { endViews } from './stop-impersonation';
import { notifyPerson } from '@/lib/server/services/notifications/notify-accounts';
import type {
  TImpersonationStart,
  TImpersonationStarted,
} from '@/lib/shared/schemas/impersonation';

/**
 * Starts viewing the panel as a user of a strictly lower account (a descendant, never
 * one's own account or a peer: 404 for anyone else). The view is the credential's that
 * asked (this browser session, or this API token): the person's other sessions and tokens
 * go on acting as the person. One view at a time: starting a new one ends the open one,
 * whichever credential holds it. Audited where the target's account can read it.
 */
export async function startImpersonation(
  em: EntityManager,
  actor: TActor,
  input: TImpersonationStart,
  options: { minutes: number; credential: TCredentialRef },
): Promise<TImpersonationStarted> {
  const { credential } = options;
  assertCan(actor, 'impersonation:start');
  return mutate(em, actor, async (tx, record) => {
    // The scope is in the query: a user elsewhere is never loaded.
    const target = await tx.findOne(
      User,
      { $and: [impersonationTargetScope(actor), { id: input.userId }] },
      { populate: ['account'] },
    );
    if (!target) throw notFound('user');
    // One view at a time, by the person's row: two starts at once (a double click, two
    // tabs) would each end only what was committed before them, and both stay open.
    await tx.execute('select 1 from app_user where id = ? for no key update', [actor.userId]);
    // By the database's clock, as the view it replaces was dated, and never before that
    // view began (a start queued behind it began its transaction earlier).
    const now = await databaseClock(tx);
    // The open one ends as a stop ends it: its target's account sees it stop.
    await endViews(tx, actor, now, record);
    const row = tx.create(Impersonation, {
      id: crypto.randomUUID(),
      impersonatorUserId: actor.userId,
      targetUserId: target.id,
      sessionId: credential.kind === 'session' ? credential.sessionId : null,
      tokenId: credential.kind === 'token' ? credential.tokenId : null,
      reason: input.reason,
      startedAt: now,
      expiresAt: new Date(now.getTime() + options.minutes * 60_000),
    });
    await tx.flush();
    const after = {
      targetUserId: target.id,
      targetEmail: target.email,
      reason: row.reason,
      expiresAt: row.expiresAt.toISOString(),
    };
    record({
      resource: 'impersonation',
      entityId: row.id,
      op: 'created',
      version: null,
      before: null,
      after,
      scopeBefore: null,
      scopeAfter: target.account.path,
    });
    // The person viewed is told, whatever its grants (DESIGN: start and stop are visible
    // to the impersonated account; a customer's people often cannot read the audit). By
    // the account that looked as the audit names it to them — never the agent, and never
    // the carrier behind their reseller ("Upstream provider").
    const looking = projectActor(
      {
        userId: null,
        name: null,
        email: null,
        userPath: null,
        accountName: actor.account.name,
        accountPath: actor.account.path,
      },
      false,
      target.account.path,
    ).name;
    const until = `${after.expiresAt.slice(0, 16).replace('T', ' ')} UTC`;
    const told = await notifyPerson(
      tx,
      record,
      { userId: target.id, accountId: target.account.id },
      {
        kind: 'user.viewed_as',
        title: `${looking} is viewing the panel as you`,
        body:
          `${looking} started viewing the panel as you, read-only, until ${until}. ` +
          `The reason given: ${row.reason}`,
        data: { userId: target.id },
      },
    );
    // Told only while they may use the panel: a view as someone disabled, suspended or
    // left with no group would show nothing now and, once they are back, go live without
    // their ever being told. Refused, nothing written.
    if (!told) {
      throw conflict(
        'target_unavailable',
        'This user cannot use the panel now (disabled, its account suspended, or its group gives nothing): there is nothing to view.',
        { fields: { userId: 'cannot use the panel now' } },
      );
    }
    return { id: row.id, targetUserId: target.id, expiresAt: after.expiresAt };
  });
}
