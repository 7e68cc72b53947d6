import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listUsers } from '@/lib/server/services/users/list-users';
import { createUser } from '@/lib/server/services/users/create-user';
import { ZUserCreate } from '@/lib/shared/schemas/users';
import { ZId, ZPageQuery } from '@/lib/shared/schemas/common';

export const dynamic = 'force-dynamic';

const ZUserListQuery = ZPageQuery.extend({ accountId: ZId.optional() });

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listUsers(em, actor, readQuery(req, ZUserListQuery))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await createUser(em, actor, await readBody(req, ZUserCreate)), 201),
);
