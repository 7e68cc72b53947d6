import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listCards } from '@/lib/server/services/cards/list-cards';
import { createCard } from '@/lib/server/services/cards/create-card';
import { ZCardCreate, ZCardListQuery } from '@/lib/shared/schemas/cards';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listCards(em, actor, readQuery(req, ZCardListQuery))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await createCard(em, actor, await readBody(req, ZCardCreate)), 201),
);
