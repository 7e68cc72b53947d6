import { apiRoute, noContent, readBody } from '@/lib/server/api/handler';
import { changeOwnPassword } from '@/lib/server/services/users/change-own-password';
import { ZPasswordChange } from '@/lib/shared/schemas/users';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(
  async ({ req, actor, em }) => {
    await changeOwnPassword(em, actor, await readBody(req, ZPasswordChange));
    return noContent();
  },
  { beforePasswordChange: true, beforeMfaEnrolment: true },
);
