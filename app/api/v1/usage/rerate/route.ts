import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { rerateUsage } from '@/lib/server/services/usage/rerate-usage';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(async ({ req, actor, em }) => {
  const body = await readBody(req, API_REGISTRY['/usage/rerate'].POST.body);
  return json(await rerateUsage(em, actor, body));
});
