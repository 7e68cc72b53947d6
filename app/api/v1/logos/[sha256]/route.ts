import { errorResponse } from '@/lib/server/api/handler';
import { ApiError } from '@/lib/server/api/errors';
import { notFound } from '@/lib/server/errors/domain-error';
import { findRuntime } from '@/lib/server/runtime';
import { readLogo } from '@/lib/server/services/brands/brand-logo';

export const dynamic = 'force-dynamic';

/**
 * Headers that keep a logo an image wherever it is opened: never sniffed as something
 * else, and — opened on its own, as an SVG document — no script, no fetch, no form, in
 * a sandbox (the sanitiser already removed all of that; this is the second wall). The
 * address is the content's hash, so it never changes meaning: cached for a year.
 */
const LOGO_HEADERS = {
  'cache-control': 'public, max-age=31536000, immutable',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  'content-disposition': 'inline',
} as const;

/** Public: a portal's sign-in page shows its brand's logo before anyone signs in. */
export async function GET(
  req: Request,
  context: { params: Promise<{ sha256: string }> },
): Promise<Response> {
  try {
    const runtime = findRuntime();
    if (!runtime) throw new ApiError(503, 'unavailable', 'The panel is starting; try again.');
    const { sha256 } = await context.params;
    // Anything but a hash names no logo: simply not found.
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw notFound('logo');
    const logo = await readLogo(runtime.orm.em.fork(), sha256);
    if (!logo) throw notFound('logo');
    return new Response(new Uint8Array(logo.bytes), {
      headers: {
        ...LOGO_HEADERS,
        'content-type': logo.contentType,
        'content-length': String(logo.bytes.length),
        etag: `"${sha256}"`,
      },
    });
  } catch (error) {
    return errorResponse(error, req);
  }
}
