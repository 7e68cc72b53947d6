import { apiRoute, json, noContent, readBody } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { deleteBrand, putBrand, readBrand } from '@/lib/server/services/brands/brands';

export const dynamic = 'force-dynamic';

export const GET = apiRoute<{ id: string }>(async ({ params, actor, em }) =>
  json(await readBrand(em, actor, idParam(params, 'account'))),
);

export const PUT = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'account');
  const body = await readBody(req, API_REGISTRY['/accounts/{id}/brand'].PUT.body);
  const { brand, created } = await putBrand(em, actor, id, body);
  return json(brand, created ? 201 : 200);
});

export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  await deleteBrand(em, actor, idParam(params, 'account'));
  return noContent();
});
