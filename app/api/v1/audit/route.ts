import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { listAudit } from '@/lib/server/services/audit/list-audit';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listAudit(em, actor, readQuery(req, API_REGISTRY['/audit'].GET.query))),
);
