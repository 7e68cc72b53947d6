import { apiRoute, json } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { readBalance } from '@/lib/server/services/ledger/list-ledger';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) =>
  json(await readBalance(em, actor, idParam(params, 'account'))),
);
