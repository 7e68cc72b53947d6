import { apiRoute, json, noContent, readBody } from '@/lib/server/api/handler';
import { getRuntime } from '@/lib/server/runtime';
import { startImpersonation } from '@/lib/server/services/impersonation/start-impersonation';
import { stopImpersonation } from '@/lib/server/services/impersonation/stop-impersonation';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { GATE_ORDER } from '@/lib/server/auth/door';

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

/**
 * Stops it. Past the door's gates: ending a view only takes access away, and a person
 * held at one (a group that starts requiring MFA while a view is open) must be able to
 * end the view to do what the gate asks — the security page is read-only during a view.
 */
export const DELETE = apiRoute(
  async ({ actor, em }) => {
    await stopImpersonation(em, actor);
    return noContent();
  },
  { realActor: true, pass: GATE_ORDER },
);
