import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './user.entity';
import { Account } from './account.entity';
import type { TGrant } from '@/lib/shared/permissions';

/**
 * One notice in one person's notification centre (lib/server/services/notifications):
 * written for each user of an addressed account who may read its subject, read by that
 * user alone. `account` is the account it was addressed to (the user's own).
 */
export const Notification = defineEntity({
  name: 'Notification',
  tableName: 'notification',
  // A person's centre pages newest first: (user, created_at desc, id desc).
  indexes: [
    {
      name: 'notification_user_created_index',
      expression:
        'create index "notification_user_created_index" on "notification" ("user_id", "created_at" desc, "id" desc)',
    },
    {
      name: 'notification_user_unread_index',
      expression:
        'create index "notification_user_unread_index" on "notification" ("user_id") where read_at is null',
    },
    // Who was told a revision was coming, found again when it is cancelled.
    {
      name: 'notification_revision_card_index',
      expression:
        'create index "notification_revision_card_index" on "notification" ((data ->> \'cardId\')) where kind = \'card.revision_scheduled\'',
    },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    account: () => p.manyToOne(Account).deleteRule('cascade').index(),
    /** What happened, for clients that treat kinds apart (`card.assigned`, …). */
    kind: p.string().length(60),
    title: p.string().length(200),
    body: p.text(),
    /** A panel path (`/cards/…`) the notice opens. */
    link: p.string().length(500).nullable(),
    data: p.json<Record<string, unknown>>().nullable(),
    /**
     * The grants its subject is read with, all of them (none: a notice about the person
     * themselves): shown and mailed only to someone who still holds them.
     */
    readGrants: p.array<TGrant>(),
    /**
     * The account it tells of, if any: shown and mailed only while that account is in
     * the reader's part of the tree (a customer moved away is no longer its old side's).
     */
    subjectAccount: () => p.manyToOne(Account).nullable().deleteRule('cascade').index(),
    readAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type TNotification = InferEntity<typeof Notification>;

export const OUTBOX_STATUSES = ['pending', 'sent', 'failed'] as const;

/**
 * One e-mail to send, written in the transaction that made its notice (so a notice is
 * never mailed for a change that rolled back, nor lost for one that committed), sent
 * later by the outbox worker (lib/server/services/notifications/outbox-worker.ts).
 * The address is the one at writing; the worker sends to the person's address at sending
 * (one corrected since — a typo — is not written to), this one only if they are gone.
 */
export const OutboxMail = defineEntity({
  name: 'OutboxMail',
  tableName: 'outbox',
  indexes: [
    {
      name: 'outbox_pending_index',
      expression:
        'create index "outbox_pending_index" on "outbox" ("next_attempt_at") where status = \'pending\'',
    },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    notification: () => p.manyToOne(Notification).nullable().deleteRule('set null').index(),
    toAddress: p.string().length(320),
    subject: p.string().length(200),
    bodyText: p.text(),
    link: p.string().length(500).nullable(),
    status: p.enum([...OUTBOX_STATUSES]).default('pending'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime(),
    lastError: p.text().nullable(),
    sentAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type TOutboxMail = InferEntity<typeof OutboxMail>;
