import { apiRoute, json } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { userManageability } from '@/lib/server/services/users/user-manageability';

export const dynamic = 'force-dynamic';

/** Whether the caller may reset, disable, enable, delete or regroup this user, and if not why. */
export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) =>
  json(await userManageability(em, actor, idParam(params, 'user'))),
);
