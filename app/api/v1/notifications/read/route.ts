import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { markNotificationsRead } from '@/lib/server/services/notifications/mark-read';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(
    await markNotificationsRead(
      em,
      actor,
      await readBody(req, API_REGISTRY['/notifications/read'].POST.body),
    ),
  ),
);
