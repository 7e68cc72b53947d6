import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { authorizeCall } from '@/lib/server/services/calls/authorize-call';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await authorizeCall(em, actor, await readBody(req, API_REGISTRY['/authorize'].POST.body))),
);
