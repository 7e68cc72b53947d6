import type { EntityManager } from '@mikro-orm/postgresql';
import { Notification } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { readableNotices } from '@/lib/server/authz/recipients';
import { decodeCursor, encodeCursor } from '@/lib/server/services/paging';
import type { TNotificationListQuery, TNotificationPage } from '@/lib/shared/schemas/notifications';
import { toNotificationDto } from './notification-dto';

/**
 * `GET /notifications`: the caller's own notices, newest first, keyset-paged, with how
 * many of them are unread. Nobody reads another person's — while support views as a
 * user, the actor is that user, and the view shows that user's notices (writes are
 * refused in a view-as, so it never marks them read). A notice whose subject the person
 * no longer reads is not among them (`readableNotices`).
 */
export async function listNotifications(
  em: EntityManager,
  actor: TActor,
  query: TNotificationListQuery,
): Promise<TNotificationPage> {
  const cursor = decodeCursor(query.cursor);
  const where = {
    $and: [
      readableNotices(actor),
      query.unread === 'true' ? { readAt: null } : {},
      cursor
        ? {
            $or: [
              { createdAt: { $lt: cursor.createdAt } },
              { createdAt: cursor.createdAt, id: { $lt: cursor.id } },
            ],
          }
        : {},
    ],
  };
  const [rows, unread] = await Promise.all([
    em.find(Notification, where, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: query.limit + 1,
    }),
    unreadCount(em, actor),
  ]);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(toNotificationDto),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    unread,
  };
}

/** The caller's unread notices, among those it may still read (`readableNotices`). */
export function unreadCount(em: EntityManager, actor: TActor): Promise<number> {
  return em.count(Notification, { $and: [readableNotices(actor), { readAt: null }] });
}
