import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { listNotifications } from '@/lib/server/services/notifications/list-notifications';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(
    await listNotifications(em, actor, readQuery(req, API_REGISTRY['/notifications'].GET.query)),
  ),
);
