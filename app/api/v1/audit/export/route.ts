import { apiRoute, readQuery } from '@/lib/server/api/handler';
import { exportAudit } from '@/lib/server/services/audit/list-audit';
import { csvHeaders } from '@/lib/server/services/csv';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) => {
  const query = readQuery(req, API_REGISTRY['/audit/export'].GET.query);
  return new Response(await exportAudit(em, actor, query), { headers: csvHeaders('audit.csv') });
});
