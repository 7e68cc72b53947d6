import { apiRoute, json, noContent, readBody } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { assertCan } from '@/lib/server/authz/can';
import { findVisibleCard, toCardDto } from '@/lib/server/services/cards/card-store';
import { updateCard } from '@/lib/server/services/cards/update-card';
import { deleteCard } from '@/lib/server/services/cards/delete-card';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  assertCan(actor, 'cards:read');
  const { card, relation } = await findVisibleCard(em, actor, idParam(params, 'card'));
  return json(toCardDto(card, relation));
});

export const PATCH = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'card');
  return json(
    await updateCard(em, actor, id, await readBody(req, API_REGISTRY['/cards/{id}'].PATCH.body)),
  );
});

export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  await deleteCard(em, actor, idParam(params, 'card'));
  return noContent();
});
