import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { transferCustomer } from '@/lib/server/services/accounts/transfer-customer';
import { previewTransfer } from '@/lib/server/services/accounts/preview-transfer';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'customer');
  const operation = API_REGISTRY['/customers/{id}/transfer'].POST;
  const { dryRun } = readQuery(req, operation.query);
  const body = await readBody(req, operation.body);
  return json(
    dryRun === 'true'
      ? await previewTransfer(em, actor, id, body)
      : await transferCustomer(em, actor, id, body),
  );
});
