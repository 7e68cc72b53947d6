import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listAssignments } from '@/lib/server/services/assignments/list-assignments';
import { createAssignment } from '@/lib/server/services/assignments/create-assignment';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listAssignments(em, actor, readQuery(req, API_REGISTRY['/assignments'].GET.query))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(
    await createAssignment(em, actor, await readBody(req, API_REGISTRY['/assignments'].POST.body)),
    201,
  ),
);
