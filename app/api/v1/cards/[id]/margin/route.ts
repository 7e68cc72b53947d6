import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { marginReport } from '@/lib/server/services/cards/margin-report';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ req, params, actor, em }) =>
  json(
    await marginReport(
      em,
      actor,
      idParam(params, 'card'),
      readQuery(req, API_REGISTRY['/cards/{id}/margin'].GET.query),
    ),
  ),
);
