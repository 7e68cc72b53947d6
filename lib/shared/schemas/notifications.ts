import { z } from 'zod';
import { ZId, ZPageOf, ZPageQuery } from './common';

/** One notice in the caller's notification centre. */
export const ZNotificationDto = z.object({
  id: z.string(),
  /** What happened (`card.assigned`, …): clients may treat kinds apart. */
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  /** A panel path the notice opens, or null. */
  link: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type TNotificationDto = z.infer<typeof ZNotificationDto>;

export const ZNotificationListQuery = ZPageQuery.extend({
  /** `true`: unread notices only. */
  unread: z.enum(['true', 'false'], "must be 'true' or 'false'").optional(),
});
export type TNotificationListQuery = z.infer<typeof ZNotificationListQuery>;

/** A page of notices, newest first, with how many of all the caller's are unread. */
export const ZNotificationPage = ZPageOf(ZNotificationDto).extend({
  unread: z.number().int().nonnegative(),
});
export type TNotificationPage = z.infer<typeof ZNotificationPage>;

/** Mark some of one's notices read (`ids`: every one must be the caller's), or `all`. */
export const ZNotificationsRead = z
  .strictObject({
    ids: z
      .array(ZId, 'must be a list of notification ids')
      .min(1, 'must name at least one notification')
      .max(500, 'must name at most 500 notifications')
      .optional(),
    all: z.literal(true, 'must be true').optional(),
  })
  .superRefine((value, ctx) => {
    if (value.ids && value.all) {
      ctx.addIssue({ code: 'custom', path: ['all'], message: 'must not be sent with ids' });
    } else if (!value.ids && !value.all) {
      ctx.addIssue({ code: 'custom', path: ['ids'], message: 'is required unless all is true' });
    }
  });
export type TNotificationsRead = z.infer<typeof ZNotificationsRead>;

export const ZNotificationsReadResult = z.object({
  /** Notices that were unread and are now read. */
  marked: z.number().int().nonnegative(),
  unread: z.number().int().nonnegative(),
});
export type TNotificationsReadResult = z.infer<typeof ZNotificationsReadResult>;
