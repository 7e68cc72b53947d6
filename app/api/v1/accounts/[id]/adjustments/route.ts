import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { recordAdjustment } from '@/lib/server/services/ledger/record-adjustment';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'account');
  const body = await readBody(req, API_REGISTRY['/accounts/{id}/adjustments'].POST.body);
  const recorded = await recordAdjustment(em, actor, id, body);
  // A retry answers what the first attempt wrote, as a plain 200: nothing was created.
  return json(recorded, recorded.replayed ? 200 : 201);
});
