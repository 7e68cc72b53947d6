import { apiRoute, json } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { resetUserMfa } from '@/lib/server/services/mfa/reset-user-mfa';

export const dynamic = 'force-dynamic';

/** An admin's MFA reset: the manage rule, and every session of the user ends. */
export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) =>
  json(await resetUserMfa(em, actor, idParam(params, 'user'))),
);
