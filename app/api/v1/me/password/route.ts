import { apiRoute, noContent, readBody } from '@/lib/server/api/handler';
import { changeOwnPassword } from '@/lib/server/services/users/change-own-password';
import { ZPasswordChange } from '@/lib/shared/schemas/users';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(
  async ({ req, actor, em, credential }) => {
    await changeOwnPassword(em, actor, await readBody(req, ZPasswordChange), credential);
    return noContent();
  },
  { pass: ['password_change_required', 'mfa_enrolment_required'] },
);
