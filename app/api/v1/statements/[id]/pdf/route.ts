import { apiRoute } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { readStatementPdf } from '@/lib/server/services/statements/read-statements';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  const { filename, pdf } = await readStatementPdf(em, actor, idParam(params, 'statement'));
  return new Response(new Uint8Array(pdf), {
    headers: {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'private, no-store',
    },
  });
});
