import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Account, Notification, OutboxMail, User } from '@/lib/server/entities';
import type { TChange } from '@/lib/server/live/change-log';
import { readersOf } from '@/lib/server/authz/recipients';
import { actorsOfAccounts, type TActor } from '@/lib/server/authz/actor';
import type { TGrant } from '@/lib/shared/permissions';
import { cutText } from '@/lib/shared/schemas/common';
import { toNotificationDto } from './notification-dto';

export interface TNotice {
  /** The accounts whose people are told. */
  accountIds: readonly string[];
  /**
   * The grants with which those accounts' people read the notice's subject, all of them
   * (a card assigned to them: `cards:read`; a credit notice naming a customer:
   * `ledger:read` and `customers:read`). Only users holding them are told: a notice
   * never shows someone what their grants hide.
   */
  readGrants: readonly TGrant[];
  /**
   * The account the notice tells of, when it is about one: told, shown and mailed only
   * while it is in the reader's part of the tree.
   */
  subject?: { id: string; path: string };
  /** What happened, namespaced by subject: `card.assigned`, `card.revision_scheduled`. */
  kind: string;
  title: string;
  body: string;
  /** A panel path (`/cards/…`) the notice opens. */
  link?: string;
  data?: Record<string, unknown>;
}

/** Titles and bodies are stored as given, cut to what their columns hold. */
const TITLE_MAX = 200;
const BODY_MAX = 4000;

/**
 * Tells the people of some accounts that something happened (the notification centre),
 * inside a `mutate` transaction (lib/server/live/change-log.ts) — so a notice exists
 * exactly when the change it tells of commits. For each user of those accounts who may
 * read the subject (lib/server/authz/recipients.ts: none when in doubt) it writes one
 * notice, records it for live delivery to that user alone (the audience function's
 * inbox room), and queues one e-mail in the outbox, all in the caller's transaction.
 * Answers how many people were told.
 */
export async function notifyAccounts(
  tx: EntityManager,
  record: (change: TChange) => void,
  notice: TNotice,
): Promise<number> {
  if (!notice.accountIds.length) return 0;
  const readers = await readersOf(
    tx,
    notice.accountIds,
    notice.readGrants,
    notice.subject?.path ?? null,
  );
  // Each held (key share, as the notice's foreign key would) or passed over: a user being
  // deleted right now holds its row, and waiting for it would end in a foreign-key
  // failure of the whole write once the deletion commits.
  const present = readers.length
    ? new Set(
        (
          await tx.execute<{ id: string }[]>(
            'select id from app_user where id = any(?::uuid[]) for key share skip locked',
            [`{${readers.map((reader) => reader.userId).join(',')}}`],
          )
        ).map((row) => row.id),
      )
    : new Set<string>();
  const recipients = readers.filter((reader) => present.has(reader.userId));
  writeNotices(tx, record, recipients, notice);
  await tx.flush();
  return recipients.length;
}

/**
 * One person told of something about themselves — their own account's security — with
 * no grant to read it by (`readGrants` empty: a notice that is theirs whatever their group
 * holds), inside a `mutate` as `notifyAccounts`. Only while they may act at all (the
 * sign-in rule): a disabled or suspended person is told nothing. Answers whether told.
 */
export async function notifyPerson(
  tx: EntityManager,
  record: (change: TChange) => void,
  person: { userId: string; accountId: string },
  notice: Omit<TNotice, 'accountIds' | 'readGrants' | 'subject'>,
): Promise<boolean> {
  const actor = (await actorsOfAccounts(tx, [person.accountId])).find(
    (one) => one.userId === person.userId,
  );
  if (!actor) return false;
  // Held as `notifyAccounts` holds its readers: one being deleted now is passed over.
  const present = await tx.execute(
    'select id from app_user where id = ? for key share skip locked',
    [actor.userId],
  );
  if (!present.length) return false;
  writeNotices(tx, record, [actor], { ...notice, readGrants: [] });
  await tx.flush();
  return true;
}

/** Each recipient's notice, its e-mail in the outbox, and its change for live delivery. */
function writeNotices(
  tx: EntityManager,
  record: (change: TChange) => void,
  recipients: readonly TActor[],
  notice: Omit<TNotice, 'accountIds'>,
): void {
  const title = cutText(notice.title, TITLE_MAX);
  const body = cutText(notice.body, BODY_MAX);
  for (const recipient of recipients) {
    const notification = tx.create(Notification, {
      // Its id now: the change recorded below names it before the flush.
      id: randomUUID(),
      user: tx.getReference(User, recipient.userId),
      account: tx.getReference(Account, recipient.account.id),
      kind: notice.kind,
      title,
      body,
      link: notice.link ?? null,
      data: notice.data ?? null,
      readGrants: [...notice.readGrants],
      subjectAccount: notice.subject ? tx.getReference(Account, notice.subject.id) : null,
      readAt: null,
      createdAt: new Date(),
    });
    tx.create(OutboxMail, {
      id: randomUUID(),
      notification,
      toAddress: recipient.email,
      subject: title,
      bodyText: body,
      link: notice.link ?? null,
      nextAttemptAt: new Date(),
      createdAt: new Date(),
    });
    record({
      resource: 'notifications',
      entityId: notification.id,
      op: 'created',
      version: null,
      before: null,
      after: toNotificationDto(notification),
      // The recipient's own account: the carrier orders it, catch-up's read finds it.
      scopeBefore: null,
      scopeAfter: recipient.account.path,
      audience: { recipient: recipient.userId },
    });
  }
}
