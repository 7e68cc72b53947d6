import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { usageSummary } from '@/lib/server/services/usage/usage-summary';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) => {
  const query = readQuery(req, API_REGISTRY['/usage/summary'].GET.query);
  return json(await usageSummary(em, actor, query));
});
