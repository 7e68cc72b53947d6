import { buildOpenApi } from '@/lib/server/api/openapi';

export const dynamic = 'force-static';

/** Built on the first request: the document is the registry, fixed for the process. */
let document: string | undefined;

/**
 * The API's OpenAPI document, public like any API reference; a shared cache may keep it
 * for a year, as it could when Next served it prerendered.
 */
export function GET() {
  document ??= JSON.stringify(buildOpenApi());
  return new Response(document, {
    headers: { 'content-type': 'application/json', 'cache-control': 's-maxage=31536000' },
  });
}
