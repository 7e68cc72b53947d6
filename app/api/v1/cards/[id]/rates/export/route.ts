import { apiRoute } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { exportRates } from '@/lib/server/services/rates/export-rates';
import { csvHeaders } from '@/lib/server/services/csv';
import { downloadOf } from '@/lib/server/api/download';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em, credential }) => {
  const { filename, stream } = await exportRates(
    em,
    actor,
    idParam(params, 'card'),
    downloadOf({ em, actor, credential }),
  );
  return new Response(stream, { headers: csvHeaders(filename) });
});
