import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { lookupRates } from '@/lib/server/services/lookup/lookup-rates';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ req, actor, em }) =>
  json(await lookupRates(em, actor, readQuery(req, API_REGISTRY['/rates/lookup'].GET.query))),
);
