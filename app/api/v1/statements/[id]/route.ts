import { apiRoute, json } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { readStatement } from '@/lib/server/services/statements/read-statements';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  return json(await readStatement(em, actor, idParam(params, 'statement')));
});
