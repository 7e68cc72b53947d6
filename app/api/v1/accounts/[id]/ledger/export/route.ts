import { apiRoute, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { exportLedger } from '@/lib/server/services/ledger/list-ledger';
import { csvHeaders } from '@/lib/server/services/csv';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { downloadOf } from '@/lib/server/api/download';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ req, params, actor, em, credential }) => {
  const id = idParam(params, 'account');
  const query = readQuery(req, API_REGISTRY['/accounts/{id}/ledger/export'].GET.query);
  const { filename, stream } = await exportLedger(
    em,
    actor,
    id,
    query,
    downloadOf({ em, actor, credential }),
  );
  return new Response(stream, { headers: csvHeaders(filename) });
});
