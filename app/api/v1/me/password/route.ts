import { apiRoute, noContent, readBody } from '@/lib/server/api/handler';
import { getRuntime } from '@/lib/server/runtime';
import { changeOwnPassword } from '@/lib/server/services/users/change-own-password';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(
  async ({ req, actor, em, credential }) => {
    const body = await readBody(req, API_REGISTRY['/me/password'].POST.body);
    const policy = getRuntime().config.loginThrottle;
    await changeOwnPassword(em, actor, body, policy, credential);
    return noContent();
  },
  { pass: ['password_change_required', 'mfa_enrolment_required'] },
);
