import { apiRoute, json } from '@/lib/server/api/handler';
import { ApiToken } from '@/lib/server/entities';
import { toTokenDto } from '@/lib/server/services/tokens/token-dto';

export const dynamic = 'force-dynamic';

/** The caller's own tokens, never anyone else's, never a secret. */
export const GET = apiRoute(async ({ actor, em }) => {
  const rows = await em.find(
    ApiToken,
    { user: actor.userId },
    { orderBy: { createdAt: 'asc' }, limit: 500 },
  );
  return json({ items: rows.map(toTokenDto), nextCursor: null });
});
