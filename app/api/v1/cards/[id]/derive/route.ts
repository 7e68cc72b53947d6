import { apiRoute, json, readBody } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { deriveCard } from '@/lib/server/services/cards/derive-card';
import { ZCardDerive } from '@/lib/shared/schemas/cards';

export const dynamic = 'force-dynamic';

export const POST = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'card');
  return json(await deriveCard(em, actor, id, await readBody(req, ZCardDerive)), 201);
});
