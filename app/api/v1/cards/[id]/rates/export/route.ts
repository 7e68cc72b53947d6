import { apiRoute } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { exportRates } from '@/lib/server/services/rates/export-rates';
import { csvHeaders } from '@/lib/server/services/csv';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  const { filename, stream } = await exportRates(em, actor, idParam(params, 'card'));
  return new Response(stream, { headers: csvHeaders(filename) });
});
