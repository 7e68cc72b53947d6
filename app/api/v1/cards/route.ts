import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { listCards } from '@/lib/server/services/cards/list-cards';
import { createCard } from '@/lib/server/services/cards/create-card';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await listCards(em, actor, readQuery(req, API_REGISTRY['/cards'].GET.query))),
);

export const POST = apiRoute(async ({ req, actor, em }) =>
  json(await createCard(em, actor, await readBody(req, API_REGISTRY['/cards'].POST.body)), 201),
);
