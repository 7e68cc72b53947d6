import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { listAudit } from '@/lib/server/services/audit/list-audit';
import { ZAuditQuery } from '@/lib/shared/schemas/audit';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listAudit(em, actor, readQuery(req, ZAuditQuery))),
);
