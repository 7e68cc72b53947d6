import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listGroups } from '@/lib/server/services/groups/list-groups';
import { createGroup } from '@/lib/server/services/groups/create-group';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listGroups(em, actor, readQuery(req, API_REGISTRY['/groups'].GET.query))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await createGroup(em, actor, await readBody(req, API_REGISTRY['/groups'].POST.body)), 201),
);
