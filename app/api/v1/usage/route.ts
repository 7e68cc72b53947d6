import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { listUsage } from '@/lib/server/services/usage/list-usage';
import { postUsage } from '@/lib/server/services/usage/post-usage';
import { readUsageRecords } from '@/lib/server/api/usage-body';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) => {
  const query = readQuery(req, API_REGISTRY['/usage'].GET.query);
  return json(await listUsage(em, actor, query));
});

/** JSON `{records}` or text/csv (usage-input.ts); the batch's outcome, record by record. */
export const POST = apiRoute(async ({ req, actor, em }) => {
  const records = await readUsageRecords(req);
  return json(await postUsage(em, actor, records));
});
