import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { revisionParams } from '@/lib/server/api/params';
import { revisionDiff } from '@/lib/server/services/rates/revision-queries';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string; n: string }>(async ({ req, params, actor, em }) => {
  const { id, n } = revisionParams(params);
  const query = readQuery(req, API_REGISTRY['/cards/{id}/revisions/{n}/diff'].GET.query);
  return json(await revisionDiff(em, actor, id, n, query));
});
