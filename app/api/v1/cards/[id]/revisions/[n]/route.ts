import { apiRoute, noContent } from '@/lib/server/api/handler';
import { revisionParams } from '@/lib/server/api/params';
import { cancelRevision } from '@/lib/server/services/rates/revision-actions';

export const dynamic = 'force-dynamic';

// A body sent with it is refused by apiRoute: the operation declares none.
export const DELETE = apiRoute<{ id: string; n: string }>(async ({ params, actor, em }) => {
  const { id, n } = revisionParams(params);
  await cancelRevision(em, actor, id, n);
  return noContent();
});
