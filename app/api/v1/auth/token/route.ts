import { errorResponse, json, readBody } from '@/lib/server/api/handler';
import { ApiError } from '@/lib/server/api/errors';
import { CLIENT_IP_HEADER } from '@/lib/server/auth/login';
import { findRuntime } from '@/lib/server/runtime';
import { issueToken } from '@/lib/server/services/tokens/issue-token';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

/** The one public API route: trades an email and password for a bearer token. */
export async function POST(req: Request): Promise<Response> {
  try {
    const runtime = findRuntime();
    if (!runtime) throw new ApiError(503, 'unavailable', 'The panel is starting; try again.');
    const body = await readBody(req, API_REGISTRY['/auth/token'].POST.body);
    const ip = req.headers.get(CLIENT_IP_HEADER) ?? 'unknown';
    const issued = await issueToken(
      runtime.orm.em.fork(),
      { ...body, ip },
      runtime.config.loginThrottle,
    );
    return json(issued, 201);
  } catch (error) {
    return errorResponse(error, req);
  }
}
