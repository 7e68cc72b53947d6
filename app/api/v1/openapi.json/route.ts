import { buildOpenApi } from '@/lib/server/api/openapi';

export const dynamic = 'force-static';

/** The API's OpenAPI document, public like any API reference. */
export function GET() {
  return Response.json(buildOpenApi());
}
