import { apiRoute, noContent, readNoBody } from '@/lib/server/api/handler';
import { revisionParams } from '@/lib/server/api/params';
import { cancelRevision } from '@/lib/server/services/rates/revision-actions';

export const dynamic = 'force-dynamic';

export const DELETE = apiRoute<{ id: string; n: string }>(async ({ req, params, actor, em }) => {
  const { id, n } = revisionParams(params);
  await readNoBody(req);
  await cancelRevision(em, actor, id, n);
  return noContent();
});
