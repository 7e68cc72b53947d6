import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { bulkAssign } from '@/lib/server/services/assignments/bulk-assign';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(
    await bulkAssign(em, actor, await readBody(req, API_REGISTRY['/assignments/bulk'].POST.body)),
  ),
);
