import { apiRoute, json, noContent } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { ApiError } from '@/lib/server/api/errors';
import { LOGO_BODY_LIMIT, readBytesLimited } from '@/lib/server/api/body-limit';
import { assertCan } from '@/lib/server/authz/can';
import { deleteBrandLogo, putBrandLogo } from '@/lib/server/services/brands/brand-logo';
import { LOGO_TYPES, type TLogoType } from '@/lib/shared/schemas/brands';

export const dynamic = 'force-dynamic';

/** The logo is the body itself, of one of the logo types (415 otherwise). */
export const PUT = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'account');
  // The grant first, as for the brand: without it nothing about the body is said.
  assertCan(actor, 'brand:update');
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(LOGO_TYPES as readonly string[]).includes(type)) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      `Send the logo as ${LOGO_TYPES.join(', ')}.`,
      {
        fields: { 'content-type': `must be one of ${LOGO_TYPES.join(', ')}` },
      },
    );
  }
  const body = await readBytesLimited(req, LOGO_BODY_LIMIT);
  return json(await putBrandLogo(em, actor, id, type as TLogoType, body));
});

export const DELETE = apiRoute<{ id: string }>(async ({ params, actor, em }) => {
  await deleteBrandLogo(em, actor, idParam(params, 'account'));
  return noContent();
});
