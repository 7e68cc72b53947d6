import { apiRoute, json, noContent, parseBody, readJson } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { assertCan } from '@/lib/server/authz/can';
import { findScopedUser, toUserDto } from '@/lib/server/services/users/user-access';
import { updateUser } from '@/lib/server/services/users/update-user';
import { deleteUser } from '@/lib/server/services/users/delete-user';
import { invalidInput } from '@/lib/server/errors/domain-error';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  assertCan(actor, 'users:read');
  return json(toUserDto(await findScopedUser(em, actor, idParam(params, 'user'))));
});

export const PATCH = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'user');
  const body = await readJson(req);
  // Removing a user's group is impossible (DESIGN §1): say so plainly.
  if (body && typeof body === 'object' && 'groupId' in body && body.groupId === null) {
    throw invalidInput({
      groupId: 'a user always has exactly one group; give another one instead',
    });
  }
  return json(
    await updateUser(em, actor, id, parseBody(body, API_REGISTRY['/users/{id}'].PATCH.body)),
  );
});

export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  await deleteUser(em, actor, idParam(params, 'user'));
  return noContent();
});
