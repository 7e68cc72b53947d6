import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { API_REGISTRY } from '@/lib/server/api/registry';
import { ApiToken } from '@/lib/server/entities';
import { afterCursor, decodeCursor, pageOf } from '@/lib/server/services/paging';
import { toTokenDto } from '@/lib/server/services/tokens/token-dto';

export const dynamic = 'force-dynamic';

/**
 * The caller's own tokens, never anyone else's, never a secret: paged like every list
 * (DESIGN §3, `?limit=` and `&cursor=`), oldest first. Only those that still work: one
 * issued before its user's session version moved on (disabled and enabled again, a
 * password or MFA reset by an admin) is refused at every door, and listing it would
 * show a dead credential as live, with a future expiry.
 */
export const GET = apiRoute(async ({ req, actor, em }) => {
  const query = readQuery(req, API_REGISTRY['/tokens'].GET.query);
  const rows = await em.find(
    ApiToken,
    {
      user: actor.userId,
      sessionVersion: actor.sessionVersion,
      ...afterCursor(decodeCursor(query.cursor)),
    },
    { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], limit: query.limit + 1 },
  );
  const page = pageOf(rows, query.limit);
  return json({ items: page.items.map(toTokenDto), nextCursor: page.nextCursor });
});
