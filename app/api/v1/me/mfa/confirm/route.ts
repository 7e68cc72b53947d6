import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { confirmMfaEnrolment } from '@/lib/server/services/mfa/own-mfa';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(
  async ({ req, actor, em, credential }) =>
    json(
      await confirmMfaEnrolment(
        em,
        actor,
        await readBody(req, API_REGISTRY['/me/mfa/confirm'].POST.body),
        credential,
      ),
    ),
  { pass: ['mfa_enrolment_required'] },
);
