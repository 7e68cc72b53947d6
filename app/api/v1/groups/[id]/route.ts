import { apiRoute, json, noContent, readBody } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { findVisibleGroup } from '@/lib/server/services/groups/group-access';
import { toGroupDto } from '@/lib/server/services/groups/group-dto';
import { updateGroup } from '@/lib/server/services/groups/update-group';
import { deleteGroup } from '@/lib/server/services/groups/delete-group';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  const { group, relation } = await findVisibleGroup(em, actor, idParam(params, 'group'));
  return json(toGroupDto(group, relation));
});

export const PATCH = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'group');
  return json(
    await updateGroup(em, actor, id, await readBody(req, API_REGISTRY['/groups/{id}'].PATCH.body)),
  );
});

export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  await deleteGroup(em, actor, idParam(params, 'group'));
  return noContent();
});
