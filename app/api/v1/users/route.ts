import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listUsers } from '@/lib/server/services/users/list-users';
import { createUser } from '@/lib/server/services/users/create-user';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listUsers(em, actor, readQuery(req, API_REGISTRY['/users'].GET.query))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await createUser(em, actor, await readBody(req, API_REGISTRY['/users'].POST.body)), 201),
);
