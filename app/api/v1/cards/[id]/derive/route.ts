import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { deriveCard } from '@/lib/server/services/cards/derive-card';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const POST = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'card');
  return json(
    await deriveCard(
      em,
      actor,
      id,
      await readBody(req, API_REGISTRY['/cards/{id}/derive'].POST.body),
    ),
    201,
  );
});
