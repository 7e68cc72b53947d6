import { LOGO_TYPES } from '@/lib/shared/schemas/brands';
import { LOGO_PATH } from './body-limit';
import { ApiError } from './errors';
import { ownOrigin } from '@/lib/server/http/request-host';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The one endpoint whose body is not JSON (a CSV upload); see body-limit.ts. */
const CSV_PATH = /\/rates\/import\/?$/;
/** Call records come as JSON or as CSV (`POST /usage`): no HTML form sends either. */
const JSON_OR_CSV_PATH = /^\/api\/v1\/usage\/?$/;

/**
 * CSRF defence for a write carried by the session cookie (issue 13). `SameSite=Lax`
 * alone lets a sibling subdomain — a white-label reseller's site — post with the cookie,
 * and a cross-site form or `text/plain` fetch needs no preflight. So such a write must
 * come from a page of the panel itself: its `Origin` (or, where a browser sent none, its
 * `Referer`) must be the origin of the host it was sent to (`ownOrigin`). Its body must
 * also be of the endpoint's type: JSON everywhere but the CSV import and a brand's logo
 * (an image), which no HTML form can send. A request with an
 * Authorization header never reaches here; a browser cannot attach one cross-origin.
 */
export function assertSameOriginWrite(req: Request, publicUrl: string): void {
  if (SAFE_METHODS.has(req.method)) return;
  const expected = ownOrigin(req.headers.get('host'), publicUrl);
  const origin = requestOrigin(req);
  if (origin !== expected) {
    throw new ApiError(
      403,
      'cross_origin',
      origin
        ? `This change came from ${origin}, not from the panel (${expected}).`
        : `This change names no Origin or Referer; the panel accepts changes from ${expected} only.`,
      { fields: { origin: `must be ${expected}` } },
    );
  }
  const pathname = new URL(req.url).pathname;
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (JSON_OR_CSV_PATH.test(pathname) && (type === 'application/json' || type === 'text/csv')) {
    return;
  }
  // A logo is the image itself; none of its types is one an HTML form can send.
  if (LOGO_PATH.test(pathname)) {
    if (!hasBody(req) || (LOGO_TYPES as readonly string[]).includes(type)) return;
    throw new ApiError(
      415,
      'unsupported_media_type',
      `Send the logo as ${LOGO_TYPES.join(', ')}.`,
      {
        fields: { 'content-type': `must be one of ${LOGO_TYPES.join(', ')}` },
      },
    );
  }
  const wanted = CSV_PATH.test(pathname) ? 'text/csv' : 'application/json';
  if ((type || hasBody(req)) && type !== wanted) {
    throw new ApiError(415, 'unsupported_media_type', `Send the body as ${wanted}.`, {
      fields: { 'content-type': `must be ${wanted}` },
    });
  }
}

/** The origin the browser declared: `Origin`, else the origin of `Referer`; null if neither. */
function requestOrigin(req: Request): string | null {
  // A sandboxed or privacy-redirected page sends the literal `null`: never the panel.
  const origin = req.headers.get('origin');
  if (origin !== null) return origin;
  const referer = req.headers.get('referer');
  if (!referer || !URL.canParse(referer)) return null;
  return new URL(referer).origin;
}

function hasBody(req: Request): boolean {
  const length = req.headers.get('content-length');
  return (length !== null && length !== '0') || req.headers.has('transfer-encoding');
}
