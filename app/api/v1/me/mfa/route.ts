import { apiRoute, json, noContent, readBody } from '@/lib/server/api/handler';
import { disableOwnMfa, getMfaStatus, startMfaEnrolment } from '@/lib/server/services/mfa/own-mfa';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

// Reachable before enrolment: a group that requires MFA leaves its users only these.
const options = { pass: ['mfa_enrolment_required'] } as const;

// One's own MFA, even while viewing as someone (the security page is the person's own).
export const GET = apiRoute(async ({ actor, em }) => json(await getMfaStatus(em, actor)), {
  ...options,
  realActor: true,
});

export const POST = apiRoute(async ({ req, actor, em }) => {
  const body = await readBody(req, API_REGISTRY['/me/mfa'].POST.body);
  return json(await startMfaEnrolment(em, actor, body), 201);
}, options);

export const DELETE = apiRoute(async ({ req, actor, em }) => {
  await disableOwnMfa(em, actor, await readBody(req, API_REGISTRY['/me/mfa'].DELETE.body));
  return noContent();
}, options);
