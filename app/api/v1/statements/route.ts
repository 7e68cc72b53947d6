import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { listStatements } from '@/lib/server/services/statements/read-statements';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) => {
  const query = readQuery(req, API_REGISTRY['/statements'].GET.query);
  return json(await listStatements(em, actor, query));
});
