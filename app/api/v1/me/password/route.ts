import { apiRoute, noContent, readBody } from '@/lib/server/api/handler';
import { getRuntime } from '@/lib/server/runtime';
import { changeOwnPassword } from '@/lib/server/services/users/change-own-password';
import { ZPasswordChange } from '@/lib/shared/schemas/users';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(
  async ({ req, actor, em }) => {
    const body = await readBody(req, ZPasswordChange);
    await changeOwnPassword(em, actor, body, getRuntime().config.loginThrottle);
    return noContent();
  },
  { beforePasswordChange: true },
);
