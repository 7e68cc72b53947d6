import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { listLedger } from '@/lib/server/services/ledger/list-ledger';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'account');
  const query = readQuery(req, API_REGISTRY['/accounts/{id}/ledger'].GET.query);
  return json(await listLedger(em, actor, id, query));
});
