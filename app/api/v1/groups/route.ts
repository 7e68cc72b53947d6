import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listGroups } from '@/lib/server/services/groups/list-groups';
import { createGroup } from '@/lib/server/services/groups/create-group';
import { ZGroupCreate } from '@/lib/shared/schemas/groups';
import { ZPageQuery } from '@/lib/shared/schemas/common';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listGroups(em, actor, readQuery(req, ZPageQuery))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await createGroup(em, actor, await readBody(req, ZGroupCreate)), 201),
);
