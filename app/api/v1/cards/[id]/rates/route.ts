import { apiRoute, json, readBody, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { listRates } from '@/lib/server/services/rates/list-rates';
import { patchRates, replaceRates } from '@/lib/server/services/rates/replace-rates';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ req, params, actor, em }) =>
  json(
    await listRates(
      em,
      actor,
      idParam(params, 'card'),
      readQuery(req, API_REGISTRY['/cards/{id}/rates'].GET.query),
    ),
  ),
);

export const PUT = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'card');
  const body = await readBody(req, API_REGISTRY['/cards/{id}/rates'].PUT.body);
  const liveAt = body.liveAt ? new Date(body.liveAt) : null;
  return json(await replaceRates(em, actor, id, body.rates, liveAt, body.version));
});

/** A few rows changed by hand: added, replaced or removed; the rest of the set kept. */
export const PATCH = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'card');
  const body = await readBody(req, API_REGISTRY['/cards/{id}/rates'].PATCH.body);
  return json(await patchRates(em, actor, id, body));
});
