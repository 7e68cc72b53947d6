import type { TNotification } from '@/lib/server/entities';
import type { TNotificationDto } from '@/lib/shared/schemas/notifications';

export function toNotificationDto(row: TNotification): TNotificationDto {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    link: row.link ?? null,
    data: row.data ?? null,
    createdAt: row.createdAt.toISOString(),
    readAt: row.readAt ? row.readAt.toISOString() : null,
  };
}
