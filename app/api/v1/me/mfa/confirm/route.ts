import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { confirmMfaEnrolment } from '@/lib/server/services/mfa/own-mfa';
import { ZMfaConfirm } from '@/lib/shared/schemas/mfa';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(
  async ({ req, actor, em }) =>
    json(await confirmMfaEnrolment(em, actor, await readBody(req, ZMfaConfirm))),
  { pass: ['mfa_enrolment_required'] },
);
