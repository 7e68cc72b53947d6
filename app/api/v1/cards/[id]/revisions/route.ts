import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { listRevisions } from '@/lib/server/services/rates/revision-queries';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ req, params, actor, em }) =>
  json(
    await listRevisions(
      em,
      actor,
      idParam(params, 'card'),
      readQuery(req, API_REGISTRY['/cards/{id}/revisions'].GET.query),
    ),
  ),
);
