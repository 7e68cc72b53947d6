import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { dashboardExposure } from '@/lib/server/services/dashboard/dashboard-exposure';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) => {
  const query = readQuery(req, API_REGISTRY['/dashboard/exposure'].GET.query);
  return json(await dashboardExposure(em, actor, query));
});
