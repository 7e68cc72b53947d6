import type { EntityManager } from '@mikro-orm/postgresql';
import { Notification, type TNotification } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { readableNotices } from '@/lib/server/authz/recipients';
import { notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import type {
  TNotificationsRead,
  TNotificationsReadResult,
} from '@/lib/shared/schemas/notifications';
import { unreadCount } from './list-notifications';

/**
 * `POST /notifications/read`: marks some of the caller's notices read (`ids`), or all of
 * them. An id that is not one of the caller's — another person's, or none at all — is
 * 404 and nothing is marked: a person can neither touch nor probe anyone else's notices
 * (nor its own that it may no longer read: `readableNotices`).
 * The caller's other tabs hear of it live (their unread count follows).
 */
export async function markNotificationsRead(
  em: EntityManager,
  actor: TActor,
  input: TNotificationsRead,
): Promise<TNotificationsReadResult> {
  return mutate(em, actor, async (tx, record) => {
    let unreadRows: TNotification[];
    if (input.ids) {
      const ids = [...new Set(input.ids)];
      const own = await tx.find(Notification, {
        $and: [readableNotices(actor), { id: { $in: ids } }],
      });
      if (own.length !== ids.length) throw notFound('notification');
      unreadRows = own.filter((row) => !row.readAt);
    } else {
      unreadRows = await tx.find(Notification, {
        $and: [readableNotices(actor), { readAt: null }],
      });
    }
    const now = new Date();
    for (const row of unreadRows) row.readAt = now;
    await tx.flush();
    if (unreadRows.length) {
      record({
        resource: 'notifications',
        // The person's inbox as a whole: which notices changed is in `after`.
        entityId: actor.userId,
        op: 'updated',
        version: null,
        before: null,
        after: { ids: unreadRows.map((row) => row.id), readAt: now.toISOString() },
        scopeBefore: null,
        scopeAfter: actor.account.path,
        summary: { read: unreadRows.length },
        audience: { recipient: actor.userId },
      });
    }
    return { marked: unreadRows.length, unread: await unreadCount(tx, actor) };
  });
}
