import { apiRoute, json } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { explainAccess } from '@/lib/server/services/users/explain-access';

export const dynamic = 'force-dynamic';

/** The user's effective permissions and the accounts and cards it can see. */
export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) =>
  json(await explainAccess(em, actor, idParam(params, 'user'))),
);
