import { apiRoute, noContent } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { revokeToken } from '@/lib/server/services/tokens/revoke-token';

export const dynamic = 'force-dynamic';

export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  await revokeToken(em, actor, idParam(params, 'token'));
  return noContent();
});
