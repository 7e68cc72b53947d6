import { apiRoute, noContent } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { deleteAssignment } from '@/lib/server/services/assignments/delete-assignment';

export const dynamic = 'force-dynamic';

export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  await deleteAssignment(em, actor, idParam(params, 'assignment'));
  return noContent();
});
