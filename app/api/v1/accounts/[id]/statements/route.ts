import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { issueStatement } from '@/lib/server/services/statements/issue-statement';
import { listStatements } from '@/lib/server/services/statements/read-statements';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const accountId = idParam(params, 'account');
  const query = readQuery(req, API_REGISTRY['/accounts/{id}/statements'].GET.query);
  return json(await listStatements(em, actor, { ...query, accountId }));
});

export const POST = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'account');
  const body = await readBody(req, API_REGISTRY['/accounts/{id}/statements'].POST.body);
  const { statement, replayed } = await issueStatement(em, actor, id, body);
  // A retried key answers the first statement, as a plain 200: nothing was issued.
  return json(statement, replayed ? 200 : 201);
});
