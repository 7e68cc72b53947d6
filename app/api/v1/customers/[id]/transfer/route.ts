import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { transferCustomer } from '@/lib/server/services/accounts/transfer-customer';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'customer');
  return json(
    await transferCustomer(
      em,
      actor,
      id,
      await readBody(req, API_REGISTRY['/customers/{id}/transfer'].POST.body),
    ),
  );
});
