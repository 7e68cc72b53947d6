import { apiRoute, readQuery } from '@/lib/server/api/handler';
import { exportUsage } from '@/lib/server/services/usage/list-usage';
import { csvHeaders } from '@/lib/server/services/csv';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { downloadOf } from '@/lib/server/api/download';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em, credential }) => {
  const query = readQuery(req, API_REGISTRY['/usage/export'].GET.query);
  const stream = await exportUsage(em, actor, query, downloadOf({ em, actor, credential }));
  return new Response(stream, { headers: csvHeaders('calls.csv') });
});
