import { apiRoute, json, noContent, readBody } from '@/lib/server/api/handler';
import { getRuntime } from '@/lib/server/runtime';
import { startImpersonation } from '@/lib/server/services/impersonation/start-impersonation';
import { stopImpersonation } from '@/lib/server/services/impersonation/stop-impersonation';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

/**
 * Starts "view as" for the credential that asks: the caller's own grant decides, never
 * the view it may be in.
 */
export const POST = apiRoute(
  async ({ req, actor, em, credential }) => {
    const body = await readBody(req, API_REGISTRY['/impersonation'].POST.body);
    const minutes = getRuntime().config.impersonationMinutes;
    return json(await startImpersonation(em, actor, body, { minutes, credential }), 201);
  },
  { realActor: true },
);

export const DELETE = apiRoute(
  async ({ actor, em }) => {
    await stopImpersonation(em, actor);
    return noContent();
  },
  { realActor: true },
);
