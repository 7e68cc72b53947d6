import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { revisionParams } from '@/lib/server/api/params';
import { rollbackRevision } from '@/lib/server/services/rates/revision-actions';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute<{ id: string; n: string }>(async ({ req, params, actor, em }) => {
  const { id, n } = revisionParams(params);
  const body = await readBody(req, API_REGISTRY['/cards/{id}/revisions/{n}/rollback'].POST.body);
  return json(await rollbackRevision(em, actor, id, n, body.liveAt ? new Date(body.liveAt) : null));
});
