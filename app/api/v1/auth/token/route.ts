import { errorResponse, json, readBody } from '@/lib/server/api/handler';
import { ApiError } from '@/lib/server/api/errors';
import { CLIENT_IP_HEADER } from '@/lib/server/auth/login';
import { findRuntime } from '@/lib/server/runtime';
import { issueToken } from '@/lib/server/services/tokens/issue-token';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { requestHostname } from '@/lib/server/http/request-host';
import { brandForHost } from '@/lib/server/services/brands/brands';

export const dynamic = 'force-dynamic';

/** The one public API route: trades an email and password for a bearer token. */
export async function POST(req: Request): Promise<Response> {
  try {
    const runtime = findRuntime();
    if (!runtime) throw new ApiError(503, 'unavailable', 'The panel is starting; try again.');
    const body = await readBody(req, API_REGISTRY['/auth/token'].POST.body);
    const ip = req.headers.get(CLIENT_IP_HEADER) ?? 'unknown';
    // On a brand's portal, as on its sign-in page, only the brand's subtree (issue 19).
    const hostname = requestHostname(req.headers.get('host'));
    const portal = hostname ? await brandForHost(runtime.orm.em.fork(), hostname) : null;
    const issued = await issueToken(
      runtime.orm.em.fork(),
      { ...body, ip, portalPath: portal?.accountPath ?? null },
      runtime.config.loginThrottle,
    );
    return json(issued, 201);
  } catch (error) {
    return errorResponse(error, req);
  }
}
