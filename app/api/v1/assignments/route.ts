import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listAssignments } from '@/lib/server/services/assignments/list-assignments';
import { createAssignment } from '@/lib/server/services/assignments/create-assignment';
import { ZAssignmentCreate, ZAssignmentListQuery } from '@/lib/shared/schemas/cards';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listAssignments(em, actor, readQuery(req, ZAssignmentListQuery))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await createAssignment(em, actor, await readBody(req, ZAssignmentCreate)), 201),
);
